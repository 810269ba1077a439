package templates

import (
	"fmt"
	"html"
	htmltemplate "html/template"
	"strings"
)

// Outlook for Windows renders HTML mail with Word. It gets its own markup in
// conditional comments that every other client skips: a fixed 600 px table
// around the fluid container, its font and spacing rules (outlook.css) and
// a VML button. html/template drops comments from template text, so the
// templates ask for these snippets with {{mso "name"}} and
// {{msoButton URL label}}.

// msoSnippets are the fixed conditional-comment snippets; "head" is built
// from outlook.css by newMSO.
var msoFixed = map[string]string{
	// The container is fluid (width 100%, max-width 600px); Word knows no
	// max-width, so it gets a fixed 600 px table around it.
	"open":  `<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`,
	"close": `<!--[if mso]></td></tr></table><![endif]-->`,
	// Closes what msoButton opens: the HTML button between them is hidden from Word.
	"end-not-mso": `<!--<![endif]-->`,
}

type msoSet struct {
	css      string // outlook.css without comments, one line
	snippets map[string]htmltemplate.HTML
}

var cssComment = strings.NewReplacer("\n", " ", "\t", " ")

func newMSO(css string) *msoSet {
	for {
		i := strings.Index(css, "/*")
		if i < 0 {
			break
		}
		j := strings.Index(css[i:], "*/")
		if j < 0 {
			css = css[:i]
			break
		}
		css = css[:i] + css[i+j+2:]
	}
	css = strings.Join(strings.Fields(cssComment.Replace(css)), " ")
	m := &msoSet{css: css, snippets: map[string]htmltemplate.HTML{}}
	for k, v := range msoFixed {
		m.snippets[k] = htmltemplate.HTML(v)
	}
	// PixelsPerInch keeps Word from scaling the layout on high-DPI screens.
	m.snippets["head"] = htmltemplate.HTML(`<!--[if mso]><noscript><xml><o:OfficeDocumentSettings><o:PixelsPerInch>96</o:PixelsPerInch></o:OfficeDocumentSettings></xml></noscript><style>` +
		css + `</style><![endif]-->`)
	return m
}

func (m *msoSet) snippet(name string) (htmltemplate.HTML, error) {
	s, ok := m.snippets[name]
	if !ok {
		return "", fmt.Errorf("mso snippet %q does not exist", name)
	}
	return s, nil
}

// button is a "bulletproof" button: a VML rounded rectangle for Word, then
// the opening of a comment that hides the HTML button that follows from
// Word (closed by {{mso "end-not-mso"}}). url must already be a checked
// http(s) URL (webURL); it and label are escaped here.
func (m *msoSet) button(url, label string) htmltemplate.HTML {
	return htmltemplate.HTML(`<!--[if mso]><v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" xmlns:w="urn:schemas-microsoft-com:office:word" href="` +
		html.EscapeString(url) + `" style="height:44px;v-text-anchor:middle;width:260px" arcsize="8%" strokecolor="#16324f" fillcolor="#16324f"><w:anchorlock/><center style="color:#ffffff;font-family:Arial,sans-serif;font-size:16px;font-weight:bold">` +
		html.EscapeString(label) + `</center></v:roundrect><p style="margin:0 0 20px">&nbsp;</p><![endif]--><!--[if !mso]><!-->`)
}

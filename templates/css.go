package templates

import (
	"bytes"
	"fmt"
	"html"
	htmltemplate "html/template"
	"regexp"
	"strings"

	"github.com/vanng822/go-premailer/premailer"
	xhtml "golang.org/x/net/html"
)

// styler turns the stylesheet into inline attributes. Templates mark every
// styled element with {{css "name"}}. At New the templates run once on a
// sample in collect mode ({{css}} writes class="name" data-css="name" and the
// whole stylesheet goes into <head>); premailer inlines that sample, and the
// attributes it added to each marked element are kept per name. After New the
// styler is read-only: {{css}} writes the kept attributes and <head> gets only
// what cannot be inlined (:root, media queries for dark mode and phones).
type styler struct {
	stylesheet string
	msoCSS     string // Outlook's own rules (outlook.css): their classes are kept too
	collecting bool
	attrs      map[string]htmltemplate.HTMLAttr
	leftover   htmltemplate.CSS
}

const markerAttr = "data-css"

var cssName = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

func newStyler(stylesheet, msoCSS string) *styler {
	return &styler{stylesheet: stylesheet, msoCSS: msoCSS, collecting: true, attrs: map[string]htmltemplate.HTMLAttr{}}
}

func (st *styler) attr(name string) (htmltemplate.HTMLAttr, error) {
	if st.collecting {
		if !cssName.MatchString(name) {
			return "", fmt.Errorf("css name %q: use lower-case letters, digits and dashes", name)
		}
		return htmltemplate.HTMLAttr(`class="` + name + `" ` + markerAttr + `="` + name + `"`), nil
	}
	a, ok := st.attrs[name]
	if !ok {
		return "", fmt.Errorf("css name %q was not seen when the CSS was inlined: add a case using it to the sample digest", name)
	}
	return a, nil
}

func (st *styler) head() htmltemplate.CSS {
	if st.collecting {
		return htmltemplate.CSS(st.stylesheet)
	}
	return htmltemplate.CSS(minifyCSS(string(st.leftover)))
}

// minifyCSS drops the whitespace premailer leaves around the punctuation of
// the head rules ("{", "}", ":", ";", ",") and folds other runs of
// whitespace into one space, one rule per line: the same rules in fewer
// bytes per message.
// The head rules hold no strings or comments, where that would matter.
func minifyCSS(css string) string {
	var b strings.Builder
	b.Grow(len(css))
	space := false
	for i := 0; i < len(css); i++ {
		c := css[i]
		if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			space = true
			continue
		}
		if space && b.Len() > 0 && !strings.ContainsRune("{}:;,", rune(c)) && !strings.ContainsRune("{}:;,\n", rune(b.String()[b.Len()-1])) {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
		if c == '}' {
			// One rule per line: the part must stay within SMTP's 998
			// octets per line to go 8bit (mailer/wire.go).
			b.WriteByte('\n')
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// collect inlines the CSS of one sample document rendered in collect mode and
// records, per css name, the attributes premailer added. The same name must
// come out the same everywhere.
func (st *styler) collect(doc string) error {
	p, err := premailer.NewPremailerFromString(doc, premailer.NewOptions())
	if err != nil {
		return fmt.Errorf("inline CSS: %w", err)
	}
	out, err := p.Transform()
	if err != nil {
		return fmt.Errorf("inline CSS: %w", err)
	}
	before, err := markedElements(doc)
	if err != nil {
		return err
	}
	after, err := markedElements(out)
	if err != nil {
		return err
	}
	if len(before) != len(after) {
		return fmt.Errorf("inline CSS: %d marked elements before premailer, %d after", len(before), len(after))
	}
	leftover, err := headStyle(out)
	if err != nil {
		return err
	}
	if st.leftover != "" && st.leftover != leftover {
		return fmt.Errorf("inline CSS: head styles differ between templates")
	}
	st.leftover = leftover
	for i, el := range after {
		name := attrVal(el, markerAttr)
		a, err := addedAttrs(before[i], el, string(leftover)+" "+st.msoCSS)
		if err != nil {
			return fmt.Errorf("inline CSS for %q: %w", name, err)
		}
		if prev, ok := st.attrs[name]; ok && prev != a {
			return fmt.Errorf("inline CSS for %q: inlines as %s in one place and %s in another: give the two places different names", name, prev, a)
		}
		st.attrs[name] = a
	}
	return nil
}

// markedElements returns the body elements of doc that have a {{css}} marker,
// in document order. A style attribute without a marker is an error: it would
// either be lost or be inlined per digest.
func markedElements(doc string) ([]*xhtml.Node, error) {
	root, err := xhtml.Parse(strings.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("inline CSS: parse sample: %w", err)
	}
	var els []*xhtml.Node
	var walk func(n *xhtml.Node, inBody bool)
	walk = func(n *xhtml.Node, inBody bool) {
		if n.Type == xhtml.ElementNode {
			inBody = inBody || n.Data == "body"
			switch {
			case !inBody:
			case attrVal(n, markerAttr) != "":
				els = append(els, n)
			case attrVal(n, "style") != "" && err == nil:
				err = fmt.Errorf("inline CSS: <%s> has a style but no {{css \"name\"}}: style it through the stylesheet", n.Data)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inBody)
		}
	}
	walk(root, false)
	return els, err
}

// headStyle returns the text of the <style> elements premailer left in <head>.
func headStyle(doc string) (htmltemplate.CSS, error) {
	root, err := xhtml.Parse(strings.NewReader(doc))
	if err != nil {
		return "", fmt.Errorf("inline CSS: parse result: %w", err)
	}
	var b strings.Builder
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && n.Data == "style" {
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				b.WriteString(c.Data)
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return htmltemplate.CSS(strings.TrimSpace(b.String())), nil
}

// addedAttrs renders the attributes premailer added to el (style, width,
// height), plus the class when a head rule still needs it.
func addedAttrs(before, after *xhtml.Node, headCSS string) (htmltemplate.HTMLAttr, error) {
	var b bytes.Buffer
	name := attrVal(after, markerAttr)
	if strings.Contains(headCSS, "."+name+" ") || strings.Contains(headCSS, "."+name+",") || strings.Contains(headCSS, "."+name+"{") {
		b.WriteString(`class="` + name + `"`)
	}
	for _, a := range after.Attr {
		if a.Namespace != "" || a.Key == "class" || a.Key == markerAttr {
			continue
		}
		if old, ok := hasAttr(before, a.Key); ok {
			if old != a.Val {
				return "", fmt.Errorf("premailer changed %s=%q to %q: drop the attribute from the template or the property from the CSS", a.Key, old, a.Val)
			}
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a.Key + `="` + html.EscapeString(a.Val) + `"`)
	}
	return htmltemplate.HTMLAttr(b.String()), nil
}

func attrVal(n *xhtml.Node, key string) string {
	v, _ := hasAttr(n, key)
	return v
}

func hasAttr(n *xhtml.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

package templates

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
)

//go:embed snippet/form.html
var snippetFS embed.FS

// SnippetChoice is a preselected region or topic of an embeddable form.
type SnippetChoice struct{ Value, Label string }

// Snippet is what the embeddable signup form shows and posts.
type Snippet struct {
	Site        string          // newsletter name
	Sender      string          // sender address named in the consent sentence
	Action      string          // absolute URL of POST /subscribe
	FullFormURL string          // absolute URL of the full form with the same preselection
	PrivacyURL  string          // "" = no link
	Regions     []SnippetChoice // sent as hidden fields
	Topics      []SnippetChoice
	Cadence     string // "weekly" or "daily"
	Honeypot    string // name of the field people never see
}

// RegionNames and TopicNames are the labels for the consent sentence.
func (s Snippet) RegionNames() []string { return labels(s.Regions) }
func (s Snippet) TopicNames() []string  { return labels(s.Topics) }

func labels(cs []SnippetChoice) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Label)
	}
	return out
}

// WriteSnippet writes the self-contained signup form (plain HTML, no script,
// no external assets) that a portal's CMS can paste into any page.
func WriteSnippet(w io.Writer, s Snippet) error {
	t, err := htmltemplate.New("form.html").Funcs(htmltemplate.FuncMap{"join": strings.Join}).ParseFS(snippetFS, "snippet/form.html")
	if err != nil {
		return fmt.Errorf("templates: parse signup snippet: %w", err)
	}
	if !strings.HasPrefix(s.Action, "https://") && !strings.HasPrefix(s.Action, "http://") {
		return fmt.Errorf("templates: signup snippet action %q: want an absolute http(s) URL", s.Action)
	}
	// html/template drops comments from templates: write this one as it is.
	if _, err := io.WriteString(w, "<!-- Anmeldeformular (digest form): reines HTML ohne Skript und ohne externe Dateien.\n"+
		"     Die Anmeldung wird erst wirksam, wenn der Leser den Link in der Bestätigungs-E-Mail anklickt. -->\n"); err != nil {
		return err
	}
	if err := t.Execute(w, s); err != nil {
		return fmt.Errorf("templates: render signup snippet: %w", err)
	}
	return nil
}

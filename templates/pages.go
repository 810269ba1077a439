package templates

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"strings"
)

//go:embed pages
var pagesFS embed.FS

// Pages holds the subscriber-facing web pages (unsubscribe, confirm,
// preferences, messages), German, self-contained (inline CSS, no external
// assets, no scripts). It is parsed once by NewPages and safe for concurrent use.
//
// Each page file defines "heading" (used as <title> and <h1>) and "content";
// layout.html wraps them. The data is whatever the caller passes (the
// subscribers package's PageData); the templates escape every value.
type Pages struct {
	page map[string]*htmltemplate.Template
}

// NewPages parses the embedded page templates; a broken one is an error at start.
func NewPages() (*Pages, error) {
	sub, err := fs.Sub(pagesFS, "pages")
	if err != nil {
		return nil, fmt.Errorf("templates: pages: %w", err)
	}
	return parsePages(sub)
}

func parsePages(fsys fs.FS) (*Pages, error) {
	layout, err := htmltemplate.New("layout.html").Funcs(htmltemplate.FuncMap{
		"join": strings.Join,
	}).ParseFS(fsys, "layout.html", "style.css")
	if err != nil {
		return nil, fmt.Errorf("templates: parse page layout: %w", err)
	}
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: pages: %w", err)
	}
	p := &Pages{page: map[string]*htmltemplate.Template{}}
	for _, n := range names {
		if n == "layout.html" {
			continue
		}
		t, err := layout.Clone()
		if err == nil {
			t, err = t.ParseFS(fsys, n)
		}
		if err != nil {
			return nil, fmt.Errorf("templates: parse page %s: %w", n, err)
		}
		for _, part := range []string{"heading", "content"} {
			if t.Lookup(part) == nil {
				return nil, fmt.Errorf("templates: page %s defines no %q", n, part)
			}
		}
		p.page[strings.TrimSuffix(n, ".html")] = t
	}
	return p, nil
}

// Render writes the page named name ("unsubscribe", "confirm", "preferences",
// "message") with data.
func (p *Pages) Render(w io.Writer, name string, data any) error {
	t, ok := p.page[name]
	if !ok {
		return fmt.Errorf("templates: no page %q", name)
	}
	if err := t.ExecuteTemplate(w, "layout.html", data); err != nil {
		return fmt.Errorf("templates: render page %s: %w", name, err)
	}
	return nil
}

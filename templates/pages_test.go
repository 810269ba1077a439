package templates

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestPages_BrokenTemplateFailsAtStart(t *testing.T) {
	layout := `<html>{{template "heading" .}}{{template "content" .}}</html>`
	for name, fsys := range map[string]fstest.MapFS{
		"noContent": {"layout.html": {Data: []byte(layout)}, "style.css": {Data: []byte("")},
			"x.html": {Data: []byte(`{{define "heading"}}H{{end}}`)}},
		"syntax": {"layout.html": {Data: []byte(layout)}, "style.css": {Data: []byte("")},
			"x.html": {Data: []byte(`{{define "heading"}}H{{end}}{{define "content"}}{{if}}{{end}}`)}},
		"noLayout": {"x.html": {Data: []byte(`{{define "heading"}}H{{end}}`)}},
	} {
		if _, err := parsePages(fsys); err == nil {
			t.Errorf("%s: parsePages succeeded", name)
		}
	}
}

func TestPages_RenderEscapes(t *testing.T) {
	p, err := NewPages()
	if err != nil {
		t.Fatal(err)
	}
	data := struct {
		Site, Kind, Email, Name, State, Action, PreferencesURL, UnsubscribeURL, ResubscribeAction string
		Done, Resubscribed                                                                        bool
	}{Site: `<b>Site</b>`, Email: `"><script>x()</script>@example.org`, State: "active", Action: "javascript:alert(1)",
		PreferencesURL: "/preferences?t=a"}
	var b strings.Builder
	if err := p.Render(&b, "unsubscribe", data); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"<script>", "<b>Site</b>", `action="javascript:`} {
		if strings.Contains(out, bad) {
			t.Errorf("page contains %q unescaped:\n%s", bad, out)
		}
	}
	if err := p.Render(&b, "nosuchpage", data); err == nil {
		t.Error("unknown page rendered")
	}
}

package templates

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// emailFiles copies the embedded templates so a test can break one.
func emailFiles(t *testing.T) fstest.MapFS {
	t.Helper()
	sub, err := fs.Sub(emailFS, "email")
	if err != nil {
		t.Fatal(err)
	}
	m := fstest.MapFS{}
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, path)
		m[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestParseSet_Broken(t *testing.T) {
	edit := func(file, old, new string) func(fstest.MapFS) {
		return func(m fstest.MapFS) {
			s := string(m[file].Data)
			if !strings.Contains(s, old) {
				panic(file + " lacks " + old)
			}
			m[file] = &fstest.MapFile{Data: []byte(strings.Replace(s, old, new, 1))}
		}
	}
	tests := []struct {
		name   string
		break_ func(fstest.MapFS)
		want   string
	}{
		{"unclosed action in HTML", edit("digest.html", "{{.Intro}}", "{{.Intro"), "digest.html"},
		{"unclosed range in HTML", edit("digest.html", "{{- end}}\n</td></tr></table>", "\n</td></tr></table>"), "digest.html"},
		{"syntax error in text", edit("digest.txt", "{{wrap .Intro}}", "{{wrap .Intro}"), "digest.txt"},
		{"unknown function", edit("subject.txt", "{{.CountPhrase}}", "{{plural .CountPhrase}}"), "plural"},
		{"unknown field, found by the self-test", edit("digest.html", "{{.Intro}}", "{{.Introduction}}"), "Introduction"},
		{"unknown field in a rarely taken branch", edit("digest.html", "und {{.MoreText}}", "und {{.MoreTxt}}"), "MoreTxt"},
		{"inline style outside the stylesheet", edit("digest.html", `<div {{css "intro"}}>`, `<div style="color:red">`), "no {{css"},
		{"bad css name", edit("digest.html", `{{css "intro"}}`, `{{css "Intro Text"}}`), "Intro Text"},
		{"missing template", func(m fstest.MapFS) { delete(m, "confirm.txt") }, "confirm.txt"},
		{"missing stylesheet", func(m fstest.MapFS) { delete(m, "style.css") }, "style.css"},
		{"one name styled two ways by a descendant rule", func(m fstest.MapFS) {
			edit("style.css", ".toc-line {", ".toc .greeting { color: #000000; }\n.toc-line {")(m)
			edit("digest.html", `<div {{css "toc-heading"}}>`, `<div {{css "greeting"}}>`)(m)
		}, "different names"},
		{"template attribute fights the stylesheet", edit("style.css", ".container {", ".container { width: 640px; "), `width="100%"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := emailFiles(t)
			if _, err := parseSet(m, testSite()); err != nil {
				t.Fatalf("unbroken copy: %v", err)
			}
			tt.break_(m)
			_, err := parseSet(m, testSite())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseSet error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestNew_BadSite(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Site)
		want string
	}{
		{"no name", func(s *Site) { s.Name = " \r\n" }, "site name"},
		{"portal not a web URL", func(s *Site) { s.PortalURL = "javascript:alert(1)" }, "portal URL"},
		{"relative portal", func(s *Site) { s.PortalURL = "www.kommune21.de" }, "portal URL"},
		{"reply address with a header", func(s *Site) { s.ReplyTo = "a@b.example\r\nBcc: c@d.example" }, "reply address"},
	}
	for _, tt := range tests {
		site := testSite()
		tt.edit(&site)
		if _, err := New(site); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New error = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
}

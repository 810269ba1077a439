package mailer_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kommune21/digest/mailer"
)

func fileConn(t *testing.T, dir string, dkim mailer.DKIMConfig) mailer.Conn {
	t.Helper()
	cfg, err := mailer.ParseURL("file:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DKIM = dkim
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tr.String() != "file:"+dir {
		t.Errorf("String = %q", tr.String())
	}
	return open(t, tr)
}

func TestFileTransport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outbox", "nested") // created on Open
	c := fileConn(t, dir, mailer.DKIMConfig{})
	m := sample("r12.d3456@digest.kommune21.example", "juergen@example.org")
	if err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	m2 := sample("r12.d3456@digest.kommune21.example", "juergen@example.org")
	m2.Subject = "Zweiter Versuch"
	if err := c.Send(context.Background(), m2); err != nil { // same ID: replaces the file
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "r12.d3456@digest.kommune21.example.eml" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files %q, want exactly r12.d3456@digest.kommune21.example.eml", names)
	}
	data, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, data)
	if g := decodeHeader(t, p.Header.Get("Subject")); g != "Zweiter Versuch" {
		t.Errorf("Subject = %q", g)
	}
	if g := p.Header.Get("List-Unsubscribe-Post"); g != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", g)
	}
	if len(p.Parts) != 2 || p.Parts[0].ContentType != "text/plain" || p.Parts[1].ContentType != "text/html" {
		t.Errorf("parts %+v", p.Parts)
	}
	if !strings.Contains(string(data), "\r\n") {
		t.Errorf("file does not use CRLF like SMTP does")
	}
}

func TestFileName(t *testing.T) {
	for id, want := range map[string]string{
		"r1.d2@digest.example.org": "r1.d2@digest.example.org.eml",
		"../../etc/passwd@x":       "_._.._etc_passwd@x-",
		"a/b@x":                    "a_b@x-",
		".hidden@x":                "_hidden@x-",
	} {
		got := mailer.FileName(id)
		if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, ".eml") || strings.ContainsAny(got, "/\\") {
			t.Errorf("FileName(%q) = %q, want prefix %q", id, got, want)
		}
	}
	if mailer.FileName("a/b@x") == mailer.FileName("a_b@x") {
		t.Errorf("different IDs share a file name")
	}
}

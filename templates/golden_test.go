package templates

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	xhtml "golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./templates -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; look at the change with -update and git diff\n%s", name, firstDiff(want, got))
	}
}

func firstDiff(want, got []byte) string {
	wl, gl := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g []byte
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if !bytes.Equal(w, g) {
			return "line " + strconv.Itoa(i+1) + ":\n want: " + string(w) + "\n  got: " + string(g)
		}
	}
	return ""
}

func TestDigest_Golden(t *testing.T) {
	s := mustNew(t)
	p := mustPrepare(t, s, goldenDigest())
	var h, x bytes.Buffer
	p.Render(goldenRecipient(), &h, &x)
	golden(t, "digest.subject.txt", []byte(p.Subject()+"\n"))
	golden(t, "digest.html", h.Bytes())
	golden(t, "digest.txt", x.Bytes())
}

// TestWebView_Golden is the browser view ("Im Browser ansehen") of the
// golden digest: the same articles, nothing of the recipient.
func TestWebView_Golden(t *testing.T) {
	s := mustNew(t)
	page, err := s.WebView(goldenDigest())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "webview.html", page)
	r := goldenRecipient()
	for _, personal := range []string{r.Email, "Mustermann", "unsubscribe", "preferences", "archive?t=", "Guten Tag", "Einstellungen", "Abmelden", "E-Mail ging an"} {
		if bytes.Contains(page, []byte(personal)) {
			t.Errorf("browser view shows %q", personal)
		}
	}
	for _, want := range []string{"Kommunen bündeln Kräfte", "Diese Ausgabe enthält 6 neue Artikel", `<meta name="robots" content="noindex">`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("browser view lacks %q", want)
		}
	}
}

func TestConfirmation_Golden(t *testing.T) {
	s := mustNew(t)
	subject, text, html, err := s.Confirmation("Erika Mustermann", "erika.mustermann@example.org", "https://digest.kommune21.example/confirm?t=v1.QwErTy4567")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "confirm.subject.txt", []byte(subject+"\n"))
	golden(t, "confirm.html", []byte(html))
	golden(t, "confirm.txt", []byte(text))
}

func TestLinks_Golden(t *testing.T) {
	s := mustNew(t)
	for _, already := range []bool{false, true} {
		subject, text, html, err := s.Links("Erika Mustermann", "erika.mustermann@example.org",
			"https://digest.kommune21.example/preferences?t=v1.PrEf", "https://digest.kommune21.example/unsubscribe?t=v1.UnSub", already)
		if err != nil {
			t.Fatal(err)
		}
		name := "links"
		if already {
			name = "links-already"
		}
		golden(t, name+".subject.txt", []byte(subject+"\n"))
		golden(t, name+".html", []byte(html))
		golden(t, name+".txt", []byte(text))
	}
	if _, _, _, err := s.Links("", "a@example.org", "/preferences?t=x", "https://x.example/u", false); err == nil {
		t.Error("a relative URL was accepted")
	}
}

// TestDigest_WellFormedForMailClients checks what the CSS inlining promises:
// no attribute twice on an element, no collect-mode markers left, a style on
// every visible text element, lang="de", and nothing loaded from outside.
func TestDigest_WellFormedForMailClients(t *testing.T) {
	s := mustNew(t)
	p := mustPrepare(t, s, goldenDigest())
	var h, x bytes.Buffer
	p.Render(goldenRecipient(), &h, &x)
	z := xhtml.NewTokenizer(bytes.NewReader(h.Bytes()))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		seen := map[string]bool{}
		for _, a := range tok.Attr {
			if seen[a.Key] {
				t.Errorf("<%s> has %s twice", tok.Data, a.Key)
			}
			seen[a.Key] = true
			if a.Key == markerAttr {
				t.Errorf("<%s> keeps the collect-mode marker", tok.Data)
			}
			if a.Key == "src" || (a.Key == "href" && tok.Data == "link") {
				t.Errorf("<%s> loads %s from outside", tok.Data, a.Val)
			}
		}
		switch tok.Data {
		case "p", "h2", "h3", "a", "td", "body":
			if !seen["style"] {
				t.Errorf("<%s %v> has no inline style", tok.Data, tok.Attr)
			}
		case "html":
			if !seen["lang"] || tok.Attr[0].Val != "de" {
				t.Errorf("<html> wants lang=\"de\", has %v", tok.Attr)
			}
		}
	}
	if !bytes.Contains(h.Bytes(), []byte(`<meta name="color-scheme" content="light dark">`)) {
		t.Error("missing color-scheme meta")
	}
}

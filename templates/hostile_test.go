package templates

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"
)

func hostileDigest() Digest {
	at := time.Date(2026, 2, 19, 7, 0, 0, 0, berlin)
	evil := Named{"evil", `<b onclick="x">Böse</b>`}
	return Digest{
		Cadence: "weekly", Edition: "2026-W08", At: at,
		Regions: []Named{{"DE-XX", "Land<script>alert(1)</script>"}},
		Topics:  []Named{evil},
		Articles: []Article{
			{ID: 1, URL: `https://evil.example/a"onmouseover="alert(1)`, Kicker: "Kick\r\nBcc: x@evil",
				Title:       `Eve</b><script>alert(1)</script>`,
				Teaser:      `Tom &amp; Jerry <script>alert('x')</script> "zitiert" <img src=x onerror=alert(1)>`,
				PublishedAt: at, Topics: []Named{evil}},
			{ID: 2, URL: "javascript:alert(1)", Title: "JS link", Teaser: "x", PublishedAt: at},
			{ID: 3, URL: " JAVASCRIPT:alert(1)", Title: "JS upper", Teaser: "x", PublishedAt: at},
			{ID: 4, URL: "java\nscript:alert(1)", Title: "JS split", Teaser: "x", PublishedAt: at},
			{ID: 5, URL: "data:text/html,<script>alert(1)</script>", Title: "data URL", Teaser: "x", PublishedAt: at},
			{ID: 6, URL: "//evil.example/relative", Title: "scheme-relative", Teaser: "x", PublishedAt: at},
		},
	}
}

// htmlFacts tokenizes an HTML part the way a mail client would and returns
// the element names, every href, every attribute name and the visible text.
type htmlFacts struct {
	tags, hrefs, attrs []string
	text               string
}

func parseFacts(t *testing.T, doc []byte) htmlFacts {
	t.Helper()
	var f htmlFacts
	var text strings.Builder
	z := xhtml.NewTokenizer(bytes.NewReader(doc))
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			if z.Err() != io.EOF {
				t.Fatalf("tokenize: %v", z.Err())
			}
			f.text = text.String()
			return f
		case xhtml.TextToken:
			text.Write(z.Text())
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			f.tags = append(f.tags, tok.Data)
			for _, a := range tok.Attr {
				f.attrs = append(f.attrs, a.Key)
				if a.Key == "href" {
					f.hrefs = append(f.hrefs, a.Val)
				}
			}
		}
	}
}

func checkHTMLHarmless(t *testing.T, doc []byte) htmlFacts {
	t.Helper()
	f := parseFacts(t, doc)
	for _, tag := range f.tags {
		if tag == "script" || tag == "img" || tag == "iframe" {
			t.Errorf("HTML part has a live <%s> element", tag)
		}
	}
	for _, a := range f.attrs {
		if strings.HasPrefix(a, "on") {
			t.Errorf("HTML part has an event handler attribute %q", a)
		}
	}
	for _, h := range f.hrefs {
		if !(strings.HasPrefix(h, "https://") || strings.HasPrefix(h, "http://") || strings.HasPrefix(h, "#") || strings.HasPrefix(h, "mailto:")) {
			t.Errorf("HTML part links to %q", h)
		}
	}
	return f
}

func TestRender_HostileContent(t *testing.T) {
	s := mustNew(t)
	p := mustPrepare(t, s, hostileDigest())
	recipients := []Recipient{
		{Name: "Eve</b><script>", Email: "eve@example.org", UnsubscribeURL: "javascript:alert(1)", PreferencesURL: `https://x.example/p?t=1"><script>alert(1)</script>`},
		{Name: "Bob\r\nBcc: x@evil", Email: "bob@example.org\r\nBcc: y@evil", UnsubscribeURL: "https://x.example/u?t=2&x=\r\nBcc:", PreferencesURL: "https://x.example/p?t=2"},
	}
	for _, r := range recipients {
		var h, x bytes.Buffer
		p.Render(r, &h, &x)
		f := checkHTMLHarmless(t, h.Bytes())

		for _, want := range []string{
			"Guten Tag, " + cleanLine(r.Name, 100) + ",",          // the name is shown as text, markup and all
			"Eve</b><script>alert(1)</script>",                    // a title with markup is text too
			"Tom & Jerry <script>alert('x')</script> \"zitiert\"", // entity decoded once, then escaped
			"Kick Bcc: x@evil",                                    // line breaks in a kicker become spaces
			`<b onclick="x">Böse</b>`,                             // topic names are escaped
		} {
			if !strings.Contains(f.text, want) {
				t.Errorf("HTML part for %q does not show %q as text", r.Name, want)
			}
		}
		if bytes.Contains(h.Bytes(), []byte("&amp;amp;")) {
			t.Error("HTML part double-escapes &amp;")
		}
		if strings.Count(strings.Join(f.hrefs, " "), "evil.example") != 3 {
			t.Errorf("want the quoted URL linked three times (contents, title, mehr…) with its quote encoded, hrefs: %q", f.hrefs)
		}
		for _, h := range f.hrefs {
			if strings.Contains(h, `"`) || strings.Contains(h, "<") {
				t.Errorf("href %q keeps a quote or bracket", h)
			}
		}
		for _, title := range []string{"JS link", "JS upper", "JS split", "data URL", "scheme-relative"} {
			if !strings.Contains(f.text, title) {
				t.Errorf("article %q with a non-web URL is missing; it should be shown without a link", title)
			}
		}

		text := x.String()
		if strings.ContainsAny(text, "\r\x00") {
			t.Errorf("text part for %q contains CR or NUL", r.Name)
		}
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(line, "Bcc:") {
				t.Errorf("text part for %q has a line %q", r.Name, line)
			}
		}
		for _, bad := range []string{"javascript:", "JAVASCRIPT:", "data:text", "<//evil"} {
			if strings.Contains(text, "<"+bad) {
				t.Errorf("text part links %s", bad)
			}
		}
	}
}

func TestRender_TwoRecipientsNeverMix(t *testing.T) {
	s := mustNew(t)
	p := mustPrepare(t, s, goldenDigest())
	a := Recipient{Name: "Anna", Email: "anna@example.org", UnsubscribeURL: "https://x.example/u?t=AAAA", PreferencesURL: "https://x.example/p?t=AAAA"}
	b := Recipient{Name: "", Email: "bert@example.org", UnsubscribeURL: "https://x.example/u?t=BBBB", PreferencesURL: "https://x.example/p?t=BBBB"}

	render := func(r Recipient) (string, string) {
		var h, x bytes.Buffer
		p.Render(r, &h, &x)
		return h.String(), x.String()
	}
	ah, at := render(a)
	bh, bt := render(b)
	for part, s := range map[string]string{"A html": ah, "A text": at} {
		if strings.Contains(s, "BBBB") || strings.Contains(s, "bert@") {
			t.Errorf("%s contains B's values", part)
		}
		if strings.Count(s, "AAAA") != 2 || !strings.Contains(s, "Guten Tag, Anna,") {
			t.Errorf("%s: want A's two links and greeting", part)
		}
	}
	for part, s := range map[string]string{"B html": bh, "B text": bt} {
		if strings.Contains(s, "AAAA") || strings.Contains(s, "anna@") || strings.Contains(s, "Anna") {
			t.Errorf("%s contains A's values", part)
		}
		if strings.Count(s, "BBBB") != 2 || !strings.Contains(s, "Guten Tag,") || strings.Contains(s, "Guten Tag, ,") {
			t.Errorf("%s: want B's two links and the neutral greeting", part)
		}
	}

	// Concurrent renders of one Prepared give exactly the sequential results.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, wantH, wantT := a, ah, at
			if i%2 == 1 {
				r, wantH, wantT = b, bh, bt
			}
			for range 50 {
				h, x := render(r)
				if h != wantH || x != wantT {
					t.Error("concurrent Render differs from sequential Render")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestRender_AppendsToBuffers(t *testing.T) {
	s := mustNew(t)
	p := mustPrepare(t, s, goldenDigest())
	h := bytes.NewBufferString("HTML-PREFIX")
	x := bytes.NewBufferString("TEXT-PREFIX")
	p.Render(goldenRecipient(), h, x)
	if !strings.HasPrefix(h.String(), "HTML-PREFIX<!DOCTYPE html>") || !strings.HasPrefix(x.String(), "TEXT-PREFIXKommune21 Digest") {
		t.Error("Render must append to the buffers")
	}
}

func FuzzRender(f *testing.F) {
	f.Add("Eve</b><script>", "Kick", "Titel &amp; <b>", "Teaser\r\nmehr...", "https://x.example/a\"b", "https://x.example/u")
	f.Add("Bob\r\nBcc: x@evil", "", "", "", "javascript:alert(1)", "javascript:alert(1)")
	f.Add("\u202eevil", "\x00", "\xff\xfe", "&lt;script&gt;", "http://[::1]:80/", "https://x.example/u?t=1&a=<b>")
	s, err := New(testSite())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, kicker, title, teaser, articleURL, unsubURL string) {
		d := goldenDigest()
		d.Articles = append([]Article{{Kicker: kicker, Title: title, Teaser: teaser, URL: articleURL, Topics: []Named{{kicker, title}}}}, d.Articles...)
		p, err := s.Prepare(d)
		if err != nil {
			t.Fatal(err)
		}
		var h, x bytes.Buffer
		p.Render(Recipient{Name: name, Email: name, UnsubscribeURL: unsubURL, PreferencesURL: articleURL}, &h, &x)
		checkHTMLHarmless(t, h.Bytes())
		if strings.ContainsAny(x.String(), "\r\x00") {
			t.Error("text part contains CR or NUL")
		}
		if bytes.Contains(h.Bytes(), []byte(s.sentinel)) || bytes.Contains(x.Bytes(), []byte(s.sentinel)) {
			t.Error("a recipient marker survived into the output")
		}
	})
}

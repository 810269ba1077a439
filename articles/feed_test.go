package articles

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseFeed_Formats(t *testing.T) {
	t.Run("rss", func(t *testing.T) {
		f, err := ParseFeed("feed.rss", "", mustRead(t, "testdata/feed.rss"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != "rss" || len(f.Items) != 2 {
			t.Fatalf("format %q, %d items", f.Format, len(f.Items))
		}
		it := f.Items[0]
		want := Item{Key: "rss-1", URL: "https://portal.example/meldung/1.html", Kicker: "Kreis Paderborn", Title: "Neues Serviceportal online",
			Teaser: "Der Kreis Paderborn hat ein neues Serviceportal freigeschaltet."}
		if it.Key != want.Key || it.URL != want.URL || it.Kicker != want.Kicker || it.Title != want.Title || it.Teaser != want.Teaser {
			t.Errorf("item = %+v\nwant %+v", it, want)
		}
		if !it.Published.Equal(time.Date(2026, 2, 2, 8, 30, 0, 0, time.UTC)) {
			t.Errorf("published = %v", it.Published)
		}
		it = f.Items[1]
		if it.Key != "https://portal.example/meldung/2.html" || it.Kicker != "" || it.Title != "Neuigkeiten ohne Kicker" || !it.Published.IsZero() {
			t.Errorf("item without guid, kicker and date = %+v", it)
		}
		if strings.Join(it.Categories, "|") != "Thüringen|OZG" {
			t.Errorf("categories = %q", it.Categories)
		}
	})
	t.Run("atom", func(t *testing.T) {
		f, err := ParseFeed("feed.atom", "", mustRead(t, "testdata/feed.atom"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != "atom" || len(f.Items) != 2 {
			t.Fatalf("format %q, %d items", f.Format, len(f.Items))
		}
		it := f.Items[0]
		if it.Key != "urn:example:atom-1" || it.Kicker != "Rosenheim" || it.Title != "Cloud-Migration & mehr" || it.Teaser != "Rosenheim migriert in die Cloud." {
			t.Errorf("item = %+v", it)
		}
		if !it.Published.Equal(time.Date(2026, 2, 3, 7, 0, 0, 0, time.UTC)) {
			t.Errorf("published = %v, want the published (not updated) time", it.Published)
		}
		it = f.Items[1]
		if it.Teaser != "Kein Datum außer updated; kein summary, nur content." || !it.Published.Equal(time.Date(2026, 2, 5, 12, 0, 0, 0, time.UTC)) {
			t.Errorf("content-only entry = %+v", it)
		}
	})
	t.Run("json", func(t *testing.T) {
		f, err := ParseFeed("feed.json", "", mustRead(t, "testdata/feed.json"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Format != "json" || len(f.Items) != 2 {
			t.Fatalf("format %q, %d items", f.Format, len(f.Items))
		}
		if it := f.Items[0]; it.Key != "json-1" || it.Kicker != "AKDB" || it.Teaser != "Ein Konsortium hat eine Referenzlösung entwickelt." || strings.Join(it.Categories, ",") != "Registermodernisierung" {
			t.Errorf("item = %+v", it)
		}
		if it := f.Items[1]; it.Key != "https://portal.example/meldung/j2.html" || it.Teaser != "Text" {
			t.Errorf("item without id = %+v", it)
		}
	})
}

func TestParseFeed_Broken(t *testing.T) {
	half := SampleFeed[:len(SampleFeed)/2]
	cases := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"truncated RSS", string(half), []string{"feed sample.xml line ", "column", "truncated", "nothing from this feed was imported"}},
		{"mismatched tag", "<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>x</title>\n<item><title>A</title></itemx></channel></rss>", []string{"line 3", "column", "closed by the end tag of a different element"}},
		{"truncated JSON", `{"version":"https://jsonfeed.org/version/1.1","title":"x","items":[{"id":"1","title":"a"},{"id":"2",`, []string{"line 1, column", "truncated"}},
		{"JSON syntax", "{\"version\":\"https://jsonfeed.org/version/1.1\",\n\"items\": [}", []string{"line 2, column", "JSON syntax error"}},
		{"HTML page", "<!DOCTYPE html><html><body>Not a feed</body></html>", []string{"not an RSS, Atom or JSON feed"}},
		{"text", "hello", []string{"not an RSS, Atom or JSON feed"}},
		{"empty", "  ", []string{"empty"}},
		{"item without link", `<rss version="2.0"><channel><title>x</title><item><title>A</title><link>https://a.example/1</link></item><item><title>B</title></item></channel></rss>`, []string{"item 2", "neither a guid"}},
		{"javascript link", `<rss version="2.0"><channel><title>x</title><item><title>A</title><link>javascript:alert(1)</link></item></channel></rss>`, []string{"item 1", "not an absolute http or https URL"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFeed("sample.xml", "", []byte(c.doc))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestParseFeed_Hostile(t *testing.T) {
	rss := func(title, desc string) []byte {
		return []byte(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title><item><guid>g1</guid><link>https://a.example/1</link>` +
			`<title>` + title + `</title><description>` + desc + `</description></item></channel></rss>`)
	}
	t.Run("markup and script become plain text", func(t *testing.T) {
		f, err := ParseFeed("hostile", "", rss(`Kiel: &lt;b onmouseover="x()"&gt;Fett&lt;/b&gt;&lt;script&gt;alert(1)&lt;/script&gt;`,
			`<![CDATA[<p>Erster <a href="javascript:evil()">Absatz</a></p><script>document.cookie</script><style>p{}</style><iframe src="https://evil.example"></iframe><img src=x onerror=alert(2)>Ende &amp; gut]]>`))
		if err != nil {
			t.Fatal(err)
		}
		it := f.Items[0]
		if it.Teaser != "Erster Absatz Ende & gut" {
			t.Errorf("teaser = %q", it.Teaser)
		}
		if it.Kicker != "Kiel" || it.Title != "Fett" {
			t.Errorf("kicker %q, title %q", it.Kicker, it.Title)
		}
	})
	t.Run("CR LF in titles", func(t *testing.T) {
		f, err := ParseFeed("hostile", "", rss("Kiel:\r\n Neue\rZeile\n\tund &#13;&#10;Tab\u2028Ende", "a\r\nb"))
		if err != nil {
			t.Fatal(err)
		}
		it := f.Items[0]
		if it.Kicker != "Kiel" || it.Title != "Neue Zeile und Tab Ende" || it.Teaser != "a b" {
			t.Errorf("kicker %q, title %q, teaser %q", it.Kicker, it.Title, it.Teaser)
		}
	})
	t.Run("ISO-8859-1 declared", func(t *testing.T) {
		doc := []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>x</title><item><guid>g</guid><link>https://a.example/</link><title>Th\xfcringen: Gr\xfc\xdfe</title></item></channel></rss>")
		f, err := ParseFeed("latin1", "", doc)
		if err != nil {
			t.Fatal(err)
		}
		if it := f.Items[0]; it.Kicker != "Thüringen" || it.Title != "Grüße" || f.Transcoded {
			t.Errorf("item %+v, transcoded %v", it, f.Transcoded)
		}
	})
	t.Run("ISO-8859-1 undeclared", func(t *testing.T) {
		doc := []byte("<rss version=\"2.0\"><channel><title>x</title><item><guid>g</guid><link>https://a.example/</link><title>Th\xfcringen: Gr\xfc\xdfe \x80</title></item></channel></rss>")
		f, err := ParseFeed("latin1", "", doc)
		if err != nil {
			t.Fatal(err)
		}
		if it := f.Items[0]; it.Kicker != "Thüringen" || it.Title != "Grüße €" || !f.Transcoded {
			t.Errorf("item %+v, transcoded %v", it, f.Transcoded)
		}
	})
	t.Run("UTF-8 with BOM", func(t *testing.T) {
		f, err := ParseFeed("bom", "", append([]byte("\xef\xbb\xbf"), rss("Jena: Ä", "ö")...))
		if err != nil || f.Items[0].Title != "Ä" {
			t.Fatalf("%v %+v", err, f)
		}
	})
	t.Run("repeated item counts once", func(t *testing.T) {
		doc := `<rss version="2.0"><channel><title>x</title>` + strings.Repeat(`<item><guid>g</guid><link>https://a.example/</link><title>T</title></item>`, 3) + `</channel></rss>`
		f, err := ParseFeed("dup", "", []byte(doc))
		if err != nil || len(f.Items) != 1 {
			t.Fatalf("%v, %d items", err, len(f.Items))
		}
	})
	t.Run("huge fields are cut", func(t *testing.T) {
		f, err := ParseFeed("big", "", rss(strings.Repeat("Wort ", 2000), strings.Repeat("Satz ", 5000)))
		if err != nil {
			t.Fatal(err)
		}
		it := f.Items[0]
		if n := utf8.RuneCountInString(it.Title); n > maxTitleRunes+2 {
			t.Errorf("title has %d runes", n)
		}
		if n := utf8.RuneCountInString(it.Teaser); n > maxTeaserRunes+2 {
			t.Errorf("teaser has %d runes", n)
		}
	})
}

func TestSplitKicker(t *testing.T) {
	for in, want := range map[string][2]string{
		"Halle (Saale): Smarte Technik statt Parksuchverkehr": {"Halle (Saale)", "Smarte Technik statt Parksuchverkehr"},
		"Low Code / No Code: Kommunen bündeln Kräfte":         {"Low Code / No Code", "Kommunen bündeln Kräfte"},
		"Interview: Teil 1: Die Idee":                         {"Interview", "Teil 1: Die Idee"},
		"Ohne Kicker":                                         {"", "Ohne Kicker"},
		"Zeit 10:30 Uhr":                                      {"", "Zeit 10:30 Uhr"},
		": nur Titel":                                         {"", ": nur Titel"},
		strings.Repeat("x", 80) + ": zu lang":                 {"", strings.Repeat("x", 80) + ": zu lang"},
	} {
		k, r := SplitKicker(in)
		if k != want[0] || r != want[1] {
			t.Errorf("SplitKicker(%q) = %q, %q; want %q, %q", in, k, r, want[0], want[1])
		}
	}
}

// FuzzParseFeed checks that no input panics the parser and that every accepted
// item is keyed, linked over http(s), and plain single-line valid UTF-8.
func FuzzParseFeed(f *testing.F) {
	f.Add(SampleFeed)
	for _, name := range []string{"testdata/feed.rss", "testdata/feed.atom", "testdata/feed.json"} {
		f.Add(mustRead(f, name))
	}
	f.Add([]byte(`<rss version="2.0"><channel><item><title>a: b</title><link>/x</link><description>&lt;script&gt;x&lt;/script&gt;</description></item></channel></rss>`))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","url":"https://a/","title":"t\r\nx"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A reply's bytes never appear in an error: a marker put anywhere
		// into the document (an element name, an entity, a title, a link,
		// a JSON key) is not quoted back.
		if !bytes.Contains(bytes.ToLower(data), []byte("qz7wq")) {
			for _, at := range []int{0, len(data) / 3, len(data) / 2, len(data) * 2 / 3, len(data)} {
				marked := append(append(append([]byte{}, data[:at]...), "Qz7Wq"...), data[at:]...)
				if _, err := ParseFeed("fuzz", "https://base.example/", marked); err != nil && strings.Contains(strings.ToLower(err.Error()), "qz7wq") {
					t.Fatalf("the error quotes the document: %v", err)
				}
			}
		}
		feed, err := ParseFeed("fuzz", "https://base.example/", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		for _, it := range feed.Items {
			if it.Key == "" || !(strings.HasPrefix(it.URL, "http://") || strings.HasPrefix(it.URL, "https://")) {
				t.Fatalf("item key %q url %q", it.Key, it.URL)
			}
			for _, s := range []string{it.Title, it.Kicker, it.Teaser} {
				if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\t\x00") || s != strings.TrimSpace(s) {
					t.Fatalf("field %q is not one clean line", s)
				}
			}
			if it.Title == "" {
				t.Fatal("empty title")
			}
		}
		_ = bytes.MinRead
	})
}

package templates

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// itemBlock returns the HTML item block of the article with anchor id from
// a rendered HTML part.
func itemBlock(t *testing.T, doc, title string) string {
	t.Helper()
	for _, b := range strings.Split(doc, `<tr><td class="item"`)[1:] {
		b = b[:strings.Index(b, "</td></tr>")]
		if strings.Contains(b, ">"+title+"</a>") {
			return b
		}
	}
	t.Fatalf("no item %q in\n%s", title, doc)
	return ""
}

func renderBoth(t *testing.T, s *Set, d Digest) (string, string) {
	t.Helper()
	var h, x bytes.Buffer
	mustPrepare(t, s, d).Render(goldenRecipient(), &h, &x)
	return h.String(), x.String()
}

func TestPrepare_SharedArticleRendersIdentically(t *testing.T) {
	s := mustNew(t)
	seed := seedArticles()
	a := seed[3]
	d1 := goldenDigest()
	d1.Articles = []Article{seed[0], a, seed[1]}
	d2 := goldenDigest()
	d2.Articles = []Article{a, seed[4]}
	h1, _ := renderBoth(t, s, d1)
	h2, _ := renderBoth(t, s, d2)
	title := htmlEscape(feedText(a.Title, maxTitleRunes))
	if b1, b2 := itemBlock(t, h1, title), itemBlock(t, h2, title); b1 != b2 {
		t.Errorf("article %d renders differently in two digests:\n%s\n%s", a.ID, b1, b2)
	}
	// A fresh Set (no cache) renders the second digest byte for byte alike.
	fresh, _ := renderBoth(t, mustNew(t), d2)
	if fresh != h2 {
		t.Errorf("cached render differs from an uncached one:\n%s", firstDiff([]byte(fresh), []byte(h2)))
	}
}

func TestPrepare_ChangedArticleNotServedStale(t *testing.T) {
	s := mustNew(t)
	d := goldenDigest()
	d.Articles = d.Articles[:2]
	h, x := renderBoth(t, s, d)
	if !strings.Contains(h, "Kräfte") {
		t.Fatalf("first render lacks the title:\n%s", h)
	}
	edits := []struct {
		name string
		edit func(*Article)
		want string
	}{
		{"teaser", func(a *Article) { a.Teaser = "Korrigierter Anreißer." }, "Korrigierter Anreißer."},
		{"title", func(a *Article) { a.Title = "Neuer Titel" }, "Neuer Titel"},
		{"kicker", func(a *Article) { a.Kicker = "Neue Dachzeile" }, "Neue Dachzeile"},
		{"url", func(a *Article) { a.URL = "https://example.org/neu" }, "https://example.org/neu"},
		{"published", func(a *Article) { a.PublishedAt = a.PublishedAt.AddDate(0, 0, -1) }, ""},
		{"region", func(a *Article) { a.Regions = []Named{{"DE-SN", "Sachsen"}} }, "Sachsen"},
	}
	for _, e := range edits {
		d2 := goldenDigest()
		d2.Articles = append([]Article(nil), d.Articles...)
		e.edit(&d2.Articles[0])
		h2, x2 := renderBoth(t, s, d2)
		freshH, freshX := renderBoth(t, mustNew(t), d2)
		if h2 != freshH || x2 != freshX {
			t.Errorf("%s changed: cached render differs from a fresh one (stale fragment):\n%s", e.name, firstDiff([]byte(freshH+freshX), []byte(h2+x2)))
		}
		if h2 == h || x2 == x {
			t.Errorf("%s changed but the digest did not", e.name)
		}
		if e.want != "" && (!strings.Contains(h2, e.want) || !strings.Contains(x2, e.want)) {
			t.Errorf("%s changed: %q missing from the HTML or text part", e.name, e.want)
		}
	}
}

// TestPrepare_TextNumbersFollowPosition checks that the text part's
// numbers come from the digest, not from a cached fragment of another
// digest where the article stood elsewhere.
func TestPrepare_TextNumbersFollowPosition(t *testing.T) {
	s := mustNew(t)
	seed := seedArticles()
	d1 := goldenDigest()
	d1.Topics = nil
	d1.Articles = []Article{seed[0], seed[1]}
	d2 := d1
	d2.Articles = []Article{seed[1], seed[0]}
	_, x1 := renderBoth(t, s, d1)
	_, x2 := renderBoth(t, s, d2)
	_, fresh := renderBoth(t, mustNew(t), d2)
	if x2 != fresh {
		t.Errorf("second digest's text differs from a fresh render:\n%s", firstDiff([]byte(fresh), []byte(x2)))
	}
	if x1 == x2 {
		t.Error("swapping the articles did not change the text part")
	}
}

func TestPrepare_ConcurrentOverlappingDigests(t *testing.T) {
	s := mustNew(t)
	seed := seedArticles()
	digests := make([]Digest, 6)
	for i := range digests {
		d := goldenDigest()
		d.Articles = nil
		for j := range 4 {
			d.Articles = append(d.Articles, seed[(i+j)%len(seed)])
		}
		digests[i] = d
	}
	want := make([]string, len(digests))
	ref := mustNew(t)
	for i, d := range digests {
		h, x := renderBoth(t, ref, d)
		want[i] = h + x
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 20 {
				i := (g + round) % len(digests)
				p, err := s.Prepare(digests[i])
				if err != nil {
					errs <- err.Error()
					return
				}
				var h, x bytes.Buffer
				p.Render(goldenRecipient(), &h, &x)
				if h.String()+x.String() != want[i] {
					errs <- "digest " + itoa(int64(i)) + " differs from a render on a fresh Set"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestFragmentCache_Bounded(t *testing.T) {
	s := mustNew(t)
	d := bigDigest(30)
	for i := range 400 {
		for j := range d.Articles {
			d.Articles[j].ID = int64(i*100 + j)
		}
		mustPrepare(t, s, d)
		// One digest's fragments may be added after the bound is reached.
		if n := s.frags.size(); n > maxCachedBytes+1<<20 {
			t.Fatalf("cache holds %d bytes, bound %d", n, maxCachedBytes)
		}
	}
	if n := s.frags.entries(); n == 0 {
		t.Fatal("cache is empty after preparing digests")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestArticleKey_Matches holds the cache's version check to keyOf: the same
// article matches its key, any changed input does not.
func TestArticleKey_Matches(t *testing.T) {
	at := time.Date(2026, 2, 19, 7, 0, 0, 0, time.UTC)
	base := Article{ID: 7, URL: "https://x.example/7", Kicker: "K", Title: "T", Teaser: "Z", PublishedAt: at,
		Regions: []Named{{"DE-TH", "Thüringen"}, {"DE-BY", "Bayern"}}}
	k := keyOf(base)
	if !k.matches(base) {
		t.Fatal("an article does not match its own key")
	}
	change := map[string]func(*Article){
		"id": func(a *Article) { a.ID++ }, "url": func(a *Article) { a.URL += "x" },
		"kicker": func(a *Article) { a.Kicker = "" }, "title": func(a *Article) { a.Title += "!" },
		"teaser": func(a *Article) { a.Teaser = "neu" }, "published": func(a *Article) { a.PublishedAt = at.Add(time.Second) },
		"unpublished":   func(a *Article) { a.PublishedAt = time.Time{} },
		"region name":   func(a *Article) { a.Regions = []Named{{"DE-TH", "Thüringen"}, {"DE-BY", "Bayerb"}} },
		"fewer regions": func(a *Article) { a.Regions = a.Regions[:1] },
		"more regions":  func(a *Article) { a.Regions = append(append([]Named{}, a.Regions...), Named{"DE", "x"}) },
		"merged names":  func(a *Article) { a.Regions = []Named{{"DE-TH", "Thüringen2:Bayern"}} },
	}
	for name, f := range change {
		a := base
		f(&a)
		if k.matches(a) != (keyOf(a) == k) || k.matches(a) {
			t.Errorf("%s: changed article still matches the old key", name)
		}
	}
}

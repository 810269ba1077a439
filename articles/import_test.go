package articles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

var (
	t0 = time.Date(2026, 2, 20, 7, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
	t2 = t1.Add(24 * time.Hour)
)

func newImporter(t *testing.T, db *store.DB) *Importer {
	t.Helper()
	im, err := NewDefaultImporter(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.GetContext(context.Background(), &n, "SELECT count(*) FROM "+table); err != nil {
		t.Fatal(err)
	}
	return n
}

func byKicker(list []Article, kicker string) Article {
	for _, a := range list {
		if a.Kicker == kicker {
			return a
		}
	}
	return Article{}
}

func TestImporter_SampleFeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		im := newImporter(t, db)
		res, err := im.ImportFeed(ctx, "kommune21.xml", "", SampleFeed, t0)
		if err != nil {
			t.Fatal(err)
		}
		if res.New != 16 || res.Updated != 0 || res.Unchanged != 0 || res.Format != "rss" {
			t.Fatalf("first import = %+v, want 16 new", res)
		}
		st := NewStore(db)
		list, err := st.List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 16 {
			t.Fatalf("%d articles stored, want 16", len(list))
		}
		for _, a := range list {
			if len(a.Regions) == 0 {
				t.Errorf("article %d %q has no region", a.ID, a.Title)
			}
			if !a.IngestedAt.Equal(t0) {
				t.Errorf("article %d ingested_at = %v, want %v", a.ID, a.IngestedAt, t0)
			}
		}
		halle := byKicker(list, "Halle (Saale)")
		if halle.Title != "Smarte Technik statt Parksuchverkehr" || strings.Join(halle.Regions, ",") != "DE-ST" ||
			halle.PublishedAt.Format("2006-01-02") != "2026-01-05" {
			t.Errorf("Halle article = %+v", halle)
		}
		if list[0].Kicker != "Low Code / No Code" {
			t.Errorf("newest first: first is %q", list[0].Kicker)
		}

		// Re-import: nothing new, nothing changed, ingested_at kept.
		res, err = im.ImportFeed(ctx, "kommune21.xml", "", SampleFeed, t1)
		if err != nil {
			t.Fatal(err)
		}
		if res.New != 0 || res.Updated != 0 || res.Unchanged != 16 {
			t.Fatalf("re-import = %+v, want 16 unchanged", res)
		}
		if n := count(t, db, "articles"); n != 16 {
			t.Fatalf("%d articles after re-import", n)
		}

		// A changed title and teaser update the article; ingested_at stays.
		changed := bytes.Replace(SampleFeed, []byte("Smarte Technik statt Parksuchverkehr"), []byte("Smarte Technik gegen Parksuchverkehr"), 1)
		changed = bytes.Replace(changed, []byte("Ein beliebtes Erlebnisbad"), []byte("Ein beliebtes Freibad"), 1)
		res, err = im.ImportFeed(ctx, "kommune21.xml", "", changed, t2)
		if err != nil {
			t.Fatal(err)
		}
		if res.New != 0 || res.Updated != 1 || res.Unchanged != 15 {
			t.Fatalf("import of a changed feed = %+v, want 1 updated", res)
		}
		a, err := st.Get(ctx, halle.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Title != "Smarte Technik gegen Parksuchverkehr" || !strings.HasPrefix(a.Teaser, "Ein beliebtes Freibad") || !a.IngestedAt.Equal(t0) || !a.UpdatedAt.Equal(t2) {
			t.Errorf("updated article = %+v", a)
		}

		// Filters.
		for _, c := range []struct {
			f    Filter
			want int
		}{
			{Filter{Region: "DE-ST"}, 3}, {Filter{Region: "DE"}, 4}, {Filter{Topic: "low-code"}, 1},
			{Filter{Since: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}, 5}, {Filter{Limit: 2}, 2},
		} {
			got, err := st.List(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.want {
				t.Errorf("List(%+v) = %d articles, want %d", c.f, len(got), c.want)
			}
		}
	})
}

func TestImporter_ManualTagsSurvive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		im := newImporter(t, db)
		if _, err := im.ImportFeed(ctx, "k.xml", "", SampleFeed, t0); err != nil {
			t.Fatal(err)
		}
		st := NewStore(db)
		list, _ := st.List(ctx, Filter{})
		akdb := byKicker(list, "AKDB")
		if err := st.SetTags(ctx, akdb.ID, []string{"DE-BY", "DE-BW"}, []string{"it-sicherheit"}); err != nil {
			t.Fatal(err)
		}
		// The feed changes the item's teaser: text is updated, tags stay.
		changed := bytes.Replace(SampleFeed, []byte("in vier Kommunen erprobt"), []byte("in fünf Kommunen erprobt"), 1)
		res, err := im.ImportFeed(ctx, "k.xml", "", changed, t1)
		if err != nil {
			t.Fatal(err)
		}
		if res.Updated != 1 {
			t.Fatalf("import = %+v, want 1 updated", res)
		}
		a, _ := st.Get(ctx, akdb.ID)
		if strings.Join(a.Regions, ",") != "DE-BW,DE-BY" || strings.Join(a.Topics, ",") != "it-sicherheit" || !a.TagsManual || !strings.Contains(a.Teaser, "fünf Kommunen") {
			t.Errorf("after re-import: regions %v topics %v manual %v teaser %q", a.Regions, a.Topics, a.TagsManual, a.Teaser)
		}
		// Only topics given: regions stay.
		if err := st.SetTags(ctx, akdb.ID, nil, []string{"cloud-infrastruktur"}); err != nil {
			t.Fatal(err)
		}
		a, _ = st.Get(ctx, akdb.ID)
		if strings.Join(a.Regions, ",") != "DE-BW,DE-BY" || strings.Join(a.Topics, ",") != "cloud-infrastruktur" {
			t.Errorf("topics only: regions %v topics %v", a.Regions, a.Topics)
		}
		if err := st.SetTags(ctx, 99999, []string{"DE"}, nil); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetTags on a missing article: %v", err)
		}
		if err := st.SetTags(ctx, akdb.ID, []string{}, nil); err == nil {
			t.Error("SetTags with no region succeeded")
		}
	})
}

func TestImporter_BrokenFeedStoresNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		im := newImporter(t, db)
		dir := t.TempDir()
		path := filepath.Join(dir, "truncated.xml")
		os.WriteFile(path, SampleFeed[:len(SampleFeed)*2/3], 0o600)
		_, err := im.Import(ctx, path, t0)
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), path) || pe.Line == 0 {
			t.Fatalf("err = %v, want a ParseError naming %s and a line", err, path)
		}
		// Good items first, then one without a link: the whole feed is refused.
		bad := bytes.Replace(SampleFeed, []byte("<link>https://www.kommune21.de/meldung_48007"), []byte("<foo>https://www.kommune21.de/meldung_48007"), 1)
		bad = bytes.Replace(bad, []byte("angegliedert.html</link>"), []byte("angegliedert.html</foo>"), 1)
		_, err = im.ImportFeed(ctx, "bad.xml", "", bad, t0)
		if !errors.As(err, &pe) || pe.Item != 16 {
			t.Fatalf("err = %v, want a ParseError for item 16", err)
		}
		for _, table := range []string{"articles", "article_regions", "article_topics", "feeds"} {
			if n := count(t, db, table); n != 0 {
				t.Errorf("%d rows in %s after broken feeds", n, table)
			}
		}
	})
}

func TestImporter_Fixtures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		im := newImporter(t, db)
		for _, name := range []string{"testdata/feed.rss", "testdata/feed.atom", "testdata/feed.json"} {
			res, err := im.Import(ctx, name, t0)
			if err != nil {
				t.Fatal(err)
			}
			if res.New != 2 {
				t.Errorf("%s: %+v, want 2 new", name, res)
			}
		}
		list, err := NewStore(db).List(ctx, Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range list {
			got[a.Title] = strings.Join(a.Regions, ",") + " " + strings.Join(a.Topics, ",")
		}
		want := map[string]string{
			"Neuigkeiten ohne Kicker":      "DE-TH ozg-onlinedienste", // from the categories
			"Cloud-Migration & mehr":       "DE-BY it-sicherheit",     // region inferred, topic from the category slug
			"Cloudbasiertes Melderegister": "DE-BY registermodernisierung",
		}
		for title, w := range want {
			if got[title] != w {
				t.Errorf("%q tagged %q, want %q", title, got[title], w)
			}
		}
		// published_at falls back to ingested_at
		for _, a := range list {
			if a.Title == "Neuigkeiten ohne Kicker" && !a.PublishedAt.Equal(t0) {
				t.Errorf("published_at without a date = %v, want the ingest time", a.PublishedAt)
			}
		}
	})
}

// feedServer serves body with validators and records the conditional headers.
type feedServer struct {
	mu       sync.Mutex
	body     []byte
	etag     string
	requests []http.Header
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r.Header.Clone())
	if r.Header.Get("If-None-Match") == s.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", s.etag)
	w.Header().Set("Last-Modified", "Thu, 19 Feb 2026 09:00:00 GMT")
	w.Header().Set("Content-Type", "application/rss+xml")
	w.Write(s.body)
}

func TestImporter_ConditionalGET(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		im := newImporter(t, db)
		fs := &feedServer{body: SampleFeed, etag: `"v1"`}
		srv := httptest.NewServer(fs)
		defer srv.Close()
		url := srv.URL + "/rss.xml"

		res, err := im.Import(ctx, url, t0)
		if err != nil || res.New != 16 {
			t.Fatalf("first fetch: %+v, %v", res, err)
		}
		res, err = im.Import(ctx, url, t1)
		if err != nil || !res.NotModified || res.New+res.Updated+res.Unchanged != 0 {
			t.Fatalf("second fetch: %+v, %v, want not modified", res, err)
		}
		if len(fs.requests) != 2 {
			t.Fatalf("%d requests", len(fs.requests))
		}
		if h := fs.requests[0]; h.Get("If-None-Match") != "" || h.Get("If-Modified-Since") != "" {
			t.Errorf("first request sent validators: %v", h)
		}
		if h := fs.requests[1]; h.Get("If-None-Match") != `"v1"` || h.Get("If-Modified-Since") != "Thu, 19 Feb 2026 09:00:00 GMT" {
			t.Errorf("second request validators: If-None-Match %q, If-Modified-Since %q", h.Get("If-None-Match"), h.Get("If-Modified-Since"))
		}
		if n := count(t, db, "articles"); n != 16 {
			t.Errorf("%d articles", n)
		}
		// A new version is fetched and imported.
		fs.mu.Lock()
		fs.etag, fs.body = `"v2"`, bytes.Replace(SampleFeed, []byte("Kommunen bündeln Kräfte"), []byte("Kommunen bündeln ihre Kräfte"), 1)
		fs.mu.Unlock()
		res, err = im.Import(ctx, url, t2)
		if err != nil || res.Updated != 1 || res.Unchanged != 15 {
			t.Fatalf("third fetch: %+v, %v", res, err)
		}
	})
}

func TestImporter_SizeLimit(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	im := newImporter(t, db)
	// A well-formed 10 MB feed: many items with long descriptions.
	var big bytes.Buffer
	big.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>big</title>`)
	for i := 0; big.Len() < 10<<20; i++ {
		fmt.Fprintf(&big, `<item><guid>g%d</guid><link>https://a.example/%d</link><title>Item %d</title><description>%s</description></item>`, i, i, i, strings.Repeat("Text ", 400))
	}
	big.WriteString(`</channel></rss>`)

	t.Run("HTTP with Content-Length", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(big.Bytes()) }))
		defer srv.Close()
		_, err := im.Import(ctx, srv.URL, t0)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "8.0 MiB") {
			t.Fatalf("err = %v, want ErrTooLarge naming the URL and the limit", err)
		}
	})
	t.Run("HTTP chunked", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for b := big.Bytes(); len(b) > 0; {
				n := min(len(b), 64<<10)
				w.Write(b[:n])
				w.(http.Flusher).Flush()
				b = b[n:]
			}
		}))
		defer srv.Close()
		_, err := im.Import(ctx, srv.URL, t0)
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "big.xml")
		os.WriteFile(path, big.Bytes(), 0o600)
		_, err := im.Import(ctx, path, t0)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "10.0 MiB") {
			t.Fatalf("err = %v, want ErrTooLarge naming the file and its size", err)
		}
	})
	if n := count(t, db, "feeds"); n != 0 {
		t.Errorf("refused feeds left %d feed rows", n)
	}
}

func TestImporter_HTTPErrors(t *testing.T) {
	db := storetest.SQLite(t)
	im := newImporter(t, db)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) }))
	defer srv.Close()
	_, err := im.Import(context.Background(), srv.URL, t0)
	if err == nil || !strings.Contains(err.Error(), "410") {
		t.Fatalf("err = %v, want the status", err)
	}
}

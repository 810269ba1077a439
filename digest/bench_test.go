package digest

import (
	"bytes"
	"container/list"
	"context"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/internal/benchcpu"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

// The benchmarks here measure the parts of a run on small data, comparable
// with benchstat; `make bench` (cmd/digestbench) measures a whole edition at
// 100,000 subscribers. For example:
//
//	go test -run XXX -bench . -benchmem -count 6 ./digest/ | tee new.txt
//	benchstat old.txt new.txt

var benchAt = time.Date(2026, 2, 23, 6, 0, 0, 0, time.UTC)

var benchRegions = []string{"DE", "DE-BW", "DE-BY", "DE-BE", "DE-BB", "DE-HB", "DE-HH", "DE-HE", "DE-MV",
	"DE-NI", "DE-NW", "DE-RP", "DE-SL", "DE-SN", "DE-ST", "DE-SH", "DE-TH"}

var benchTopics = []string{"ozg-onlinedienste", "it-sicherheit", "kuenstliche-intelligenz", "cloud-infrastruktur",
	"registermodernisierung", "smart-city", "e-akte-dokumente", "personal-organisation", "finanzen-foerderung",
	"open-source", "prozessmanagement", "schule-bildung"}

// pickSome returns 1 to max distinct items of from, skewed to the first ones.
func pickSome(r *rand.Rand, from []string, most int) []string {
	seen := map[string]bool{}
	var out []string
	for k := 1 + r.IntN(most); len(out) < k; {
		s := from[min(r.IntN(len(from)), r.IntN(len(from)))]
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// seedBench writes subs active weekly subscribers with 1–3 regions and 1–4
// topics and arts articles in the window before benchAt.
func seedBench(tb testing.TB, db *store.DB, subs, arts int) {
	tb.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(8, 8))
	err := db.Tx(ctx, func(tx *sqlx.Tx) error {
		ins := func(q string, args ...any) error {
			_, err := tx.ExecContext(ctx, db.Rebind(q), args...)
			return err
		}
		t0 := store.T(benchAt.Add(-30 * 24 * time.Hour))
		for i := 1; i <= subs; i++ {
			email := fmt.Sprintf("leser%d@example.org", i)
			if err := ins(`INSERT INTO subscribers (id, email, email_key, name, status, cadence, created_at, updated_at)
				VALUES (?, ?, ?, ?, 'active', 'weekly', ?, ?)`, i, email, email, fmt.Sprintf("Jürgen Müller %d", i), t0, t0); err != nil {
				return err
			}
			for _, c := range pickSome(r, benchRegions, 3) {
				if err := ins(`INSERT INTO subscriber_regions (subscriber_id, region_code) VALUES (?, ?)`, i, c); err != nil {
					return err
				}
			}
			for _, c := range pickSome(r, benchTopics, 4) {
				if err := ins(`INSERT INTO subscriber_topics (subscriber_id, topic_slug) VALUES (?, ?)`, i, c); err != nil {
					return err
				}
			}
		}
		for i := 1; i <= arts; i++ {
			pub := store.T(benchAt.Add(-time.Duration(r.Int64N(int64(13*24*time.Hour))) - time.Hour))
			if err := ins(`INSERT INTO articles (id, key, url, title, kicker, teaser, published_at, ingested_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, i, fmt.Sprintf("a%d", i), fmt.Sprintf("https://www.kommune21.example/a/%d.html", i),
				fmt.Sprintf("Größere Bürgerportale für Kommune %d", i), "Wiesbaden",
				"Die Stadt stellt ihre Onlinedienste um; mehr als 120 Leistungen sind digital verfügbar.", pub, pub, pub); err != nil {
				return err
			}
			if err := ins(`INSERT INTO article_regions (article_id, region_code) VALUES (?, ?)`, i, benchRegions[min(r.IntN(17), r.IntN(17))]); err != nil {
				return err
			}
			for _, c := range pickSome(r, benchTopics, 2) {
				if err := ins(`INSERT INTO article_topics (article_id, topic_slug) VALUES (?, ?)`, i, c); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkPlan plans (dry run, rolled back) an edition of 2,000 subscribers
// and 500 articles.
func BenchmarkPlan(b *testing.B) {
	for _, tc := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"db=sqlite", storetest.SQLite}, {"db=postgres", storetest.Postgres}} {
		b.Run(tc.name, func(b *testing.B) {
			db := tc.open(b)
			seedBench(b, db, 2000, 500)
			if db.Dialect == store.Postgres {
				if _, err := db.Exec("ANALYZE"); err != nil {
					b.Fatal(err)
				}
			}
			p := &Planner{DB: db, Now: func() time.Time { return benchAt }}
			var res PlanResult
			for b.Loop() {
				var err error
				if res, err = p.Plan(context.Background(), Weekly, benchAt, true); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Planned)*float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
			b.ReportMetric(float64(res.Selections), "selections")
		})
	}
}

// benchLibrary is a library of n distinct 20-article selections, without a database.
func benchLibrary(b *testing.B, n int) *library {
	tmpl, err := templates.New(templates.Site{Name: "Kommune21 Digest", PortalURL: "https://www.kommune21.de",
		Imprint: "Kommune21 Digest\nBeispielstraße 1", ReplyTo: "redaktion@kommune21.example"})
	if err != nil {
		b.Fatal(err)
	}
	var regions []taxonomy.Region
	for _, c := range benchRegions {
		regions = append(regions, taxonomy.Region{Code: c, Name: "Land " + c})
	}
	var topics []taxonomy.Topic
	for _, s := range benchTopics {
		topics = append(topics, taxonomy.Topic{Slug: s, Name: "Thema " + s})
	}
	run := Run{ID: 1, Cadence: Weekly, Edition: Edition(Weekly, benchAt), At: benchAt}
	lib := &library{run: run, tmpl: tmpl, tax: taxonomy.NewSet(regions, topics), selections: map[int64]*selection{},
		articles: map[int64]templates.Article{}, cache: map[int64]*list.Element{}, lru: list.New(), size: cacheSize}
	r := rand.New(rand.NewPCG(1, 1))
	for i := int64(1); i <= 200; i++ {
		lib.articles[i] = templates.Article{ID: i, URL: fmt.Sprintf("https://www.kommune21.example/a/%d.html", i),
			Kicker: "Wiesbaden", Title: fmt.Sprintf("Größere Bürgerportale für Kommune %d", i),
			Teaser:      "Die Stadt stellt ihre Onlinedienste um; mehr als 120 Leistungen sind digital verfügbar, weitere folgen im Frühjahr.",
			PublishedAt: benchAt.Add(-time.Duration(i) * time.Hour),
			Regions:     []templates.Named{{Code: "DE-HE", Name: "Hessen"}},
			Topics:      []templates.Named{{Code: benchTopics[i%5], Name: "Thema " + benchTopics[i%5]}}}
	}
	for id := int64(1); id <= int64(n); id++ {
		s := &selection{ID: id, ChoiceKey: "DE-HE|" + benchTopics[id%5] + "," + benchTopics[5+id%5], Total: 24}
		for _, a := range r.Perm(200)[:20] {
			s.Articles = append(s.Articles, int64(a+1))
		}
		lib.selections[id] = s
	}
	return lib
}

func benchWork(b *testing.B, lib *library) *sendWork {
	signer, err := subscribers.NewSigner("bench-link-signing-key-0123456789")
	if err != nil {
		b.Fatal(err)
	}
	s := &Sender{Templates: lib.tmpl, Links: signedLinks{signer}, Now: func() time.Time { return benchAt },
		Message: MessageOptions{From: mail.Address{Name: "Kommune21 Digest", Address: "digest@kommune21.example"},
			ListID: "Kommune21 Digest <digest.kommune21.example>", Domain: "kommune21.example", UnsubscribeMailto: "mailto:redaktion@kommune21.example"}}
	return &sendWork{Sender: s, lib: lib, ob: &outbox{run: lib.run, domain: s.Message.Domain}}
}

type signedLinks struct{ s *subscribers.Signer }

func (l signedLinks) UnsubscribeURL(id int64, email string) string {
	return l.s.URL("https://digest.kommune21.example", subscribers.PurposeUnsubscribe, id, email)
}
func (l signedLinks) PreferencesURL(id int64, email string) string {
	return l.s.URL("https://digest.kommune21.example", subscribers.PurposePreferences, id, email)
}
func (l signedLinks) ArchiveURL(selectionID int64) string {
	return l.s.ArchiveURL("https://digest.kommune21.example", selectionID)
}

// BenchmarkMessage builds one recipient's message of an already prepared
// digest: render, signed links, headers (what every recipient costs).
func BenchmarkMessage(b *testing.B) {
	w := benchWork(b, benchLibrary(b, 1))
	var html, text bytes.Buffer
	sub := int64(4711)
	it := claimed{ID: 1, SubscriberID: &sub, SelectionID: 1, Email: "juergen.mueller@example.org", Name: "Jürgen Müller", Status: "active"}
	if _, err := w.message(it, &html, &text); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := benchcpu.Start()
	for b.Loop() {
		if _, err := w.message(it, &html, &text); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRender prepares a distinct 20-article digest and builds one
// message from it per iteration (what every selection costs once). Every
// selection is prepared once before the clock starts, as in a real edition,
// where a few thousand articles serve tens of thousands of selections: the
// article fragments are warm, the digests are not (the library keeps 64).
func BenchmarkRender(b *testing.B) {
	const n = 4096
	lib := benchLibrary(b, n)
	w := benchWork(b, lib)
	var html, text bytes.Buffer
	sub := int64(4711)
	it := claimed{ID: 1, SubscriberID: &sub, Email: "juergen.mueller@example.org", Name: "Jürgen Müller", Status: "active"}
	for i := range n {
		it.SelectionID = int64(i + 1)
		if _, err := w.message(it, &html, &text); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu := benchcpu.Start()
	i := 0
	for b.Loop() {
		// n is far more than the cache holds: every selection is prepared afresh.
		it.SelectionID = int64(i%n + 1)
		i++
		if _, err := w.message(it, &html, &text); err != nil {
			b.Fatal(err)
		}
	}
	cpu.Report(b)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "digests/s")
}

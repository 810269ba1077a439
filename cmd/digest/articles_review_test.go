package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// TestArticlesReviewExplainRetag drives the staff's tagging commands on both
// databases: review lists the uncertain articles with their reasons, explain
// names what decided each tag, tag --auto undoes a manual override, and retag
// changes automatic tags only.
func TestArticlesReviewExplainRetag(t *testing.T) {
	for name, dbURL := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			db := dbURL(t)
			if _, stderr, code := articlesRun(db, "migrate"); code != 0 {
				t.Fatalf("migrate: %s", stderr)
			}
			feed := filepath.Join(t.TempDir(), "kommune21.xml")
			if err := os.WriteFile(feed, articles.SampleFeed, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, stderr, code := articlesRun(db, "articles", "import", feed, "--at", "2026-02-20T08:00:00+01:00"); code != 0 {
				t.Fatalf("import: %s", stderr)
			}
			var list []struct {
				ID      int64    `json:"id"`
				Kicker  string   `json:"kicker"`
				Regions []string `json:"regions"`
				Topics  []string `json:"topics"`
			}
			out, _, _ := articlesRun(db, "articles", "list", "--json")
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatal(err)
			}
			byKicker := map[string]int64{}
			for _, a := range list {
				byKicker[a.Kicker] = a.ID
			}
			wiesbaden, studie := byKicker["Wiesbaden"], byKicker["Studie"]
			if wiesbaden == 0 || studie == 0 {
				t.Fatalf("sample feed lacks the Wiesbaden or Studie item: %v", byKicker)
			}

			// review: the item naming no place fell back to DE and is listed with that reason
			out, stderr, code := articlesRun(db, "articles", "review", "--json")
			if code != 0 {
				t.Fatalf("review: exit %d: %s", code, stderr)
			}
			var review []struct {
				ID     int64    `json:"id"`
				Doubts []string `json:"doubts"`
			}
			if err := json.Unmarshal([]byte(out), &review); err != nil {
				t.Fatalf("review --json: %v\n%s", err, out)
			}
			doubts := map[int64]string{}
			for _, r := range review {
				doubts[r.ID] = strings.Join(r.Doubts, "; ")
			}
			if !strings.Contains(doubts[studie], "bundesweit (DE)") {
				t.Errorf("review does not list the Studie item as fallen back to DE: %q", doubts[studie])
			}
			if _, listed := doubts[wiesbaden]; listed {
				t.Errorf("review lists the Wiesbaden item, whose kicker names its place: %q", doubts[wiesbaden])
			}

			// explain names the place that decided the region
			out, _, code = articlesRun(db, "articles", "explain", itoa(wiesbaden))
			if code != 0 || !regexpLine(out, `region\s+DE-HE\s+kicker\s+Wiesbaden`) {
				t.Errorf("explain %d: exit %d, want a line \"region DE-HE kicker Wiesbaden\":\n%s", wiesbaden, code, out)
			}

			// a manual tag is kept by retag and undone by tag --auto
			if _, stderr, code := articlesRun(db, "articles", "tag", itoa(wiesbaden), "--region", "DE-BY", "--topic", "beschaffung"); code != 0 {
				t.Fatalf("tag: %s", stderr)
			}
			out, stderr, code = articlesRun(db, "articles", "retag")
			if code != 0 || !strings.Contains(out, "0 changed") || !strings.Contains(out, "1 tagged by hand left alone") {
				t.Errorf("retag with nothing new: exit %d, %q %s", code, out, stderr)
			}
			out, _, code = articlesRun(db, "articles", "explain", itoa(wiesbaden))
			if code != 0 || !strings.Contains(out, "tags set by hand: regions DE-BY; topics beschaffung") {
				t.Errorf("explain of a manually tagged article does not say so:\n%s", out)
			}
			out, stderr, code = articlesRun(db, "articles", "tag", itoa(wiesbaden), "--auto")
			if code != 0 || !strings.Contains(out, "regions DE-HE;") || !strings.Contains(out, "automatic again") {
				t.Errorf("tag --auto: exit %d, %q %s", code, out, stderr)
			}
			if _, stderr, code := articlesRun(db, "articles", "tag", itoa(wiesbaden), "--auto", "--region", "DE-BY"); code != 2 || !strings.Contains(stderr, "--auto cannot be combined") {
				t.Errorf("tag --auto --region: exit %d, %s", code, stderr)
			}

			// tags an older tagger left behind are replaced by retag, manual ones are not
			sdb := openForTest(t, db)
			if _, err := sdb.Exec(sdb.Rebind(`UPDATE article_regions SET region_code = 'DE-SL' WHERE article_id = ?`), studie); err != nil {
				t.Fatal(err)
			}
			if _, stderr, code := articlesRun(db, "articles", "tag", itoa(wiesbaden), "--region", "DE-BY"); code != 0 {
				t.Fatalf("tag: %s", stderr)
			}
			out, stderr, code = articlesRun(db, "articles", "retag", "--since", "2020-01-01T00:00:00Z")
			if code != 0 || !strings.Contains(out, "1 changed") || !strings.Contains(out, "1 tagged by hand left alone") {
				t.Errorf("retag: exit %d, %q %s", code, out, stderr)
			}
			out, _, _ = articlesRun(db, "articles", "list", "--region", "DE-SL")
			if strings.Contains(out, "Studie") {
				t.Errorf("retag left the stale DE-SL tag:\n%s", out)
			}
			out, _, _ = articlesRun(db, "articles", "list", "--region", "DE-BY")
			if !strings.Contains(out, "Wiesbaden") {
				t.Errorf("retag replaced a manual tag:\n%s", out)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// regexpLine reports whether some line of out matches the expression.
func regexpLine(out, expr string) bool {
	re := regexp.MustCompile(`(?m)^` + expr)
	return re.MatchString(out)
}

func openForTest(t *testing.T, dbURL string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

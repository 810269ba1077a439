package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// hostileText holds what must never reach a terminal raw: bidi overrides and
// isolates, NUL, an ESC sequence (clear screen, set the window title), DEL,
// a C1 control and CR/LF that would forge a table row.
const hostileText = "Evil\u202eTXT.exe\u2066iso\u2069 \x00nul \x1b[2J\x1b]0;title\x07 del\x7f c1\u009b\r\nFAKE-ROW 99 forged"

func rawUnsafe(s string) []string {
	var found []string
	for _, bad := range []string{"\u202e", "\u2066", "\u2069", "\x00", "\x1b", "\x07", "\x7f", "\u009b", "\r"} {
		if strings.Contains(s, bad) {
			found = append(found, strings.Trim(fmtQ(bad), `"`))
		}
	}
	return found
}

func fmtQ(s string) string { b, _ := json.Marshal(s); return string(b) }

// TestListings_CleanStoredText: stored names, titles and kickers with control
// and bidi characters are printed cleaned by every listing (the text form
// shows none of them, the JSON form only as \u escapes), and a CR/LF in a
// title does not start a line of its own.
func TestListings_CleanStoredText(t *testing.T) {
	dbURL := storetest.SQLiteURL(t)
	if _, stderr, code := articlesRun(dbURL, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	feed := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(feed, articles.SampleFeed, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := articlesRun(dbURL, "articles", "import", feed); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	if _, stderr, code := articlesRun(dbURL, "subscribers", "add", "evil@example.org", "--name", "Placeholder", "--confirmed"); code != 0 {
		t.Fatalf("subscribers add: %s", stderr)
	}
	// Text stored by an older version, a direct database edit or a hostile
	// import: put it there as it is.
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE subscribers SET name = ? WHERE email = 'evil@example.org'",
		"UPDATE articles SET title = ?, kicker = ? WHERE id = (SELECT min(id) FROM articles)",
		"UPDATE topics SET name = ? WHERE slug = (SELECT min(slug) FROM topics)",
	} {
		args := []any{hostileText}
		if strings.Contains(q, "kicker") {
			args = append(args, hostileText)
		}
		if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var id string
	if err := db.GetContext(ctx, &id, "SELECT CAST(min(id) AS TEXT) FROM articles"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, args := range [][]string{
		{"subscribers", "list"},
		{"subscribers", "show", "evil@example.org"},
		{"articles", "list"},
		{"articles", "explain", id},
		{"articles", "review"},
		{"topics", "list"},
		{"topics", "list", "--json"},
		{"subscribers", "list", "--json"},
		{"articles", "list", "--json"},
	} {
		stdout, stderr, code := articlesRun(dbURL, args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
			continue
		}
		if bad := rawUnsafe(stdout + stderr); len(bad) > 0 {
			t.Errorf("%v prints %v raw:\n%q", args, bad, stdout)
		}
		if !strings.Contains(stdout, "Evil") && !strings.Contains(args[1], "review") {
			t.Errorf("%v does not show the stored text at all:\n%s", args, stdout)
		}
		for _, line := range strings.Split(stdout, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "FAKE-ROW") {
				t.Errorf("%v: a line break in stored text forged a row: %q", args, line)
			}
		}
		if args[len(args)-1] == "--json" {
			var v any
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Errorf("%v is not JSON any more: %v", args, err)
			} else if b, _ := json.Marshal(v); !strings.Contains(string(b), "\u202e") {
				t.Errorf("%v: the JSON value lost the stored text (want it escaped, not changed)", args)
			}
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/store/storetest"
)

// articlesRun runs the program with DIGEST_DB set to dbURL.
func articlesRun(dbURL string, args ...string) (stdout, stderr string, code int) {
	var out, errOut bytes.Buffer
	env := map[string]string{"DIGEST_DB": dbURL}
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), exitCode(err)
}

func TestArticlesCommands(t *testing.T) {
	db := storetest.SQLiteURL(t)
	if _, stderr, code := articlesRun(db, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	dir := t.TempDir()
	feed := filepath.Join(dir, "kommune21.xml")
	if err := os.WriteFile(feed, articles.SampleFeed, 0o600); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := articlesRun(db, "articles", "import", feed, "--at", "2026-02-20T08:00:00+01:00")
	if code != 0 || out != feed+": 16 new, 0 updated, 0 unchanged\n" {
		t.Fatalf("import: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	out, _, code = articlesRun(db, "articles", "import", "--at", "2026-02-21T08:00:00+01:00", feed)
	if code != 0 || out != feed+": 0 new, 0 updated, 16 unchanged\n" {
		t.Fatalf("re-import: exit %d, stdout %q", code, out)
	}

	out, stderr, code = articlesRun(db, "articles", "list", "--json", "--region", "de-st")
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, stderr)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list --json is not a JSON array: %v\n%s", err, out)
	}
	if len(list) != 3 {
		t.Fatalf("%d articles in DE-ST, want 3 (Sachsen-Anhalt, Magdeburg, Halle)", len(list))
	}
	wantKeys := "id,url,title,kicker,teaser,published_at,ingested_at,regions,topics"
	for _, a := range list {
		var keys []string
		for _, k := range strings.Split(wantKeys, ",") {
			if _, ok := a[k]; ok {
				keys = append(keys, k)
			}
		}
		if strings.Join(keys, ",") != wantKeys || len(a) != 9 {
			t.Fatalf("JSON fields %v, want exactly %s", a, wantKeys)
		}
		if a["ingested_at"] != "2026-02-20T07:00:00Z" {
			t.Errorf("ingested_at = %v, want the first import's --at", a["ingested_at"])
		}
	}
	id := int(list[0]["id"].(float64))
	idArg := strconv.Itoa(id)

	out, stderr, code = articlesRun(db, "articles", "tag", idArg, "--region", "DE-BY", "--region", "de-he", "--topic", "low-code")
	if code != 0 || !strings.Contains(out, "regions DE-BY,DE-HE; topics low-code") {
		t.Fatalf("tag: exit %d, %q %q", code, out, stderr)
	}
	_, _, code = articlesRun(db, "articles", "import", feed)
	if code != 0 {
		t.Fatal("third import failed")
	}
	out, _, _ = articlesRun(db, "articles", "list", "--json", "--topic", "low-code", "--region", "DE-HE")
	if !strings.Contains(out, `"id": `+idArg+",") {
		t.Errorf("manual tags lost after re-import:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"articles", "tag", idArg, "--region", "DE-XX"}, 2, []string{`unknown region "DE-XX"`, "DE-TH"}},
		{[]string{"articles", "tag", idArg, "--topic", "ki"}, 2, []string{`unknown topic "ki"`, "kuenstliche-intelligenz"}},
		{[]string{"articles", "tag", idArg}, 2, []string{"--region or --topic"}},
		{[]string{"articles", "tag", "abc", "--region", "DE"}, 2, []string{`"abc" is not a number`}},
		{[]string{"articles", "tag", "99999", "--region", "DE"}, 1, []string{"article 99999", "not found"}},
		{[]string{"articles", "list", "--region", "Bavaria"}, 2, []string{`unknown region "BAVARIA"`}},
		{[]string{"articles", "import", "--at", "yesterday", feed}, 2, []string{"RFC 3339"}},
		{[]string{"articles", "import"}, 2, []string{"needs 1 argument"}},
		{[]string{"articles", "import", filepath.Join(dir, "missing.xml")}, 1, []string{"missing.xml", "no such file"}},
	} {
		_, stderr, code := articlesRun(db, c.args...)
		if code != c.code {
			t.Errorf("digest %s: exit %d, want %d (%s)", strings.Join(c.args, " "), code, c.code, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("digest %s: stderr %q does not contain %q", strings.Join(c.args, " "), stderr, w)
			}
		}
	}

	// A broken feed: exit 1, the file and the position named, nothing stored.
	broken := filepath.Join(dir, "broken.xml")
	os.WriteFile(broken, articles.SampleFeed[:2000], 0o600)
	_, stderr, code = articlesRun(db, "articles", "import", broken)
	if code != 1 || !strings.Contains(stderr, "feed "+broken+" line ") || !strings.Contains(stderr, "nothing from this feed was imported") {
		t.Errorf("broken feed: exit %d, stderr %q", code, stderr)
	}
	out, _, _ = articlesRun(db, "articles", "list")
	if n := strings.Count(out, "\n"); n != 17 { // header + 16 articles
		t.Errorf("list after broken import has %d lines:\n%s", n, out)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kommune21/digest/store/storetest"
)

// cli runs the real program against one migrated database.
type cli struct {
	t   *testing.T
	env map[string]string
	dir string
}

func newCLI(t *testing.T, dbURL string) *cli {
	t.Helper()
	dir := t.TempDir()
	c := &cli{t: t, dir: dir, env: map[string]string{"DIGEST_DB": dbURL, "DIGEST_SMTP": "file:" + filepath.Join(dir, "outbox")}}
	if _, stderr, code := c.run("", "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	return c
}

// eachCLI runs fn on a fresh SQLite and a fresh PostgreSQL database.
func eachCLI(t *testing.T, fn func(t *testing.T, c *cli)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newCLI(t, storetest.SQLiteURL(t))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newCLI(t, storetest.PostgresURL(t))) })
}

func (c *cli) run(stdin string, args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return c.env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), exitCode(err)
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != 0 {
		c.t.Fatalf("digest %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// fail runs a command that must fail with the exit code and returns stderr.
func (c *cli) fail(wantCode int, args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != wantCode {
		c.t.Fatalf("digest %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, out, errOut)
	}
	return errOut
}

func (c *cli) file(name, content string) string {
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

type jsonSub struct {
	Email     string   `json:"email"`
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	Regions   []string `json:"regions"`
	Topics    []string `json:"topics"`
	Cadence   string   `json:"cadence"`
	CreatedAt string   `json:"created_at"`
}

func (c *cli) list(args ...string) []jsonSub {
	c.t.Helper()
	out := c.ok(append([]string{"subscribers", "list", "--json"}, args...)...)
	var subs []jsonSub
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&subs); err != nil {
		c.t.Fatalf("list --json is not one JSON array of subscribers: %v\n%s", err, out)
	}
	if dec.More() {
		c.t.Fatalf("list --json printed more than one JSON value:\n%s", out)
	}
	return subs
}

func emails(subs []jsonSub) string {
	var out []string
	for _, s := range subs {
		out = append(out, s.Email+"/"+s.Status)
	}
	return strings.Join(out, " ")
}

func TestSubscribersAdd(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		t.Run("Confirmed", func(t *testing.T) {
			out := c.ok("subscribers", "add", "Anna.Schmidt@Example.org", "--name", "Anna Schmidt", "--region", "de-by", "--region", "DE-HE,DE-TH",
				"--topic", "it-sicherheit", "--cadence", "daily", "--confirmed", "--source", "signed form 2026-02-19")
			if !strings.Contains(out, "added Anna.Schmidt@Example.org (active, daily, regions: DE-BY,DE-HE,DE-TH, topics: it-sicherheit)") {
				t.Fatalf("stdout %q", out)
			}
			show := c.ok("subscribers", "show", "anna.schmidt@example.org")
			for _, want := range []string{"Email:", "Anna.Schmidt@Example.org", "DE-BY (Bayern), DE-HE (Hessen), DE-TH (Thüringen)", "it-sicherheit (IT-Sicherheit)",
				`staff at 20`, `source "signed form 2026-02-19"`} {
				if !strings.Contains(show, want) {
					t.Errorf("show lacks %q:\n%s", want, show)
				}
			}
			var obj map[string]any
			if err := json.Unmarshal([]byte(c.ok("subscribers", "show", "ANNA.SCHMIDT@example.org", "--json")), &obj); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(sortedKeysAny(obj), ","); got != "cadence,created_at,email,name,regions,status,topics" {
				t.Fatalf("show --json keys %s", got)
			}
		})
		t.Run("ExistsInOtherCase", func(t *testing.T) {
			stderr := c.fail(1, "subscribers", "add", "ANNA.SCHMIDT@EXAMPLE.ORG", "--confirmed")
			if !strings.Contains(stderr, "Anna.Schmidt@Example.org is already a subscriber (active") || !strings.Contains(stderr, "--update") {
				t.Fatalf("stderr %q", stderr)
			}
			out := c.ok("subscribers", "add", "ANNA.SCHMIDT@EXAMPLE.ORG", "--update", "--name", "Anna S.")
			if !strings.Contains(out, "updated Anna.Schmidt@Example.org: name") {
				t.Fatalf("stdout %q", out)
			}
			subs := c.list()
			if len(subs) != 1 || subs[0].Name != "Anna S." || !reflect.DeepEqual(subs[0].Regions, []string{"DE-BY", "DE-HE", "DE-TH"}) || subs[0].Cadence != "daily" {
				t.Fatalf("after add --update: %+v (only the name should change)", subs)
			}
		})
		t.Run("BadInput", func(t *testing.T) {
			for _, tc := range []struct {
				args []string
				want []string
			}{
				{[]string{"x@example.org", "--region", "DE-XX"}, []string{`field "regions" value "DE-XX": unknown region; use one of DE, DE-BW, DE-BY`}},
				{[]string{"x@example.org", "--topic", "ki", "--cadence", "monthly"}, []string{`field "topics" value "ki": unknown topic; use one of`, "kuenstliche-intelligenz", `field "cadence" value "monthly"`}},
				{[]string{"x@example.org", "--name", "Evil\r\nBcc: victim@example.org"}, []string{`field "name" value "Evil\r\nBcc: victim@example.org": contains a control character`}},
				{[]string{"x@example.org", "--name", "A\x00B"}, []string{`field "name" value "A\x00B"`}},
				{[]string{"x@example.org", "--name", strings.Repeat("ü", 10240)}, []string{`(20480 bytes): 10240 characters long`}},
				{[]string{"Anna <x@example.org>"}, []string{`field "email" value "Anna <x@example.org>"`, "bare address"}},
				{[]string{"x@localhost"}, []string{"has no dot"}},
			} {
				stderr := c.fail(2, append([]string{"subscribers", "add"}, tc.args...)...)
				for _, w := range tc.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("add %.60q: stderr lacks %q:\n%.500s", tc.args, w, stderr)
					}
				}
			}
			if subs := c.list(); len(subs) != 1 {
				t.Fatalf("bad input added subscribers: %+v", subs)
			}
		})
		t.Run("PendingWithIDN", func(t *testing.T) {
			out, stderr, code := c.run("", "subscribers", "add", "jörg@bücher.de", "--name", "Jörg")
			if !strings.Contains(out, "added jörg@bücher.de (pending, weekly, regions: all, topics: all)") {
				t.Fatalf("stdout %q stderr %q", out, stderr)
			}
			switch code {
			case 0:
				if !strings.Contains(out, "sent the confirmation email to jörg@bücher.de") {
					t.Fatalf("stdout %q", out)
				}
			case 1: // the mail could not go out: the subscriber stays pending and staff learn how to retry
				if !strings.Contains(stderr, "stays pending") || !strings.Contains(stderr, "digest subscribers resend-confirmation jörg@bücher.de") {
					t.Fatalf("stderr %q", stderr)
				}
			default:
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := emails(c.list("--status", "pending")); got != "jörg@bücher.de/pending" {
				t.Fatalf("pending list %q", got)
			}
			if stderr := c.fail(1, "subscribers", "resend-confirmation", "anna.schmidt@example.org"); !strings.Contains(stderr, "is active, not pending") {
				t.Fatalf("resend to active: %q", stderr)
			}
		})
	})
}

func sortedKeysAny(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

const importCSV = "\xEF\xBB\xBFEmail,Name,Regions,Topics,Cadence\n" +
	"anna@example.org,\"Schmidt, Anna\",DE-BY;DE-HE,it-sicherheit;open-source,\n" +
	"bob@example.org,Bob,,,daily\n" +
	"carla@example.org,\"Carla \"\"CJ\"\" Jung\",DE,,weekly\n"

func TestSubscribersImport(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		t.Run("BadRowsImportNothing", func(t *testing.T) {
			bad := c.file("bad.csv", importCSV+
				"dora@example.org,Dora,DE-XX,,\n"+
				"ANNA@example.org,Anna again,,,\n"+
				"eve@example.org,\"Eve\nline two\",,,\n"+
				"frank@example.org,Frank,,\"ki;open-source\",\n")
			stderr := c.fail(1, "subscribers", "import", bad, "--confirmed")
			for _, want := range []string{
				"bad.csv: 4 problem(s), nothing was imported",
				`bad.csv:5: field "regions" value "DE-XX": unknown region; use one of DE, DE-BW`,
				`bad.csv:6: field "email" value "ANNA@example.org": the same address as line 2 (addresses are case-insensitive): keep one of lines 2 and 6`,
				`bad.csv:7: field "name" value "Eve\nline two": contains a control character`,
				`bad.csv:9: field "topics" value "ki": unknown topic`,
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if subs := c.list(); len(subs) != 0 {
				t.Fatalf("a failed import left %d subscribers", len(subs))
			}
			for name, content := range map[string]string{
				"broken.csv":  "email,name\nanna@example.org,Anna\nbob@example.org,\"Bob\n",
				"columns.csv": "email,vorname,land\n",
			} {
				stderr := c.fail(1, "subscribers", "import", c.file(name, content))
				want := map[string]string{"broken.csv": "broken.csv:3: column 22: broken quoting (a quoted field is not closed", "columns.csv": `columns.csv:1: unknown column(s) "vorname", "land"`}[name]
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
		good := c.file("people.csv", importCSV)
		t.Run("DryRun", func(t *testing.T) {
			out := c.ok("subscribers", "import", good, "--dry-run", "--confirmed")
			if !strings.Contains(out, "would add 3 (active), update 0, leave 0 unchanged; nothing was written") || !strings.Contains(out, "2     add     anna@example.org") {
				t.Fatalf("stdout:\n%s", out)
			}
			if subs := c.list(); len(subs) != 0 {
				t.Fatal("dry run wrote")
			}
		})
		t.Run("Confirmed", func(t *testing.T) {
			out := c.ok("subscribers", "import", good, "--confirmed")
			if out != "imported "+good+": 3 rows; added 3 (active), updated 0, unchanged 0\n" {
				t.Fatalf("stdout %q (no progress bar when stdout is not a terminal)", out)
			}
			subs := c.list()
			want := []jsonSub{
				{Email: "anna@example.org", Name: "Schmidt, Anna", Status: "active", Regions: []string{"DE-BY", "DE-HE"}, Topics: []string{"it-sicherheit", "open-source"}, Cadence: "weekly"},
				{Email: "bob@example.org", Name: "Bob", Status: "active", Regions: []string{}, Topics: []string{}, Cadence: "daily"},
				{Email: "carla@example.org", Name: "Carla \"CJ\" Jung", Status: "active", Regions: []string{"DE"}, Topics: []string{}, Cadence: "weekly"},
			}
			for i := range subs {
				if subs[i].CreatedAt == "" {
					t.Fatal("created_at missing")
				}
				subs[i].CreatedAt = ""
			}
			if !reflect.DeepEqual(subs, want) {
				t.Fatalf("list --json\n%+v\nwant\n%+v", subs, want)
			}
			if show := c.ok("subscribers", "show", "anna@example.org"); !strings.Contains(show, `import at `) || !strings.Contains(show, `source "people.csv"`) {
				t.Fatalf("consent evidence not recorded:\n%s", show)
			}
		})
		t.Run("AgainChangesNothing", func(t *testing.T) {
			before := c.list()
			out := c.ok("subscribers", "import", good, "--confirmed")
			if !strings.Contains(out, "added 0 (active), updated 0, unchanged 3") || !reflect.DeepEqual(before, c.list()) {
				t.Fatalf("stdout %q", out)
			}
		})
		t.Run("UpdateAndPending", func(t *testing.T) {
			changed := c.file("changed.csv", "email,regions\nbob@example.org,DE-SN\nnew@example.org,DE-BE\n")
			stderr := c.fail(1, "subscribers", "import", changed)
			if !strings.Contains(stderr, `changed.csv:2: field "email" value "bob@example.org": already a subscriber (active) with a different regions: run the import with --update`) {
				t.Fatalf("stderr %q", stderr)
			}
			out := c.ok("subscribers", "import", changed, "--update")
			if !strings.Contains(out, "added 1 (pending), updated 1, unchanged 0") || !strings.Contains(out, "resend-confirmation") {
				t.Fatalf("stdout %q", out)
			}
			if got := emails(c.list("--region", "DE-SN")); got != "bob@example.org/active" {
				t.Fatalf("--region DE-SN: %q", got)
			}
		})
		t.Run("Stdin", func(t *testing.T) {
			// stdin is copied to a temporary file (the import reads it twice),
			// which is gone afterwards, also when the import fails.
			tmp := t.TempDir()
			c.env["TMPDIR"] = tmp
			defer delete(c.env, "TMPDIR")
			left := func() []string {
				entries, err := os.ReadDir(tmp)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				return names
			}
			out, stderr, code := c.run("email\nstdin@example.org\n", "subscribers", "import", "-", "--confirmed")
			if code != 0 || !strings.Contains(out, "imported stdin: 1 rows; added 1 (active)") {
				t.Fatalf("exit %d %q %q", code, out, stderr)
			}
			if show := c.ok("subscribers", "show", "stdin@example.org"); !strings.Contains(show, `source "stdin"`) {
				t.Fatalf("consent source not stdin:\n%s", show)
			}
			if names := left(); len(names) != 0 {
				t.Fatalf("temporary files left after an import from stdin: %q", names)
			}
			_, stderr, code = c.run("email\nstdin2@example.org\nbad-address\n", "subscribers", "import", "-", "--confirmed")
			if code != 1 || !strings.Contains(stderr, `stdin:3: field "email" value "bad-address"`) {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if names := left(); len(names) != 0 {
				t.Fatalf("temporary files left after a failed import from stdin: %q", names)
			}
			out, stderr, code = c.run("email\nstdin3@example.org\n", "subscribers", "import", "-", "--dry-run")
			if code != 0 || !strings.Contains(out, "2     add     stdin3@example.org") || len(left()) != 0 {
				t.Fatalf("dry run from stdin: exit %d %q %q, left %q", code, out, stderr, left())
			}
		})
	})
}

func TestSubscribersChange(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		c.ok("subscribers", "import", c.file("p.csv", importCSV), "--confirmed")
		t.Run("Update", func(t *testing.T) {
			out := c.ok("subscribers", "update", "ANNA@example.org", "--region", "DE-NW", "--clear-topics", "--cadence", "daily", "--name", " Anna ")
			if !strings.Contains(out, "updated anna@example.org: name, regions, topics, cadence (regions: DE-NW, topics: all, daily)") {
				t.Fatalf("stdout %q", out)
			}
			if out := c.ok("subscribers", "update", "anna@example.org", "--cadence", "daily"); !strings.Contains(out, "nothing changed") {
				t.Fatalf("stdout %q", out)
			}
			c.fail(2, "subscribers", "update", "anna@example.org")
			c.fail(2, "subscribers", "update", "anna@example.org", "--region", "DE", "--clear-regions")
			if stderr := c.fail(2, "subscribers", "update", "anna@example.org", "--name", "a\tb"); !strings.Contains(stderr, `field "name" value "a\tb"`) {
				t.Fatalf("stderr %q", stderr)
			}
			if stderr := c.fail(1, "subscribers", "update", "nobody@example.org", "--name", "x"); !strings.Contains(stderr, `no subscriber has the address "nobody@example.org"`) {
				t.Fatalf("stderr %q", stderr)
			}
		})
		t.Run("Unsubscribe", func(t *testing.T) {
			if out := c.ok("subscribers", "unsubscribe", "bob@example.org"); out != "unsubscribed bob@example.org (was active)\n" {
				t.Fatalf("stdout %q", out)
			}
			if out := c.ok("subscribers", "unsubscribe", "BOB@example.org"); !strings.Contains(out, "was already unsubscribed on") {
				t.Fatalf("stdout %q", out)
			}
			if got := emails(c.list("--status", "unsubscribed")); got != "bob@example.org/unsubscribed" {
				t.Fatalf("%q", got)
			}
			c.fail(2, "subscribers", "list", "--status", "gone")
		})
		t.Run("Delete", func(t *testing.T) {
			out := c.ok("subscribers", "delete", "carla@example.org")
			if out != "erased carla@example.org: address, name, consent evidence, 1 region(s) and 0 topic(s) deleted; 0 past deliveries kept as anonymous counts\n" {
				t.Fatalf("stdout %q", out)
			}
			if stderr := c.fail(1, "subscribers", "show", "carla@example.org"); !strings.Contains(stderr, "no subscriber has the address") {
				t.Fatalf("stderr %q", stderr)
			}
			if strings.Contains(c.ok("subscribers", "export", "--status", "active"), "carla") {
				t.Fatal("erased subscriber exported")
			}
		})
		t.Run("Table", func(t *testing.T) {
			out := c.ok("subscribers", "list")
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != 3 {
				t.Fatalf("table:\n%s", out)
			}
			col := strings.Index(lines[0], "STATUS")
			for _, l := range lines[1:] {
				if r := []rune(l); len(r) <= col || (!strings.HasPrefix(string(r[col:]), "active") && !strings.HasPrefix(string(r[col:]), "unsubscribed")) {
					t.Fatalf("STATUS column not aligned at %d:\n%s", col, out)
				}
			}
			if !strings.Contains(out, "Anna") || !strings.Contains(out, "DE-NW") || !strings.Contains(out, "all") {
				t.Fatalf("table:\n%s", out)
			}
			if got := c.ok("subscribers", "list", "--json", "--status", "bounced"); got != "[]\n" {
				t.Fatalf("empty list --json = %q", got)
			}
		})
	})
}

func TestSubscribersExportImport(t *testing.T) {
	eachCLI(t, func(t *testing.T, src *cli) {
		src.ok("subscribers", "import", src.file("p.csv", importCSV+"dora@example.org,\"Müller, Dora\",DE-SH;DE-BY,e-akte-dokumente;beschaffung,daily\n"), "--confirmed")
		src.ok("subscribers", "add", "pending@example.org", "--region", "DE")
		src.ok("subscribers", "unsubscribe", "bob@example.org")
		path := filepath.Join(src.dir, "export.csv")
		if out := src.ok("subscribers", "export", path); out != "exported 3 active subscriber(s) to "+path+"\n" {
			t.Fatalf("stdout %q", out)
		}
		stdout := src.ok("subscribers", "export")
		data, _ := os.ReadFile(path)
		if string(data) != stdout || !strings.HasPrefix(stdout, "email,name,regions,topics,cadence\n") {
			t.Fatalf("file and stdout differ or lack the header:\n%s\n%s", data, stdout)
		}

		// Into an empty database of the same kind.
		var dst *cli
		if strings.HasPrefix(src.env["DIGEST_DB"], "postgres") {
			dst = newCLI(t, storetest.PostgresURL(t))
		} else {
			dst = newCLI(t, storetest.SQLiteURL(t))
		}
		dst.ok("subscribers", "import", path, "--confirmed")
		strip := func(subs []jsonSub) []jsonSub {
			for i := range subs {
				subs[i].CreatedAt = ""
			}
			return subs
		}
		if a, b := strip(src.list("--status", "active")), strip(dst.list()); !reflect.DeepEqual(a, b) {
			t.Fatalf("export → import changed people or choices:\n%+v\n%+v", a, b)
		}
	})
}

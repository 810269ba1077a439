package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo_NeverDeletesWhatItDidNotMake: `digest demo --dir .` in a folder
// holding a staff member's digest.db and outbox refuses and removes nothing;
// a new folder is made and marked, and a second demo there replaces its own
// files.
func TestDemo_NeverDeletesWhatItDidNotMake(t *testing.T) {
	work := t.TempDir()
	db, mail := filepath.Join(work, "digest.db"), filepath.Join(work, "outbox", "r1.d1@x.eml")
	os.MkdirAll(filepath.Dir(mail), 0o755)
	os.WriteFile(db, []byte("real subscribers"), 0o600)
	os.WriteFile(mail, []byte("sent mail"), 0o600)

	_, stderr, code := articlesRun("sqlite:"+filepath.Join(t.TempDir(), "unused.db"), "demo", "--dir", work)
	if code != 2 || !strings.Contains(stderr, "was not made by `digest demo`; nothing was removed") {
		t.Fatalf("demo --dir with foreign files: exit %d, %s", code, stderr)
	}
	if b, err := os.ReadFile(db); err != nil || string(b) != "real subscribers" {
		t.Fatalf("the demo touched digest.db: %q, %v", b, err)
	}
	if _, err := os.Stat(mail); err != nil {
		t.Fatalf("the demo touched outbox/: %v", err)
	}

	fresh := filepath.Join(t.TempDir(), "new")
	for i := 0; i < 2; i++ {
		out, stderr, code := articlesRun("sqlite:"+filepath.Join(t.TempDir(), "unused.db"), "demo", "--dir", fresh)
		if code != 0 || !strings.Contains(out, "digests written as .eml files") {
			t.Fatalf("demo run %d in its own folder: exit %d\n%s\n%s", i+1, code, out, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(fresh, demoMark)); err != nil {
		t.Errorf("the demo's folder is not marked: %v", err)
	}
}

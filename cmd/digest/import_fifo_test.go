//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSubscribersImport_Pipe: a named file that can be read only once (a
// FIFO, like `<(…)` in a shell) is copied first, so the import's second pass
// sees the same rows and the temporary copy is removed afterwards.
func TestSubscribersImport_Pipe(t *testing.T) {
	eachCLI(t, func(t *testing.T, c *cli) {
		tmp := t.TempDir()
		c.env["TMPDIR"] = tmp
		fifo := filepath.Join(t.TempDir(), "people.csv")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFO here:", err)
		}
		go func() {
			f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			defer f.Close()
			f.WriteString(importCSV)
		}()
		out := c.ok("subscribers", "import", fifo, "--confirmed")
		if !strings.Contains(out, "3 rows; added 3 (active)") {
			t.Fatalf("stdout %q", out)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	})
}

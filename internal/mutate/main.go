// Command mutate is mutation testing for the policy packages (`make mutate`):
// it applies each one-line mutation of mutations.txt in a temporary copy of
// the module, runs the tests of the mutated package, and prints the mutation
// score and the mutants that survived (no test failed).
//
// Maintained Go mutation tools (go-gremlins) mutate operators in Go code; the
// policy here lives mostly in SQL strings (the window, the history, the
// claims), which they do not touch, hence a committed list.
//
// It is slow (one package test run per mutant) and not part of go test or
// CI. Set DIGEST_TEST_POSTGRES to test on PostgreSQL too, as CI does.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

type mutation struct {
	line           int
	file, old, new string
	what           string
}

func main() {
	list := flag.String("list", "internal/mutate/mutations.txt", "the mutations, one per line: FILE | TEXT | REPLACEMENT | what it breaks")
	only := flag.String("only", "", "run only the mutations whose file or description contains this text")
	timeout := flag.Duration("timeout", 10*time.Minute, "longest test run of one mutant (longer counts as killed)")
	flag.Parse()
	if err := run(*list, *only, *timeout, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(1)
	}
}

func parse(r io.Reader, name string) ([]mutation, error) {
	var ms []mutation
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		f := strings.Split(line, " | ")
		if len(f) != 4 {
			return nil, fmt.Errorf("%s:%d: want 4 fields separated by \" | \", got %d", name, n, len(f))
		}
		m := mutation{line: n, file: strings.TrimSpace(f[0]), old: strings.TrimSpace(f[1]), new: strings.TrimSpace(f[2]), what: strings.TrimSpace(f[3])}
		if m.old == m.new {
			return nil, fmt.Errorf("%s:%d: the replacement equals the text", name, n)
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

func run(listPath, only string, timeout time.Duration, w io.Writer) error {
	f, err := os.Open(listPath)
	if err != nil {
		return err
	}
	ms, err := parse(f, listPath)
	f.Close()
	if err != nil {
		return err
	}
	// Check every mutation against the source before the slow part.
	for _, m := range ms {
		src, err := os.ReadFile(m.file)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", listPath, m.line, err)
		}
		if n := bytes.Count(src, []byte(m.old)); n != 1 {
			return fmt.Errorf("%s:%d: %q occurs %d times in %s, want exactly once: make the text longer", listPath, m.line, m.old, n, m.file)
		}
	}
	tmp, err := os.MkdirTemp("", "digest-mutate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := copyModule(tmp); err != nil {
		return err
	}
	var killed, survived, invalid int
	var survivors []string
	start := time.Now()
	for _, m := range ms {
		if only != "" && !strings.Contains(m.file, only) && !strings.Contains(m.what, only) {
			continue
		}
		path := filepath.Join(tmp, m.file)
		orig, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, bytes.Replace(orig, []byte(m.old), []byte(m.new), 1), 0o644); err != nil {
			return err
		}
		pkg := "./" + filepath.Dir(m.file)
		t0 := time.Now()
		verdict, detail := test(tmp, pkg, timeout)
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			return err
		}
		switch verdict {
		case "killed":
			killed++
		case "SURVIVED":
			survived++
			survivors = append(survivors, fmt.Sprintf("%s:%d %s: %s", listPath, m.line, m.file, m.what))
		default:
			invalid++
		}
		fmt.Fprintf(w, "%-8s %-20s %6.1fs  %s%s\n", verdict, m.file, time.Since(t0).Seconds(), m.what, detail)
	}
	total := killed + survived
	if total == 0 {
		return errors.New("no mutation ran")
	}
	fmt.Fprintf(w, "\nmutation score %.1f%%: %d of %d mutants killed (%d did not build) in %s\n",
		100*float64(killed)/float64(total), killed, total, invalid, time.Since(start).Round(time.Second))
	for _, s := range survivors {
		fmt.Fprintln(w, "survived:", s)
	}
	return nil
}

// test runs the package's tests on the mutated copy.
func test(dir, pkg string, timeout time.Duration) (verdict, detail string) {
	if out, err := goCmd(context.Background(), dir, "vet", pkg); err != nil {
		return "invalid", ": does not build: " + firstLine(out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := goCmd(ctx, dir, "test", "-count=1", "-failfast", pkg)
	if ctx.Err() != nil {
		return "killed", " (timed out)"
	}
	if err != nil {
		return "killed", " (" + failedTest(out) + ")"
	}
	return "SURVIVED", ""
}

func goCmd(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func failedTest(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "--- FAIL: ") {
			return strings.Fields(t)[2]
		}
	}
	return firstLine(out)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// copyModule copies the files git knows (or, outside git, the working tree
// without .git) into dir.
func copyModule(dir string) error {
	out, err := exec.Command("git", "ls-files", "-z").Output()
	var files []string
	if err == nil {
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		err = filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin") {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Command testreport reads `go test -json` on standard input and prints what
// go test prints without -json: each package's result line and the output of
// the tests that failed. It ends with one line "N passed, N failed, N skipped"
// and the skipped tests with their reasons, and exits 1 when a test or a
// build failed or when a test was skipped for a reason that -allow (a regular
// expression) does not match.
//
// CI (.ci/run) pipes the whole suite through it: every test must run there
// (PostgreSQL, the browser, the end-to-end tests), so a skip means coverage
// silently vanished. Without -json, go test prints no skip messages at all.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string // build-output, build-fail
}

// summary is what a stream of events said.
type summary struct {
	passed, failed, skipped int
	buildFailed, pkgFailed  bool
	skips                   []string // "pkg TestX: reason"
	badSkips                int      // skips that -allow does not excuse
}

func main() {
	allow := flag.String("allow", "", "`regexp` of skip reasons that do not fail the run (an environment the project cannot provide)")
	flag.Parse()
	var re *regexp.Regexp
	if *allow != "" {
		var err error
		if re, err = regexp.Compile(*allow); err != nil {
			fmt.Fprintln(os.Stderr, "testreport: -allow:", err)
			os.Exit(2)
		}
	}
	s, err := report(os.Stdin, os.Stdout, re)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	if s.failed > 0 || s.buildFailed || s.pkgFailed || s.badSkips > 0 {
		os.Exit(1)
	}
}

func report(r io.Reader, w io.Writer, allow *regexp.Regexp) (summary, error) {
	var s summary
	pending := map[string][]string{} // package + test → output lines so far
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// go test prints some errors (a package that does not build
			// with an old toolchain, a vet failure) as plain text.
			fmt.Fprintln(w, string(line))
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "build-fail":
			s.buildFailed = true
		case "output":
			if e.Test == "" {
				if strings.TrimSpace(e.Output) != "PASS" {
					fmt.Fprint(w, e.Output)
				}
				continue
			}
			pending[key] = append(pending[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				// A package can fail without a failed test (a timeout, a
				// panic in TestMain); it printed why as package output.
				s.pkgFailed = s.pkgFailed || e.Action == "fail"
				continue
			}
			out := pending[key]
			delete(pending, key)
			switch e.Action {
			case "pass":
				s.passed++
			case "fail":
				s.failed++
				for _, o := range out {
					fmt.Fprint(w, o)
				}
			case "skip":
				s.skipped++
				reason := skipReason(out)
				if allow == nil || !allow.MatchString(reason) {
					s.badSkips++
					reason += " (not allowed)"
				}
				s.skips = append(s.skips, e.Package+" "+e.Test+": "+reason)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return s, err
	}
	fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	for _, sk := range s.skips {
		fmt.Fprintln(w, "skipped:", sk)
	}
	if s.badSkips > 0 {
		fmt.Fprintf(w, "FAIL: %d tests were skipped; CI runs every test\n", s.badSkips)
	}
	return s, nil
}

// skipReason is the message a skipped test logged (t.Skip's argument).
func skipReason(out []string) string {
	var msgs []string
	for _, o := range out {
		o = strings.TrimSpace(o)
		if o == "" || strings.HasPrefix(o, "=== ") || strings.HasPrefix(o, "--- SKIP") {
			continue
		}
		msgs = append(msgs, o)
	}
	if len(msgs) == 0 {
		return "no reason given"
	}
	return strings.Join(msgs, " ")
}

package main

import (
	"io"
	"regexp"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"example/a"}`,
		`{"Action":"run","Package":"example/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"example/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}`,
		`{"Action":"output","Package":"example/a","Test":"TestOK","Output":"--- PASS: TestOK (0.00s)\n"}`,
		`{"Action":"pass","Package":"example/a","Test":"TestOK"}`,
		`{"Action":"run","Package":"example/a","Test":"TestDB/postgres"}`,
		`{"Action":"output","Package":"example/a","Test":"TestDB/postgres","Output":"    storetest.go:54: PostgreSQL test skipped: set DIGEST_TEST_POSTGRES\n"}`,
		`{"Action":"output","Package":"example/a","Test":"TestDB/postgres","Output":"--- SKIP: TestDB/postgres (0.00s)\n"}`,
		`{"Action":"skip","Package":"example/a","Test":"TestDB/postgres"}`,
		`{"Action":"output","Package":"example/a","Output":"PASS\n"}`,
		`{"Action":"output","Package":"example/a","Output":"ok  \texample/a\t0.01s\n"}`,
		`{"Action":"pass","Package":"example/a"}`,
		`{"Action":"run","Package":"example/b","Test":"TestBad"}`,
		`{"Action":"output","Package":"example/b","Test":"TestBad","Output":"    b_test.go:9: got 1, want 2\n"}`,
		`{"Action":"fail","Package":"example/b","Test":"TestBad"}`,
		`{"Action":"output","Package":"example/b","Output":"FAIL\texample/b\t0.01s\n"}`,
		`{"Action":"fail","Package":"example/b"}`,
		`{"ImportPath":"example/c","Action":"build-output","Output":"c.go:3:1: syntax error\n"}`,
		`{"ImportPath":"example/c","Action":"build-fail"}`,
	}, "\n")
	var out strings.Builder
	s, err := report(strings.NewReader(in), &out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.passed != 1 || s.failed != 1 || s.skipped != 1 || s.badSkips != 1 || !s.buildFailed || !s.pkgFailed {
		t.Errorf("summary = %+v", s)
	}
	if s, _ := report(strings.NewReader(in), io.Discard, regexp.MustCompile(`^storetest.go:\d+: PostgreSQL`)); s.badSkips != 0 || s.skipped != 1 {
		t.Errorf("with -allow: %+v", s)
	}
	got := out.String()
	for _, want := range []string{
		"ok  \texample/a\t0.01s\n",
		"    b_test.go:9: got 1, want 2\nFAIL\texample/b",
		"c.go:3:1: syntax error\n",
		"\n1 passed, 1 failed, 1 skipped\n",
		"skipped: example/a TestDB/postgres: storetest.go:54: PostgreSQL test skipped: set DIGEST_TEST_POSTGRES (not allowed)\n",
		"FAIL: 1 tests were skipped",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "=== RUN") || strings.Contains(got, "--- PASS") || strings.HasPrefix(got, "PASS\n") || strings.Contains(got, "\nPASS\n") {
		t.Errorf("output has verbose lines:\n%s", got)
	}
}

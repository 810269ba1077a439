package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kommune21/digest/templates"
)

// cl makes stored text (a name, a title, a reason) safe to print as one cell
// or line: the cleaning the emails get (templates.CleanLine) — no control or
// bidi characters, no line breaks, no escape sequences.
func cl(s string) string { return templates.CleanLine(s) }

// unsafeRune is a rune a terminal must never get raw from stored text: C0
// and C1 controls (ESC starts a terminal escape sequence), DEL, bidi controls
// and other invisible format characters (U+202E, U+2066, U+200B, U+FEFF).
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}

// terminalWriter drops unsafe runes from everything a table prints, keeping
// the tabs and newlines the table itself writes: a second line of defence
// behind cl for every cell of every table.
type terminalWriter struct{ w io.Writer }

func (t terminalWriter) Write(p []byte) (int, error) {
	s := string(p)
	if !strings.ContainsFunc(s, func(r rune) bool { return r != '\t' && r != '\n' && unsafeRune(r) }) {
		return t.w.Write(p)
	}
	clean := strings.Map(func(r rune) rune {
		if r != '\t' && r != '\n' && unsafeRune(r) {
			return -1
		}
		return r
	}, s)
	if _, err := io.WriteString(t.w, clean); err != nil {
		return 0, err
	}
	return len(p), nil
}

// jsonEscapeUnsafe writes the runes a terminal must not get raw (DEL, C1
// controls, bidi and format characters) as \uXXXX escapes. encoding/json
// escapes the C0 controls itself; the value a program reads stays the same.
func jsonEscapeUnsafe(b []byte) []byte {
	if !strings.ContainsFunc(string(b), func(r rune) bool { return r >= 0x7f && unsafeRune(r) }) {
		return b
	}
	var out strings.Builder
	for _, r := range string(b) {
		if r >= 0x7f && unsafeRune(r) && r != utf8.RuneError {
			fmt.Fprintf(&out, `\u%04x`, r)
			continue
		}
		out.WriteRune(r)
	}
	return []byte(out.String())
}

// jsonWriter applies jsonEscapeUnsafe to what a JSON encoder writes.
type jsonWriter struct{ w io.Writer }

func (j jsonWriter) Write(p []byte) (int, error) {
	if _, err := j.w.Write(jsonEscapeUnsafe(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

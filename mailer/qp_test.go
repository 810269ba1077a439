package mailer

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
)

// crlf is b with every line break ("\n" or "\r\n") written as CRLF: what a
// hard line break of quoted-printable decodes to.
func crlf(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, bytes.TrimSuffix(b[:i], []byte("\r"))...)
		out = append(out, "\r\n"...)
		b = b[i+1:]
	}
	return out
}

// checkQP encodes b and fails unless the result is 7-bit, has lines of at
// most 76 characters, none starting with "." (no dot-stuffing needed), and
// decodes to b.
func checkQP(t testing.TB, b []byte) {
	t.Helper()
	enc, ok := appendQP(nil, b)
	if !ok {
		t.Fatalf("appendQP(%q) failed", b)
	}
	for i, line := range strings.Split(string(enc), "\r\n") {
		if len(line) > 76 {
			t.Fatalf("line %d has %d characters: %q", i+1, len(line), line)
		}
		if strings.HasPrefix(line, ".") {
			t.Fatalf("line %d starts with a dot: %q", i+1, line)
		}
		if strings.ContainsAny(line, "\r\n") || strings.IndexFunc(line, func(r rune) bool { return (r < ' ' && r != '\t') || r > '~' }) >= 0 {
			t.Fatalf("line %d is not printable ASCII: %q", i+1, line)
		}
	}
	dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
	if err != nil {
		t.Fatalf("decode %q: %v", enc, err)
	}
	if want := crlf(b); !bytes.Equal(dec, want) {
		t.Fatalf("round trip of %q:\nencoded %q\ndecoded %q", b, enc, dec)
	}
}

func TestAppendQP(t *testing.T) {
	for _, s := range []string{
		"",
		"Grüße aus Thüringen\n",
		".Punkt am Anfang\n..zwei\n.\n",
		"a=b; style=\"color:#16324f\"",
		"Leerzeichen am Ende \nTab am Ende\t\r\nEnde ",
		strings.Repeat("x", 75) + "." + strings.Repeat("y", 80),
		strings.Repeat("Bürgerportal ", 200),
		strings.Repeat("ü", 100) + "\n" + strings.Repeat(" ", 90) + "\n",
		"bare\rCR and NUL\x00 and last CR\r",
		strings.Repeat("a", 74) + " \n" + strings.Repeat("a", 75) + "=",
	} {
		checkQP(t, []byte(s))
	}
}

func FuzzAppendQP(f *testing.F) {
	f.Add([]byte(".Punkt\nGrüße \t\n"))
	f.Add([]byte(strings.Repeat("Bürger=portal. ", 30)))
	f.Fuzz(func(t *testing.T, b []byte) { checkQP(t, b) })
}

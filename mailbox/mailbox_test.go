package mailbox_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kommune21/digest/internal/imaptest"
	"github.com/kommune21/digest/mailbox"
)

func mail(subject string) []byte {
	return []byte("From: a@example.org\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject + "@example.org>\r\n\r\nbody of " + subject + "\r\n")
}

type seen struct {
	sources  []string
	subjects []string
}

func (s *seen) fn(raw []byte, source string) error {
	s.sources = append(s.sources, source)
	i := bytes.Index(raw, []byte("Subject: "))
	j := bytes.IndexByte(raw[i:], '\r')
	if j < 0 {
		j = bytes.IndexByte(raw[i:], '\n')
	}
	s.subjects = append(s.subjects, string(raw[i+9:i+j]))
	return nil
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadPaths(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.eml"), mail("one"))
	mbox := "From MAILER-DAEMON Mon Feb 23 07:00:00 2026\n" + strings.ReplaceAll(string(mail("two")), "\r\n", "\n") +
		">From the editor: quoted\n\nFrom MAILER-DAEMON Mon Feb 23 07:01:00 2026\n" + strings.ReplaceAll(string(mail("three")), "\r\n", "\n")
	write(t, filepath.Join(dir, "export.mbox"), []byte(mbox))
	write(t, filepath.Join(dir, "Maildir", "new", "1771826400.M1.host"), mail("four"))
	write(t, filepath.Join(dir, "Maildir", "cur", "1771826300.M1.host:2,S"), mail("five"))
	os.MkdirAll(filepath.Join(dir, "Maildir", "tmp"), 0o755)
	write(t, filepath.Join(dir, "notes.txt"), []byte("not a mail"))

	var s seen
	var bodies [][]byte
	err := mailbox.ReadPaths([]string{dir}, func(raw []byte, src string) error {
		bodies = append(bodies, raw)
		return s.fn(raw, src)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"four", "five", "one", "two", "three"}
	if !slices.Equal(s.subjects, want) {
		t.Fatalf("subjects %v, want %v (sources %v)", s.subjects, want, s.sources)
	}
	if !strings.HasSuffix(s.sources[3], "export.mbox#1") || !strings.HasSuffix(s.sources[4], "export.mbox#2") {
		t.Errorf("mbox sources %v", s.sources)
	}
	if !bytes.Contains(bodies[3], []byte("\nFrom the editor: quoted")) || bytes.Contains(bodies[3], []byte("From MAILER-DAEMON")) {
		t.Errorf("mbox mail not split or unquoted:\n%s", bodies[3])
	}

	if err := mailbox.ReadPaths([]string{filepath.Join(dir, "missing.eml")}, s.fn); err == nil || !strings.Contains(err.Error(), "missing.eml") {
		t.Errorf("missing file: %v", err)
	}
	write(t, filepath.Join(dir, "empty.eml"), nil)
	if err := mailbox.ReadPaths([]string{filepath.Join(dir, "empty.eml")}, s.fn); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
}

func TestReadPathsBoundsBigMails(t *testing.T) {
	dir := t.TempDir()
	big := append(mail("big"), bytes.Repeat([]byte("x"), 10<<20)...)
	write(t, filepath.Join(dir, "big.eml"), big)
	write(t, filepath.Join(dir, "big.mbox"), append([]byte("From x Mon Feb 23 07:00:00 2026\n"), big...))
	n := 0
	err := mailbox.ReadPaths([]string{dir}, func(raw []byte, src string) error {
		n++
		if len(raw) > mailbox.MaxMail {
			t.Errorf("%s: %d bytes held", src, len(raw))
		}
		return nil
	})
	if err != nil || n != 2 {
		t.Fatalf("%d mails, %v", n, err)
	}
}

func TestParseURL(t *testing.T) {
	c, err := mailbox.ParseURL("imaps://bounces%40kommune21.example:s3cr%3At@imap.example.org/Bounces")
	if err != nil {
		t.Fatal(err)
	}
	if c.Host != "imap.example.org" || c.Port != 993 || !c.TLS || c.Username != "bounces@kommune21.example" || c.Password != "s3cr:t" || c.Mailbox != "Bounces" {
		t.Errorf("%+v", c)
	}
	if s := c.String(); strings.Contains(s, "s3cr") || !strings.Contains(s, "xxxxx") {
		t.Errorf("String %q", s)
	}
	for _, bad := range []string{
		"imap://u:topsecret@imap.example.org/INBOX?tls=none", // plaintext to a remote host
		"imap://u:topsecret@imap.example.org/INBOX",
		"pop3://u:topsecret@host/",
		"imaps://imap.example.org/INBOX",
		"imaps://u:topsecret@/INBOX",
		"imaps://u:topsecret@host:99999/INBOX",
		"imaps://u@imap.example.org/INBOX?password=topsecret",         // a password in the query (found by FuzzConfigURLs)
		"imap://u@imap.example.org/INBOX?tls=none&password=topsecret", // the same in the plaintext error
		"imaps://u@imap.example.org/INBOX?x=1&token=topsecret",
	} {
		_, err := mailbox.ParseURL(bad)
		if err == nil {
			t.Errorf("%s accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "topsecret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	if _, err := mailbox.ParseURL("imap://u:p@127.0.0.1:1143/INBOX?tls=none"); err != nil {
		t.Errorf("loopback plaintext: %v", err)
	}
}

func poller(t *testing.T, s *imaptest.Server, handle mailbox.HandleFunc) *mailbox.Poller {
	c, err := mailbox.ParseURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &mailbox.Poller{Config: c, Handle: handle, Batch: 2}
}

func TestPollMovesMails(t *testing.T) {
	s := imaptest.Start(t)
	for _, subj := range []string{"bounce-1", "other-2", "bounce-3", "bounce-4", "other-5"} {
		s.Append("INBOX", mail(subj))
	}
	var sources []string
	p := poller(t, s, func(ctx context.Context, raw []byte, source string) (string, error) {
		sources = append(sources, source)
		if bytes.Contains(raw, []byte("Subject: bounce")) {
			return mailbox.Handled, nil
		}
		return mailbox.Unmatched, nil
	})
	st, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Seen != 5 || st.Moved["digest/handled"] != 3 || st.Moved["digest/unmatched"] != 2 {
		t.Errorf("stats %+v", st)
	}
	if n := len(s.Messages("INBOX")); n != 0 {
		t.Errorf("%d mails left in INBOX", n)
	}
	if n := len(s.Messages("digest/handled")); n != 3 {
		t.Errorf("%d mails in digest/handled", n)
	}
	un := s.Messages("digest/unmatched")
	if len(un) != 2 || !bytes.Contains(un[0], []byte("body of other-2")) {
		t.Errorf("unmatched folder: %d mails", len(un))
	}
	if !strings.HasPrefix(sources[0], "imap INBOX uid ") {
		t.Errorf("source %q", sources[0])
	}
	// A second poll finds nothing and creates nothing twice.
	st, err = p.Poll(context.Background())
	if err != nil || st.Seen != 0 {
		t.Errorf("second poll: %+v %v", st, err)
	}
	if f := s.Folders(); !slices.Contains(f, "digest/handled") || !slices.Contains(f, "digest/unmatched") {
		t.Errorf("folders %v", f)
	}
}

func TestPollLeavesMailOnError(t *testing.T) {
	s := imaptest.Start(t)
	s.Append("INBOX", mail("first"))
	s.Append("INBOX", mail("second"))
	boom := errors.New("database down")
	p := poller(t, s, func(ctx context.Context, raw []byte, source string) (string, error) {
		if bytes.Contains(raw, []byte("second")) {
			return "", boom
		}
		return mailbox.Handled, nil
	})
	if _, err := p.Poll(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	if in := s.Messages("INBOX"); len(in) != 1 || !bytes.Contains(in[0], []byte("second")) {
		t.Errorf("INBOX after a failed handling: %d mails", len(in))
	}
	if n := len(s.Messages("digest/handled")); n != 1 {
		t.Errorf("%d handled", n)
	}
}

func TestPollWrongPassword(t *testing.T) {
	s := imaptest.Start(t)
	c, _ := mailbox.ParseURL(s.URL())
	c.Password = "wrong-secret-value"
	p := &mailbox.Poller{Config: c, Handle: func(context.Context, []byte, string) (string, error) { return "", nil }}
	_, err := p.Poll(context.Background())
	if err == nil || strings.Contains(err.Error(), "wrong-secret-value") || !strings.Contains(err.Error(), "log in") {
		t.Errorf("err %v", err)
	}
}

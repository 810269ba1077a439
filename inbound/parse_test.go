package inbound

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func parseFile(t *testing.T, name string) *Mail {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return ParseBytes(b)
}

func TestParseSamples(t *testing.T) {
	type rcpt struct {
		addr, status string
		sev          Severity
	}
	tests := []struct {
		file       string
		kind       Kind
		rcpts      []rcpt
		origID     string
		returnPath string   // Original.ReturnPath
		addressed  string   // one of Addressed
		origTo     string   // one of Original.To
		feedback   string   // complaint
		tokens     []string // unsubscribe
	}{
		{file: "postfix-hard.eml", kind: KindBounce, rcpts: []rcpt{{"leser0001@example.org", "5.1.1", Hard}},
			origID: "r3.d17@kommune21.example", returnPath: "bounces+r3.d17.ab2cd3ef@kommune21.example",
			addressed: "bounces+r3.d17.ab2cd3ef@kommune21.example", origTo: "leser0001@example.org"},
		{file: "postfix-delayed.eml", kind: KindBounce, rcpts: []rcpt{{"leser0002@example.net", "4.4.1", Soft}},
			origID: "r3.d18@kommune21.example", addressed: "bounces+r3.d18.zz7yx6wv@kommune21.example"},
		{file: "exim-failed.eml", kind: KindBounce, rcpts: []rcpt{{"leser0003@example.com", "5.1.1", Hard}},
			origID: "r3.d19@kommune21.example", returnPath: "bounces+r3.d19.mn4op5qr@kommune21.example",
			addressed: "bounces+r3.d19.mn4op5qr@kommune21.example", origTo: "leser0003@example.com"},
		{file: "exim-delayed.eml", kind: KindBounce, rcpts: []rcpt{{"leser0004@example.com", "4.2.2", Soft}},
			addressed: "bounces+r3.d20.aaaa2222@kommune21.example"},
		{file: "exchange-ndr.eml", kind: KindBounce, rcpts: []rcpt{{"amt@rathaus.example.de", "5.1.10", Hard}},
			origID: "r3.d21@kommune21.example", returnPath: "bounces+r3.d21.bbbb3333@kommune21.example",
			addressed: "bounces+r3.d21.bbbb3333@kommune21.example"},
		{file: "gmail-dsn.eml", kind: KindBounce, rcpts: []rcpt{{"leser0005@gmail.com", "5.1.1", Hard}},
			origID: "r3.d22@kommune21.example", addressed: "bounces+r3.d22.cccc4444@kommune21.example", origTo: "leser0005@gmail.com"},
		{file: "gmx-dsn.eml", kind: KindBounce, rcpts: []rcpt{{"leser0006@gmx.de", "5.1.1", Hard}},
			origID: "r3.d23@kommune21.example", addressed: "bounces+r3.d23.dddd5555@kommune21.example"},
		{file: "arf-complaint.eml", kind: KindComplaint, origID: "r3.d24@kommune21.example",
			returnPath: "bounces+r3.d24.eeee6666@kommune21.example", origTo: "leser0007@mail.example.net", feedback: "abuse"},
		{file: "arf-redacted.eml", kind: KindComplaint, origID: "r3.d25@kommune21.example",
			returnPath: "bounces+r3.d25.ffff7777@kommune21.example", feedback: "abuse"},
		{file: "autoreply-outlook.eml", kind: KindAutoReply},
		{file: "autoreply-gmx.eml", kind: KindAutoReply},
		{file: "unsubscribe.eml", kind: KindUnsubscribe},
		{file: "unsubscribe-token.eml", kind: KindUnsubscribe, tokens: []string{"k1.AQFn2m3p4q5r6s7t8u9v0wXyZaBcDeFgHiJkLmNoPq"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := parseFile(t, tt.file)
			if m.Kind != tt.kind {
				t.Fatalf("kind %q, want %q (problem %q)", m.Kind, tt.kind, m.Problem)
			}
			var got []rcpt
			for _, r := range m.Recipients {
				got = append(got, rcpt{r.Address, r.Status, r.Severity})
			}
			if !slices.Equal(got, tt.rcpts) {
				t.Errorf("recipients %v, want %v", got, tt.rcpts)
			}
			if m.Original.MessageID != tt.origID {
				t.Errorf("original Message-ID %q, want %q", m.Original.MessageID, tt.origID)
			}
			if tt.returnPath != "" && m.Original.ReturnPath != tt.returnPath {
				t.Errorf("original Return-Path %q, want %q", m.Original.ReturnPath, tt.returnPath)
			}
			if tt.addressed != "" && !slices.Contains(m.Addressed, tt.addressed) {
				t.Errorf("addressed %v, want %q among them", m.Addressed, tt.addressed)
			}
			if tt.origTo != "" && !slices.Contains(m.Original.To, tt.origTo) {
				t.Errorf("original To %v, want %q among them", m.Original.To, tt.origTo)
			}
			if m.Feedback != tt.feedback {
				t.Errorf("feedback type %q, want %q", m.Feedback, tt.feedback)
			}
			if !slices.Equal(m.Tokens, tt.tokens) {
				t.Errorf("tokens %v, want %v", m.Tokens, tt.tokens)
			}
			if m.MessageID == "" || m.From == "" {
				t.Errorf("own Message-ID %q / From %q not read", m.MessageID, m.From)
			}
		})
	}
}

func TestParseDecodesHeaders(t *testing.T) {
	m := parseFile(t, "exchange-ndr.eml")
	if m.Subject != "Unzustellbar: Wochenüberblick KW 9" {
		t.Errorf("subject %q", m.Subject)
	}
	if m.Date.IsZero() {
		t.Error("date not read")
	}
	if r := m.Recipients[0]; !strings.Contains(r.Diagnostic, "RESOLVER.ADR.RecipientNotFound") {
		t.Errorf("diagnostic %q", r.Diagnostic)
	}
	if m.Severe() != Hard {
		t.Errorf("severity %q", m.Severe())
	}
}

// A DSN for a successful delivery (NOTIFY=SUCCESS) or a relay is no failure.
func TestParseDeliveredIsNoFailure(t *testing.T) {
	b, _ := os.ReadFile(filepath.Join("testdata", "postfix-hard.eml"))
	b = bytes.Replace(b, []byte("Action: failed\nStatus: 5.1.1"), []byte("Action: delivered\nStatus: 2.0.0"), 1)
	m := ParseBytes(b)
	if m.Kind != KindBounce || m.Severe() != None {
		t.Fatalf("kind %q severity %q, want bounce without severity", m.Kind, m.Severe())
	}
}

func TestParseHostile(t *testing.T) {
	t.Run("broken MIME", func(t *testing.T) {
		m := parseFile(t, "broken-mime.eml")
		if m.Kind != KindBounce {
			t.Errorf("kind %q", m.Kind)
		}
		if m.Problem == "" {
			t.Error("no problem reported for broken MIME")
		}
		if m.Severe() != None || len(m.Recipients) != 0 {
			t.Errorf("recipients %v from garbage", m.Recipients)
		}
	})
	t.Run("10 MB", func(t *testing.T) {
		head, _ := os.ReadFile(filepath.Join("testdata", "gmail-dsn.eml"))
		big := append(bytes.Clone(head), bytes.Repeat([]byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), 10<<20/72)...)
		m := ParseBytes(big)
		if !m.Truncated {
			t.Error("a 10 MB mail was not cut")
		}
		if m.Kind != KindBounce || len(m.Recipients) != 1 || m.Recipients[0].Address != "leser0005@gmail.com" {
			t.Errorf("the report at the start of a big mail was lost: %+v", m)
		}
	})
	t.Run("many parts", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: x@example.org\nContent-Type: multipart/mixed; boundary=b\n\n")
		for range 10000 {
			b.WriteString("--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\n\n")
		}
		m := ParseBytes([]byte(b.String()))
		if len(m.Recipients) > MaxRecipients {
			t.Errorf("%d recipients kept", len(m.Recipients))
		}
		if !strings.Contains(m.Problem, "MIME parts") {
			t.Errorf("problem %q", m.Problem)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("From: x@example.org\nContent-Type: multipart/mixed; boundary=b0\n\n")
		for i := 1; i < 1000; i++ {
			b.WriteString("--b" + strconv.Itoa(i-1) + "\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\n\n")
		}
		m := ParseBytes([]byte(b.String()))
		if m.Problem == "" {
			t.Error("deep nesting not reported")
		}
	})
	t.Run("no header", func(t *testing.T) {
		m := ParseBytes([]byte("\x00\x01\x02 garbage"))
		if m.Kind != KindOther || m.Problem == "" {
			t.Errorf("kind %q problem %q", m.Kind, m.Problem)
		}
	})
	t.Run("header injection in values", func(t *testing.T) {
		m := ParseBytes([]byte("From: a@example.org\nSubject: =?utf-8?q?Abmelden=0D=0ABcc:_x@evil.example?=\n\nx"))
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("control characters kept: %q", m.Subject)
		}
	})
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		b, _ := os.ReadFile(name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m := ParseBytes(b)
		check := func(what, s string) {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") || len(s) > 2*maxField {
				t.Fatalf("%s %q is not clean", what, s)
			}
		}
		check("subject", m.Subject)
		check("from", m.From)
		check("message-id", m.MessageID)
		check("original message-id", m.Original.MessageID)
		for _, r := range m.Recipients {
			check("recipient", r.Address)
			check("diagnostic", r.Diagnostic)
			if r.Severity != None && r.Severity != Hard && r.Severity != Soft {
				t.Fatalf("severity %q", r.Severity)
			}
		}
		if len(m.Recipients) > MaxRecipients {
			t.Fatalf("%d recipients", len(m.Recipients))
		}
	})
}

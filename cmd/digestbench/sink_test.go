package main

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/mailer"
)

// The lean sink must count what the real SMTP client sends: messages, bytes,
// distinct recipients and duplicates.
func TestLeanSink_CountsAndCatchesDuplicates(t *testing.T) {
	s, err := listenSink("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	cfg, err := mailer.ParseURL("smtp://" + s.Addr() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	tr, err := mailer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tr.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A body with a line that starts with a dot and one longer than the
	// sink's line handling would need to split.
	body := ".hidden line\n" + strings.Repeat("ä", 300) + "\n"
	for i, to := range []string{"a@example.org", "b@example.org", "A@example.org"} {
		m := &mailer.Message{MessageID: "r1.d" + string(rune('1'+i)) + "@example.org", From: mail.Address{Address: "from@example.org"},
			To: mail.Address{Address: to}, Subject: "Test", Date: time.Now(), Text: []byte(body)}
		if err := conn.Send(context.Background(), m); err != nil {
			t.Fatalf("send to %s: %v", to, err)
		}
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	st := s.stats()
	if st.Messages != 3 || st.Recipients != 2 || st.Duplicates != 1 || st.Connections != 1 {
		t.Errorf("sink saw %+v, want 3 messages to 2 recipients, 1 duplicate, 1 connection", st)
	}
	if st.Bytes < 3*int64(len(body)) {
		t.Errorf("sink counted %d bytes, less than the three bodies (%d)", st.Bytes, 3*len(body))
	}
}

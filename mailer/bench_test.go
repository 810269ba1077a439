package mailer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/mailer"
)

// digestSized returns a message of about 20 KB, like a 20-article digest.
func digestSized(id string) *mailer.Message {
	m := sample(id, "leser@example.org")
	var html, text strings.Builder
	html.WriteString(`<!DOCTYPE html><html lang="de"><body><table width="600">`)
	for i := 0; len(html.String()) < 14000; i++ {
		fmt.Fprintf(&html, `<tr><td><p style="font:14px Arial;color:#333">Wiesbaden: Größere Bürgerportale für Kommune %d</p>`+
			`<p>Die Stadt stellt ihre Onlinedienste um; mehr als 120 Leistungen sind digital verfügbar.</p>`+
			`<a href="https://kommune21.example/artikel/%d">mehr…</a></td></tr>`, i, i)
		fmt.Fprintf(&text, "Wiesbaden: Größere Bürgerportale für Kommune %d\nhttps://kommune21.example/artikel/%d\n\n", i, i)
	}
	html.WriteString(`</table></body></html>`)
	m.HTML, m.Text = []byte(html.String()), []byte(text.String())
	return m
}

// BenchmarkSend measures SMTP throughput of N worker connections, each with
// its own Conn, to a loopback server that discards bodies. size=20KB is a
// digest-sized message; size=tiny shows the per-message protocol cost alone.
//
//	go test -run XXX -bench BenchmarkSend -benchtime 10000x ./mailer/
func BenchmarkSend(b *testing.B) {
	tiny := sample("tiny@x.example", "leser@example.org")
	tiny.Text, tiny.HTML = []byte("Hallo"), nil
	for _, tc := range []struct {
		size    string
		m       *mailer.Message
		workers []int
	}{
		{"20KB", digestSized("bench@x.example"), []int{1, 4, 8}},
		{"tiny", tiny, []int{4}},
	} {
		for _, workers := range tc.workers {
			b.Run(fmt.Sprintf("size=%s/workers=%d", tc.size, workers), func(b *testing.B) {
				benchSend(b, tc.m, workers)
			})
		}
	}
}

func benchSend(b *testing.B, m *mailer.Message, workers int) {
	s := smtptest.Start(b, smtptest.Discard())
	tr := loopback(b, s)
	conns := make([]mailer.Conn, workers)
	for i := range conns {
		conns[i] = open(b, tr)
	}
	b.SetBytes(int64(len(m.HTML) + len(m.Text)))
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := *m
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				msg.MessageID = fmt.Sprintf("b%d@x.example", n)
				if err := c.Send(context.Background(), &msg); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d sends failed", f)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	if got := s.Count(); got != b.N {
		b.Fatalf("server counted %d, want %d", got, b.N)
	}
}

package digest

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kommune21/digest/mailer"
)

// RenderStats counts what Render did.
type RenderStats struct {
	Messages int64 // messages built
	Prepared int64 // distinct digests prepared (templates.Set.Prepare calls)
	Bytes    int64 // HTML and text bytes of all messages
}

// Render builds the message of every delivery of run that has articles and a
// subscriber, whatever its status, in outbox order, exactly as Send would, and
// passes it to fn; it sends and records nothing. fn is called from several
// goroutines at once and must not keep the message (its HTML and Text are
// reused buffers). Render is for checking and measuring an edition's rendering.
func (s *Sender) Render(ctx context.Context, run Run, fn func(*mailer.Message) error) (RenderStats, error) {
	var st RenderStats
	lib, err := loadSendLibrary(ctx, s.DB, s.Templates, run)
	if lib != nil {
		lib.links = s.Links
	}
	if err != nil {
		return st, err
	}
	w := &sendWork{Sender: s, lib: lib, ob: &outbox{db: s.DB, run: run, domain: s.Message.Domain}}
	rows, err := s.DB.QueryxContext(ctx, s.DB.Rebind(`SELECT `+claimColumns+`
		FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		JOIN selections sel ON sel.id = d.selection_id
		WHERE d.run_id = ? AND sel.total > 0 ORDER BY d.id`), run.ID)
	if err != nil {
		return st, fmt.Errorf("render run %d: %w", run.ID, err)
	}
	defer rows.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan claimed, 256)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		n, size  atomic.Int64
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err; cancel() }) }
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var html, text bytes.Buffer
			for it := range items {
				if ctx.Err() != nil {
					continue // drain
				}
				m, err := w.message(it, &html, &text)
				if err == nil {
					err = fn(m)
				}
				if err != nil {
					fail(fmt.Errorf("render delivery %d: %w", it.ID, err))
					continue
				}
				n.Add(1)
				size.Add(int64(len(m.HTML) + len(m.Text)))
			}
		}()
	}
	for rows.Next() && ctx.Err() == nil {
		var it claimed
		if err := rows.StructScan(&it); err != nil {
			fail(err)
			break
		}
		items <- it
	}
	close(items)
	wg.Wait()
	if err := rows.Err(); err != nil {
		fail(err)
	}
	st.Messages, st.Bytes, st.Prepared = n.Load(), size.Load(), lib.prepares.Load()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return st, firstErr
}

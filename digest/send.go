package digest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/templates"
	"golang.org/x/time/rate"
)

// MessageOptions are the fixed parts of every digest message.
type MessageOptions struct {
	From              mail.Address
	ReplyTo           string
	ListID            string
	Domain            string // Message-ID domain
	UnsubscribeMailto string // "mailto:…" for List-Unsubscribe beside the https link
}

// Sender delivers the planned deliveries of a run.
type Sender struct {
	DB        *store.DB
	Templates *templates.Set
	Transport mailer.Transport
	Links     Links
	Message   MessageOptions
	Workers   int     // SMTP connections (default 8, see BENCHMARKS.md "Connections")
	Batch     int     // deliveries claimed at once (default 16)
	Rate      float64 // messages per second over all workers; 0 = no limit
	Now       func() time.Time
	Log       *slog.Logger
	// Progress, when set, is called after every recorded batch.
	Progress func(p Progress)
	// ReturnPath, when set, gives each message its own envelope sender
	// (VERP), so a bounce names the delivery it is about.
	ReturnPath ReturnPath
}

// ReturnPath makes the envelope sender of one delivery.
type ReturnPath interface {
	EnvelopeFrom(runID, deliveryID int64) string
}

// MailtoLinks is implemented by Links that give each recipient a personal
// List-Unsubscribe mailto (with a token); otherwise MessageOptions'
// UnsubscribeMailto is used for everyone.
type MailtoLinks interface {
	UnsubscribeMailto(id int64, email string) string
}

// Progress counts what one Send call has done so far.
type Progress struct {
	Sent, Retry, Failed, Skipped int64
	Due                          int64 // deliveries that were due when sending started
}

// Done is the number of deliveries handled so far.
func (p Progress) Done() int64 { return p.Sent + p.Retry + p.Failed + p.Skipped }

// ErrRelayUnreachable stops a worker after repeated network failures: the
// deliveries it has not tried stay pending for the next run.
var ErrRelayUnreachable = errors.New("mail relay unreachable")

// ErrRecordOutcome is what a *RecordError is: the outcome of a delivery
// could not be written down (disk full, database gone). Sending stops, since
// every further message handed to the relay would be sent again by the next
// run.
var ErrRecordOutcome = errors.New("delivery outcome could not be recorded")

// RecordError is a storage failure while recording what happened to one
// delivery. Send stops all workers at the first one: no further message is
// handed to the relay, a worker that is already sending one finishes it.
type RecordError struct {
	RunID, DeliveryID int64
	Status            string // the outcome that could not be recorded: sent, retry, failed, skipped
	Err               error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("storage: could not record that delivery %d was %s: %v; stopped sending; the next run re-sends at most the messages in flight",
		e.DeliveryID, outcomeWords(e.Status), e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrRecordOutcome) true for a *RecordError.
func (e *RecordError) Is(target error) bool { return target == ErrRecordOutcome }

func outcomeWords(status string) string {
	switch status {
	case StatusSent:
		return "accepted"
	case StatusRetry:
		return "deferred (temporary failure)"
	case StatusFailed:
		return "refused"
	case StatusSkipped:
		return "skipped"
	}
	return status
}

// networkStrikes is how many network failures in a row stop a worker.
const networkStrikes = 3

// Send sends every due delivery of run and records each outcome. It returns
// when nothing is due any more, the context ends, or the relay is unreachable.
func (s *Sender) Send(ctx context.Context, run Run) (Progress, error) {
	workers, batchSize := s.Workers, s.Batch
	if workers <= 0 {
		workers = 8
	}
	if batchSize <= 0 {
		batchSize = 16
	}
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if s.DB.Dialect == store.SQLite {
		unlock, err := lockSender(s.DB.Path())
		if err != nil {
			return Progress{}, err
		}
		defer unlock()
	}
	lib, err := loadSendLibrary(ctx, s.DB, s.Templates, run)
	if lib != nil {
		lib.links = s.Links
	}
	if err != nil {
		return Progress{}, err
	}
	ob := &outbox{db: s.DB, run: run, domain: s.Message.Domain}
	if n, err := ob.releaseDead(ctx); err != nil {
		return Progress{}, err
	} else if n > 0 {
		log.Warn("released deliveries claimed by a sender that stopped without recording them (each of its connections may have sent one of them already)", "run", run.ID, "deliveries", n)
	}
	var prog Progress
	if err := s.DB.GetContext(ctx, &prog.Due, s.DB.Rebind(`
		SELECT count(*) FROM deliveries WHERE run_id = ? AND status IN ('pending', 'retry') AND (status = 'pending' OR next_attempt_at <= ?)`),
		run.ID, store.T(s.Now())); err != nil {
		return prog, err
	}
	var limiter *rate.Limiter
	if s.Rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(s.Rate), max(1, int(s.Rate/10)))
	}
	if prog.Due == 0 {
		return prog, s.finish(ctx, run)
	}
	// stop ends when ctx does or when an outcome cannot be recorded; it
	// stops every worker from handing over another message. A message
	// already being sent is sent on ctx and finished.
	stop, stopAll := context.WithCancelCause(ctx)
	defer stopAll(nil)
	rec, err := ob.startRecorder(ctx, workers, s.Now)
	if err != nil {
		return prog, err
	}
	w := &sendWork{Sender: s, lib: lib, ob: ob, rec: rec, limiter: limiter, batch: batchSize, log: log.With("run", run.ID, "edition", run.Edition),
		inflight: map[int64]bool{}, due: prog.Due, stop: stop}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.worker(ctx, i)
			if errors.Is(errs[i], ErrRecordOutcome) {
				stopAll(errs[i])
			}
		}()
	}
	wg.Wait()
	rec.close()
	prog = w.progress()
	w.log.Debug("recorded accepted messages", "sent", prog.Sent, "statements", rec.stmts)
	var first *RecordError
	if errors.As(context.Cause(stop), &first) && ctx.Err() == nil {
		// One clear error; what else went wrong meanwhile goes to the log.
		for _, err := range errs {
			if err != nil && !errors.Is(context.Cause(stop), err) {
				w.log.Error("after sending stopped", "err", err)
			}
		}
		return prog, first
	}
	if err := errors.Join(errs...); err != nil {
		return prog, err
	}
	if ctx.Err() != nil {
		return prog, ctx.Err()
	}
	return prog, s.finish(ctx, run)
}

// finish marks the run finished when nothing is left to send or retry.
//
// Queries across runs find open deliveries only in unfinished runs (see
// "Open runs" in doc.go), so a run must never be marked finished while
// planning adds deliveries to it. On PostgreSQL the run's row is locked
// first and the check is a statement of its own, which therefore sees the
// deliveries of a planning transaction that updated the row (planning's
// last statement) and committed meanwhile; if planning updates the row
// after this, it clears finished_at again. SQLite has one writer at a time.
func (s *Sender) finish(ctx context.Context, run Run) error {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.DB.Dialect == store.Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM runs WHERE id = $1 FOR UPDATE`, run.ID); err != nil {
			return fmt.Errorf("finish run %d: %w", run.ID, err)
		}
	}
	// firstOpen, not NOT EXISTS: see its comment.
	if _, err := tx.ExecContext(ctx, s.DB.Rebind(`
		UPDATE runs SET finished_at = ? WHERE id = ? AND finished_at IS NULL
		AND `+firstOpen(`?`)+` IS NULL`),
		store.T(s.Now()), run.ID, run.ID); err != nil {
		return fmt.Errorf("finish run %d: %w", run.ID, err)
	}
	return tx.Commit()
}

// sendWork is the state the workers of one Send share.
type sendWork struct {
	*Sender
	lib     *library
	ob      *outbox
	rec     *recorder
	limiter *rate.Limiter
	batch   int
	log     *slog.Logger

	after    atomic.Int64   // the highest delivery id claimed so far (see claim)
	claimMu  sync.Mutex     // SQLite: claims are serialised and exclude in-flight deliveries
	inflight map[int64]bool // guarded by claimMu

	sent, retry, failed, skipped atomic.Int64
	due                          int64 // deliveries due when sending started

	// stop ends when no further message may be handed over (see Send).
	stop context.Context
}

func (w *sendWork) progress() Progress {
	return Progress{Sent: w.sent.Load(), Retry: w.retry.Load(), Failed: w.failed.Load(), Skipped: w.skipped.Load(), Due: w.due}
}

// claim takes the next batch: after the highest id claimed so far, and when
// nothing is left there, once more from the start (deliveries another process
// gave back, retries that came due) before it says nothing is due.
func (w *sendWork) claim(ctx context.Context, wc *workerConn) (*batch, error) {
	for {
		from := w.after.Load()
		b, err := w.claimAfter(ctx, wc, from)
		if err == nil && b != nil {
			if err = w.readSelections(ctx, wc, b); err != nil {
				return nil, err
			}
		}
		if err != nil || b != nil {
			if b != nil {
				last := b.items[len(b.items)-1].ID // claims are in id order
				for cur := w.after.Load(); last > cur && !w.after.CompareAndSwap(cur, last); cur = w.after.Load() {
				}
			}
			return b, err
		}
		if from == 0 {
			return nil, nil
		}
		w.after.CompareAndSwap(from, 0)
	}
}

// readSelections makes sure the selections of a claimed batch are read, so
// that a database error stops the worker (the batch stays pending) instead of
// failing deliveries as unrenderable.
func (w *sendWork) readSelections(ctx context.Context, wc *workerConn, b *batch) error {
	for _, it := range b.items {
		if _, err := w.lib.selection(it.SelectionID); err != nil {
			if rerr := w.ob.release(context.WithoutCancel(ctx), wc, b.items); rerr != nil {
				err = errors.Join(err, rerr)
			}
			w.done(b)
			return err
		}
	}
	return nil
}

func (w *sendWork) claimAfter(ctx context.Context, wc *workerConn, after int64) (*batch, error) {
	if w.DB.Dialect == store.Postgres {
		return w.ob.claim(ctx, wc, w.batch, w.Now(), after, nil)
	}
	w.claimMu.Lock()
	defer w.claimMu.Unlock()
	exclude := make([]int64, 0, len(w.inflight))
	for id := range w.inflight {
		exclude = append(exclude, id)
	}
	b, err := w.ob.claim(ctx, wc, w.batch, w.Now(), after, exclude)
	if b != nil {
		for _, it := range b.items {
			w.inflight[it.ID] = true
		}
	}
	return b, err
}

func (w *sendWork) done(b *batch) {
	if w.DB.Dialect == store.Postgres {
		return
	}
	w.claimMu.Lock()
	for _, it := range b.items {
		delete(w.inflight, it.ID)
	}
	w.claimMu.Unlock()
}

func (w *sendWork) worker(ctx context.Context, n int) (err error) {
	conn, err := w.Transport.Open(ctx)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrRelayUnreachable, w.Transport, err)
	}
	defer conn.Close()
	wc, err := w.ob.openWorker(ctx)
	if err != nil {
		return err
	}
	defer wc.close()
	var html, text bytes.Buffer
	var cs connState
	defer func() {
		// The last accepted message is recorded before the worker's lock
		// goes (wc.close): until then its claim keeps other senders off it.
		if rerr := cs.settle(w); rerr != nil && err == nil {
			err = rerr
		}
		if w.Progress != nil {
			w.Progress(w.progress())
		}
	}()
	for w.stop.Err() == nil {
		b, err := w.claim(ctx, wc)
		if err != nil {
			return err
		}
		if b == nil {
			return nil
		}
		tried, err := w.sendBatch(ctx, conn, wc, b, &html, &text, &cs)
		if err == nil && w.DB.Dialect == store.SQLite {
			// SQLite keeps claims in memory (inflight): the last accepted
			// delivery of the batch must be recorded before done forgets it.
			err = cs.settle(w)
		}
		// Give back what was not tried, even when ctx has ended.
		relCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		if rerr := w.ob.release(relCtx, wc, b.items[tried:]); rerr != nil && err == nil {
			err = rerr
		}
		cancel()
		w.done(b)
		if w.Progress != nil {
			w.Progress(w.progress())
		}
		if err != nil {
			return err
		}
		if cs.strikes >= networkStrikes {
			return fmt.Errorf("%w: %s: %d network failures in a row, last: %s; the rest stays pending for the next run",
				ErrRelayUnreachable, w.Transport, cs.strikes, cs.last)
		}
	}
	return nil
}

// connState is what a worker keeps about its connection: the accepted
// message whose record is still being written, and the network failures in
// a row.
type connState struct {
	pending *accepted // handed to the recorder, not yet known to be committed
	strikes int
	last    string // the last failure's reason
}

// settle waits until the pending accepted message, if any, is recorded and
// counts it; its error is a *RecordError.
func (cs *connState) settle(w *sendWork) error {
	a := cs.pending
	if a == nil {
		return nil
	}
	cs.pending = nil
	if err := a.wait(); err != nil {
		return err
	}
	w.sent.Add(1)
	return nil
}

// sendBatch sends the claimed deliveries of b in order. An accepted
// message goes to the recorder while the next one is rendered and
// transmitted, and the next one is held before its final dot until that
// record is committed (see recorder), so a crash repeats at most the one
// message per connection whose acceptance was being written. Other
// outcomes are recorded here before the next message. It returns how many
// deliveries it handled; the rest stays claimed for the caller to give back.
func (w *sendWork) sendBatch(ctx context.Context, conn mailer.Conn, wc *workerConn, b *batch, html, text *bytes.Buffer, cs *connState) (int, error) {
	for i, it := range b.items {
		if w.stop.Err() != nil {
			return i, nil // the rest stays pending
		}
		out, err := w.deliver(ctx, conn, it, html, text, cs)
		if err != nil {
			return i, err // the previous message could not be recorded; this one was not completed
		}
		if w.stop.Err() != nil && out.status != StatusSent && out.status != StatusSkipped {
			return i, nil // interrupted mid-send: leave it pending rather than count a failure
		}
		if out.status == StatusSent {
			cs.pending = w.rec.submit(it.ID)
			cs.strikes = 0
			continue
		}
		// Record even when ctx has ended: what was sent must be written down.
		recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		recorded, err := w.ob.record(recCtx, wc, it, out.outcome, w.Now())
		cancel()
		if err != nil {
			return i, err
		}
		if out.status == StatusRetry && out.network {
			cs.strikes++
			cs.last = out.err
		}
		// One that planning expired while in flight stays failed in its
		// finished run (record did not take it) and is not counted here.
		switch {
		case !recorded:
		case out.status == StatusRetry:
			w.retry.Add(1)
		case out.status == StatusFailed:
			w.failed.Add(1)
		case out.status == StatusSkipped:
			w.skipped.Add(1)
		}
		if cs.strikes >= networkStrikes {
			return i + 1, nil
		}
	}
	return len(b.items), nil
}

type deliveryOutcome struct {
	outcome
	network bool
}

// deliver sends one claimed delivery and classifies the result. The message
// is held before the server may accept it until the connection's previous
// accepted message is recorded (cs.settle); when that record fails, deliver
// returns its error and the message was not completed.
func (w *sendWork) deliver(ctx context.Context, conn mailer.Conn, it claimed, html, text *bytes.Buffer, cs *connState) (deliveryOutcome, error) {
	out := deliveryOutcome{outcome: outcome{id: it.ID}}
	if it.SubscriberID == nil || it.Status != "active" {
		out.status = StatusSkipped
		return out, nil
	}
	out.subID = *it.SubscriberID
	msg, err := w.message(it, html, text)
	if err != nil {
		out.status, out.err = StatusFailed, "render: "+err.Error()
		w.log.Error("render failed", "delivery", it.ID, "selection", it.SelectionID, "err", err)
		return out, nil
	}
	if w.limiter != nil {
		if err := w.limiter.Wait(w.stop); err != nil {
			out.status, out.err = StatusRetry, "interrupted"
			return out, nil
		}
	}
	held, holdErr := false, error(nil)
	msg.Hold = func() error {
		held, holdErr = true, cs.settle(w)
		return holdErr
	}
	sendErr := conn.Send(ctx, msg)
	if !held {
		holdErr = cs.settle(w) // Send failed before the hold
	}
	if holdErr != nil {
		return out, holdErr
	}
	res := mailer.Classify(sendErr)
	switch res.Kind {
	case mailer.Sent:
		out.status = StatusSent
		w.log.Debug("sent", "delivery", it.ID, "message_id", msg.MessageID)
	case mailer.Retry:
		out.status, out.err, out.network = StatusRetry, res.Reason, res.Connection
		if it.Attempts+1 >= MaxAttempts {
			// Decided here, not only when recorded, so that the progress counts it as failed.
			out.status, out.err = StatusFailed, fmt.Sprintf("gave up after %d attempts: %s", it.Attempts+1, res.Reason)
		}
		w.log.Warn("temporary failure", "delivery", it.ID, "reason", res.Reason, "final", out.status == StatusFailed)
	default:
		out.status, out.err, out.bounce = StatusFailed, res.Reason, res.Bounce
		w.log.Warn("permanent failure", "delivery", it.ID, "reason", res.Reason, "bounce", res.Bounce)
	}
	return out, nil
}

// message builds the email of one delivery; html and text are reused buffers.
func (w *sendWork) message(it claimed, html, text *bytes.Buffer) (*mailer.Message, error) {
	p, err := w.lib.prepared(it.SelectionID)
	if err != nil {
		return nil, err
	}
	html.Reset()
	text.Reset()
	unsub := w.Links.UnsubscribeURL(*it.SubscriberID, it.Email)
	p.Render(templates.Recipient{Name: it.Name, Email: it.Email, UnsubscribeURL: unsub,
		PreferencesURL: w.Links.PreferencesURL(*it.SubscriberID, it.Email)}, html, text)
	m := &mailer.Message{
		MessageID: w.ob.messageID(it.ID), From: w.Message.From, ReplyTo: w.Message.ReplyTo,
		To: mail.Address{Name: it.Name, Address: it.Email}, Subject: p.Subject(), Date: w.Now(),
		Text: text.Bytes(), HTML: html.Bytes(), ListID: w.Message.ListID,
		UnsubscribeMailto: w.Message.UnsubscribeMailto, Bulk: true,
	}
	// RFC 8058 one-click needs https; a local trial on http://localhost keeps the
	// link in the body and the mailto in the header (cmd/digest refuses http
	// links for a real relay).
	if strings.HasPrefix(unsub, "https://") {
		m.UnsubscribeURL = unsub
	}
	w.returnAddresses(m, it)
	return m, nil
}

// returnAddresses sets where bounces and unsubscribe mails of one message go.
func (w *sendWork) returnAddresses(m *mailer.Message, it claimed) {
	if w.ReturnPath != nil {
		m.EnvelopeFrom = w.ReturnPath.EnvelopeFrom(w.lib.run.ID, it.ID)
	}
	if ml, ok := w.Links.(MailtoLinks); ok {
		if mt := ml.UnsubscribeMailto(*it.SubscriberID, it.Email); mt != "" {
			m.UnsubscribeMailto = mt
		}
	}
}

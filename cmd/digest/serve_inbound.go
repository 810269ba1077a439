package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kommune21/digest/feedback"
	"github.com/kommune21/digest/mailbox"
	"github.com/kommune21/digest/metrics"
	"github.com/kommune21/digest/store"
)

// mailboxPoller returns the task that reads DIGEST_MAILBOX: every mail is
// handled like `digest mail import` and moved to digest/handled or
// digest/unmatched; a mail whose handling failed stays for the next poll.
func (a *app) mailboxPoller() (func(ctx context.Context) error, error) {
	cfg, err := mailbox.ParseURL(a.cfg.Mailbox)
	if err != nil {
		return nil, fmt.Errorf("DIGEST_MAILBOX: %w", err)
	}
	h, err := a.feedbackHandler()
	if err != nil {
		return nil, err
	}
	p := &mailbox.Poller{Config: cfg, Handle: func(ctx context.Context, raw []byte, source string) (string, error) {
		r, err := h.Handle(ctx, raw, source)
		if err != nil {
			return "", err
		}
		if r.Outcome == feedback.Unmatched {
			return mailbox.Unmatched, nil
		}
		return mailbox.Handled, nil
	}}
	a.log.Info("polling the return mailbox", "mailbox", cfg, "every", a.cfg.MailboxInterval.String(), "return_path", a.cfg.ReturnPath)
	return func(ctx context.Context) error {
		st, err := p.Poll(ctx)
		if st.Seen > 0 || err != nil {
			a.log.Info("mailbox polled", "mailbox", cfg, "mails", st.Seen,
				"handled", st.Moved[mailbox.Parent+"/"+mailbox.Handled]+st.Moved[mailbox.Parent+"."+mailbox.Handled],
				"unmatched", st.Moved[mailbox.Parent+"/"+mailbox.Unmatched]+st.Moved[mailbox.Parent+"."+mailbox.Unmatched])
		}
		return err
	}, nil
}

// serveMetrics serves GET /metrics on DIGEST_METRICS_ADDR (nothing when it
// is unset) and returns the function that stops it.
func (a *app) serveMetrics(db *store.DB) (func(ctx context.Context), error) {
	if a.cfg.MetricsAddr == "" {
		return func(context.Context) {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("DIGEST_METRICS_ADDR: listen on %s: %w", a.cfg.MetricsAddr, err)
	}
	srv := &http.Server{Handler: metrics.Handler(db, a.log), ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics server stopped", "err", err)
		}
	}()
	a.log.Info("serving metrics", "addr", ln.Addr().String())
	return func(ctx context.Context) { srv.Shutdown(ctx) }, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/kommune21/digest/archive"
	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

// DefaultAddr is where `digest serve` listens unless --addr says otherwise:
// loopback, for a reverse proxy in front.
const DefaultAddr = "127.0.0.1:8080"

// Background work of the daemon besides the editions.
const (
	resumeEvery   = 5 * time.Minute // send deliveries whose retry is due
	purgeEvery    = 24 * time.Hour  // delete unconfirmed subscribers after subscribers.PendingMaxAge
	shutdownBound = 30 * time.Second
)

func cmdServe(a *app, args []string) error {
	fs := a.flags("serve", "[--addr ADDR]",
		"Run the daemon: send the editions on DIGEST_SCHEDULE (weekly) and DIGEST_SCHEDULE_DAILY,\n"+
			"catch up a missed edition at start, retry due deliveries every 5 minutes, poll DIGEST_FEEDS,\n"+
			"purge unconfirmed subscribers after 30 days, prune the sent log after 8 weeks, and serve\n"+
			"the confirm, unsubscribe and preferences pages behind the links in the emails and the\n"+
			"public signup (/subscribe, /manage; `digest form` prints an embeddable form),\n"+
			"the browser view of each sent digest (/archive).\n"+
			"SIGTERM or SIGINT stops it gracefully.",
		groupMail, groupSend, groupServe)
	addr := fs.String("addr", DefaultAddr, "listen `address` (host:port) of the web pages")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	editions := []digest.EditionSchedule{
		{Cadence: digest.Weekly, Spec: a.cfg.Schedule, Setting: "DIGEST_SCHEDULE"},
		{Cadence: digest.Daily, Spec: a.cfg.ScheduleDaily, Setting: "DIGEST_SCHEDULE_DAILY"},
	}
	for _, e := range editions {
		if _, err := digest.ParseSchedule(e.Spec); err != nil {
			return &usageError{msg: (&digest.SpecError{Setting: e.Setting, Spec: e.Spec, Err: err}).Error()}
		}
	}

	db, err := a.openDB()
	if err != nil {
		return err
	}
	signer, err := a.signer()
	if err != nil {
		return err
	}
	subs := subscribers.NewStore(db, nil)
	handler, err := a.webHandler()
	if err != nil {
		return err
	}
	r, err := a.runner(time.Now)
	if err != nil {
		return err
	}
	runEdition, resume := editionJobs(r)
	if err != nil {
		return err
	}
	tasks := []digest.PeriodicTask{
		{Name: "resume", Every: resumeEvery, Run: resume},
		{Name: "prune_sent_log", Every: purgeEvery, AtStart: true, Run: func(ctx context.Context) error {
			n, err := digest.PruneSentLog(ctx, db, time.Now().Add(-digest.PruneAfter))
			if n > 0 {
				a.log.Info("pruned the sent log", "selections", n, "older_than", digest.PruneAfter.String())
			}
			return err
		}},
		{Name: "purge_pending", Every: purgeEvery, AtStart: true, Run: func(ctx context.Context) error {
			n, err := subs.PurgePending(ctx, time.Now().Add(-subscribers.PendingMaxAge))
			if n > 0 {
				a.log.Info("purged unconfirmed subscribers", "count", n)
			}
			if err != nil {
				return err
			}
			return subs.PurgeNoticeLog(ctx)
		}},
	}
	if len(a.cfg.Feeds) > 0 {
		poll, err := a.feedPoller()
		if err != nil {
			return err
		}
		tasks = append(tasks, digest.PeriodicTask{Name: "poll_feeds", Every: a.cfg.FeedInterval, AtStart: true, Run: poll})
	}
	if a.cfg.Mailbox != "" {
		poll, err := a.mailboxPoller()
		if err != nil {
			return err
		}
		tasks = append(tasks, digest.PeriodicTask{Name: "poll_mailbox", Every: a.cfg.MailboxInterval, AtStart: true, Run: poll})
	}
	for i, t := range tasks {
		if d, ok := a.taskEvery[t.Name]; ok {
			tasks[i].Every = d
		}
	}
	sched, err := digest.NewScheduler(digest.SchedulerConfig{
		Editions: editions,
		Run:      runEdition,
		HasRun:   r.HasRun,
		Tasks:    tasks,
		Log:      a.log,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (use --addr HOST:PORT for another address)", *addr, err)
	}
	stopMetrics, err := a.serveMetrics(db)
	if err != nil {
		ln.Close()
		return err
	}
	srv := subscribers.NewServer(*addr, handler, a.log)
	a.log.Info("serving", "addr", ln.Addr().String(), "base_url", a.cfg.BaseURL, "db", db.String(),
		"schedule", a.cfg.Schedule, "schedule_daily", a.cfg.ScheduleDaily, "feeds", len(a.cfg.Feeds), "link_key_id", signer.KeyID(),
		"signup", a.cfg.BaseURL+"/subscribe", "trusted_proxies", len(a.cfg.TrustedProxies))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	sched.Start()

	var serveErr error
	select {
	case <-a.ctx.Done():
		a.log.Info("shutting down", "bound_s", int(shutdownBound.Seconds()))
	case serveErr = <-served:
		a.log.Error("web server stopped", "err", serveErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownBound)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		a.log.Warn("web server shutdown", "err", err)
	}
	if err := handler.Close(ctx); err != nil {
		a.log.Warn("signup mails still queued at shutdown", "err", err)
	}
	stopMetrics(ctx)
	if err := sched.Stop(ctx); err != nil {
		// Sends cut off here are repeated by the next run: the outbox records
		// only what the server accepted.
		return err
	}
	a.log.Info("stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("web server: %w", serveErr)
	}
	return nil
}

// webHandler builds the subscriber pages and the public signup as `digest
// serve` runs them.
func (a *app) webHandler() (*subscribers.Handler, error) {
	db, err := a.openDB()
	if err != nil {
		return nil, err
	}
	signer, err := a.signer()
	if err != nil {
		return nil, err
	}
	pages, err := templates.NewPages()
	if err != nil {
		return nil, err
	}
	notices, err := a.noticeMailer()
	if err != nil {
		return nil, err
	}
	tmpl, err := a.templateSet()
	if err != nil {
		return nil, err
	}
	// The browser view of each sent digest ("Im Browser ansehen").
	view := &archive.Handler{DB: db, Templates: tmpl, Signer: signer, Pages: pages, Site: a.newsletterName(), Log: a.log}
	return subscribers.NewHandler(subscribers.HandlerDeps{
		Store: subscribers.NewStore(db, nil), Taxonomy: taxonomy.NewStore(db), DB: db, Signer: signer, Pages: pages,
		Log: a.log, Site: a.newsletterName(),
		Routes: map[string]http.Handler{"GET " + archive.Path: view},
		Mailer: notices, BaseURL: a.cfg.BaseURL, Sender: a.cfg.FromAddress().Address,
		PrivacyURL: a.cfg.PrivacyURL, TrustedProxies: a.cfg.TrustedProxies,
	})
}

// feedPoller imports every DIGEST_FEEDS URL with the code of `digest articles import`.
func (a *app) feedPoller() (func(ctx context.Context) error, error) {
	db, err := a.openDB()
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) error {
		// A new importer per poll: it loads the taxonomy, so topics staff added since count.
		im, err := articles.NewDefaultImporter(ctx, db)
		if err != nil {
			return err
		}
		var errs []error
		for _, src := range a.cfg.Feeds {
			res, err := im.Import(ctx, src, time.Now())
			if err != nil {
				errs = append(errs, err)
				continue
			}
			a.log.Info("feed polled", "feed", articles.SourceName(src), "new", res.New, "updated", res.Updated, "not_modified", res.NotModified)
		}
		return errors.Join(errs...)
	}, nil
}

// editionJobs returns what the scheduler calls: the code of `digest run` for
// one edition, and the sending of deliveries whose retry is due. Both take
// one semaphore, so the daemon never sends from two jobs at once (SQLite
// allows one sender per database; on PostgreSQL it keeps the load even).
func editionJobs(r *digest.Runner) (digest.RunEditionFunc, func(context.Context) error) {
	sem := make(chan struct{}, 1)
	exclusive := func(ctx context.Context, fn func() error) error {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-sem }()
		return fn()
	}
	run := func(ctx context.Context, c digest.Cadence, at time.Time) error {
		return exclusive(ctx, func() error { return r.RunEdition(ctx, c, at) })
	}
	resume := func(ctx context.Context) error {
		return exclusive(ctx, func() error { return r.Resume(ctx) })
	}
	return run, resume
}

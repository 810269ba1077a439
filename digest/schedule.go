package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // CRON_TZ=Europe/Berlin must resolve without system zoneinfo

	"github.com/robfig/cron/v3"
)

// RunEditionFunc plans (or resumes) and sends the edition of cadence due at at.
// It must be idempotent — a repeated call for the same edition resumes it — and
// when ctx is cancelled it must stop claiming new deliveries, record the
// outcome of messages in flight and return.
type RunEditionFunc func(ctx context.Context, cadence Cadence, at time.Time) error

// HasRunFunc reports whether the edition of cadence due at at has a run already.
type HasRunFunc func(ctx context.Context, cadence Cadence, at time.Time) (bool, error)

// EditionSchedule says when editions of a cadence are due.
type EditionSchedule struct {
	Cadence Cadence
	Spec    string // cron spec: "CRON_TZ=Europe/Berlin 0 7 * * MON", "@every 10s", …
	Setting string // where Spec came from, for errors ("DIGEST_SCHEDULE")
}

// PeriodicTask is background work repeated at a fixed interval: resuming due
// retries, polling feeds, purging unconfirmed subscribers.
type PeriodicTask struct {
	Name    string
	Every   time.Duration // at least one second
	AtStart bool          // also run once right after Start
	Run     func(ctx context.Context) error
}

// SchedulerConfig is what a Scheduler runs.
type SchedulerConfig struct {
	Editions []EditionSchedule
	Run      RunEditionFunc
	HasRun   HasRunFunc
	Tasks    []PeriodicTask
	Log      *slog.Logger
	Now      func() time.Time // nil = time.Now
}

// SpecError is a cron spec that cannot be used. It names the setting and the spec.
type SpecError struct {
	Setting, Spec string
	Err           error
}

func (e *SpecError) Error() string {
	name := e.Setting
	if name == "" {
		name = "schedule"
	}
	return fmt.Sprintf("%s=%q: %v; use a cron spec like \"CRON_TZ=Europe/Berlin 0 7 * * MON\" (minute hour day-of-month month day-of-week) or \"@every 10m\"", name, e.Spec, e.Err)
}

func (e *SpecError) Unwrap() error { return e.Err }

// specParser is robfig's standard parser (five fields, descriptors such as
// @weekly and @every, CRON_TZ= / TZ= prefixes).
var specParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a cron spec as robfig's ParseStandard does, without its
// panic on a time-zone prefix with nothing after it ("CRON_TZ=UTC"), and
// rejects specs that never come due (such as "0 0 30 2 *").
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty schedule")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		if !strings.ContainsAny(spec, " \t") {
			return nil, errors.New("time zone without a schedule after it")
		}
	}
	if d, ok := strings.CutPrefix(spec, "@every "); ok {
		if dur, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && dur < time.Second {
			return nil, fmt.Errorf("interval %s is shorter than one second", dur)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("unparsable schedule (%v)", r)
		}
	}()
	sched, err = specParser.Parse(spec)
	if err != nil {
		return nil, err
	}
	if next := sched.Next(time.Now()); next.IsZero() {
		return nil, errors.New("never comes due")
	}
	return sched, nil
}

// PreviousDue is the latest time at or before now at which sched was due, or
// the zero time when it was not due in the last five years.
func PreviousDue(sched cron.Schedule, now time.Time) time.Time {
	for _, back := range []time.Duration{time.Second, time.Minute, time.Hour, 25 * time.Hour,
		8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour, 5 * 367 * 24 * time.Hour} {
		t := sched.Next(now.Add(-back))
		if t.IsZero() || t.After(now) {
			continue
		}
		for {
			n := sched.Next(t)
			if n.IsZero() || n.After(now) || !n.After(t) {
				return t
			}
			t = n
		}
	}
	return time.Time{}
}

// Scheduler runs editions on their cron schedules and periodic tasks in
// between. robfig/cron's chain is SkipIfStillRunning then Recover, in that
// order: a job that is still running is skipped, not queued, and a panic is
// logged without disabling later runs (the reverse order would skip the job
// forever after its first panic). Every job gets a context that Stop cancels.
type Scheduler struct {
	cfg      SchedulerConfig
	cron     *cron.Cron
	chain    cron.Chain
	editions []scheduledEdition
	tasks    []scheduledTask
	ctx      context.Context
	cancel   context.CancelFunc
	jobs     sync.WaitGroup // every job started, by cron or at start
	start    sync.Once
}

type scheduledTask struct {
	PeriodicTask
	job cron.Job // wrapped by the chain, shared by the start run and the ticks
}

type scheduledEdition struct {
	EditionSchedule
	sched cron.Schedule
	job   cron.Job // wrapped by the chain: catch-up and cron ticks share its skip state
}

// NewScheduler checks every spec (a bad one is a *SpecError) and prepares the
// jobs; nothing runs before Start.
func NewScheduler(cfg SchedulerConfig) (*Scheduler, error) {
	if cfg.Run == nil || cfg.HasRun == nil {
		return nil, errors.New("digest: scheduler needs Run and HasRun")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := cronLogger{cfg.Log}
	s := &Scheduler{cfg: cfg, chain: cron.NewChain(cron.SkipIfStillRunning(l), cron.Recover(l))}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.cron = cron.New(cron.WithParser(specParser), cron.WithLogger(l), cron.WithLocation(time.UTC))
	for _, e := range cfg.Editions {
		sched, err := ParseSchedule(e.Spec)
		if err != nil {
			return nil, &SpecError{Setting: e.Setting, Spec: e.Spec, Err: err}
		}
		se := scheduledEdition{EditionSchedule: e, sched: sched}
		se.job = s.chain.Then(s.tracked(cron.FuncJob(func() { s.runEdition(se) })))
		s.editions = append(s.editions, se)
		s.cron.Schedule(sched, se.job)
	}
	for _, t := range cfg.Tasks {
		if t.Every < time.Second || t.Run == nil {
			return nil, fmt.Errorf("digest: task %q needs Run and an interval of at least 1s", t.Name)
		}
		st := scheduledTask{PeriodicTask: t}
		st.job = s.chain.Then(s.tracked(cron.FuncJob(func() { s.runTask(t) })))
		s.tasks = append(s.tasks, st)
		s.cron.Schedule(cron.Every(t.Every), st.job)
	}
	return s, nil
}

// tracked counts a job in the wait group that Stop waits on.
func (s *Scheduler) tracked(j cron.Job) cron.Job {
	return cron.FuncJob(func() {
		s.jobs.Add(1)
		defer s.jobs.Done()
		if s.ctx.Err() != nil {
			return // stopping: start nothing new
		}
		j.Run()
	})
}

func (s *Scheduler) runEdition(e scheduledEdition) {
	now := s.cfg.Now()
	at := PreviousDue(e.sched, now)
	if at.IsZero() {
		at = now
	}
	at = at.Truncate(time.Second)
	log := s.cfg.Log.With("cadence", string(e.Cadence), "edition", Edition(e.Cadence, at), "at", at.Format(time.RFC3339))
	log.Info("edition run starting")
	start := time.Now()
	if err := s.cfg.Run(s.ctx, e.Cadence, at); err != nil {
		if s.ctx.Err() != nil && errors.Is(err, context.Canceled) {
			log.Info("edition run stopped for shutdown; the next start resumes it", "duration_ms", time.Since(start).Milliseconds())
			return
		}
		log.Error("edition run failed", "err", err, "duration_ms", time.Since(start).Milliseconds())
		return
	}
	log.Info("edition run finished", "duration_ms", time.Since(start).Milliseconds())
}

func (s *Scheduler) runTask(t PeriodicTask) {
	start := time.Now()
	if err := t.Run(s.ctx); err != nil {
		if s.ctx.Err() != nil && errors.Is(err, context.Canceled) {
			return
		}
		s.cfg.Log.Error("task failed", "task", t.Name, "err", err, "duration_ms", time.Since(start).Milliseconds())
		return
	}
	s.cfg.Log.Debug("task done", "task", t.Name, "duration_ms", time.Since(start).Milliseconds())
}

// Start catches up missed editions — when the latest due edition of a cadence
// has no run, it runs now — starts the tasks marked AtStart and then the cron
// schedules. It returns at once; the work happens in the background.
func (s *Scheduler) Start() {
	s.start.Do(func() {
		now := s.cfg.Now()
		for _, e := range s.editions {
			prev := PreviousDue(e.sched, now)
			next := e.sched.Next(now)
			log := s.cfg.Log.With("cadence", string(e.Cadence), "schedule", e.Spec)
			if prev.IsZero() {
				log.Info("schedule", "next_at", next.Format(time.RFC3339))
				continue
			}
			ran, err := s.cfg.HasRun(s.ctx, e.Cadence, prev)
			if err != nil {
				// Runs are idempotent: when in doubt, run (it resumes an existing one).
				log.Warn("cannot tell whether the last edition ran; running it", "err", err)
			}
			if ran {
				log.Info("schedule", "last_edition", Edition(e.Cadence, prev), "next_at", next.Format(time.RFC3339))
				continue
			}
			log.Info("catching up missed edition", "edition", Edition(e.Cadence, prev), "due_at", prev.Format(time.RFC3339), "next_at", next.Format(time.RFC3339))
			s.goJob(e.job)
		}
		for _, t := range s.tasks {
			if t.AtStart {
				s.goJob(t.job)
			}
		}
		s.cron.Start()
	})
}

// goJob runs j now in its own goroutine, counted before Start returns so that
// Stop cannot miss it.
func (s *Scheduler) goJob(j cron.Job) {
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		j.Run()
	}()
}

// Stop stops the schedules, cancels the context of running jobs and waits for
// them to return, at most until ctx is done. It returns ctx's error when jobs
// were still running then.
func (s *Scheduler) Stop(ctx context.Context) error {
	cronDone := s.cron.Stop()
	s.cancel()
	// Running jobs see their context end from here on; a send in flight
	// finishes its message, records it and leaves the rest pending.
	s.cfg.Log.Info("scheduler stopped; running jobs cancelled")
	done := make(chan struct{})
	go func() {
		<-cronDone.Done()
		s.jobs.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("scheduler: jobs still running at shutdown: %w", ctx.Err())
	}
}

// cronLogger adapts slog to robfig's logger: its chatty Info goes to Debug,
// except for skipped runs; errors (such as recovered panics) to Error.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.l.Warn("job still running; this run is skipped")
		return
	}
	c.l.Debug("cron "+msg, snakeKV(kv)...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron "+msg, append([]any{"err", err}, snakeKV(kv)...)...)
}

// snakeKV keeps robfig's key-value pairs but drops its timestamps' noise.
func snakeKV(kv []any) []any {
	out := make([]any, 0, len(kv))
	for i := 0; i+1 < len(kv); i += 2 {
		k, _ := kv[i].(string)
		out = append(out, strings.ToLower(k), kv[i+1])
	}
	return out
}

package digest_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
)

// eventually polls cond for up to a generous bound; it asserts that something
// happens, never how fast.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func stop(t *testing.T, s *digest.Scheduler) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestParseSchedule(t *testing.T) {
	for _, spec := range []string{
		"CRON_TZ=Europe/Berlin 0 7 * * MON", "CRON_TZ=Europe/Berlin 0 7 * * *", "@every 10s", "@weekly",
		"TZ=UTC 30 6 * * 1-5", "  0 7 * * MON  ",
	} {
		if _, err := digest.ParseSchedule(spec); err != nil {
			t.Errorf("ParseSchedule(%q): %v", spec, err)
		}
	}
	for _, spec := range []string{
		"", "CRON_TZ=UTC", "TZ=Europe/Berlin", "CRON_TZ=Europe/Berlin", "0 7 * *", "61 * * * *",
		"CRON_TZ=Mars/Olympus 0 7 * * *", "0 0 30 2 *", "every monday", "@every -1s", "0 7 * * MON extra",
	} {
		if _, err := digest.ParseSchedule(spec); err == nil {
			t.Errorf("ParseSchedule(%q) = nil error", spec)
		}
	}
}

func TestNewScheduler_BadSpec(t *testing.T) {
	_, err := digest.NewScheduler(digest.SchedulerConfig{
		Editions: []digest.EditionSchedule{
			{Cadence: digest.Weekly, Spec: "@every 1h", Setting: "DIGEST_SCHEDULE"},
			{Cadence: digest.Daily, Spec: "CRON_TZ=UTC", Setting: "DIGEST_SCHEDULE_DAILY"},
		},
		Run:    func(context.Context, digest.Cadence, time.Time) error { return nil },
		HasRun: func(context.Context, digest.Cadence, time.Time) (bool, error) { return true, nil },
	})
	var se *digest.SpecError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want *SpecError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `DIGEST_SCHEDULE_DAILY="CRON_TZ=UTC"`) || !strings.Contains(msg, "0 7 * * MON") {
		t.Errorf("message %q does not name the setting, the spec and an example", msg)
	}
}

func TestPreviousDue(t *testing.T) {
	berlin := digest.Berlin
	weekly, _ := digest.ParseSchedule("CRON_TZ=Europe/Berlin 0 7 * * MON")
	daily, _ := digest.ParseSchedule("CRON_TZ=Europe/Berlin 0 7 * * *")
	every, _ := digest.ParseSchedule("@every 2s")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, berlin) }
	for _, tc := range []struct {
		name      string
		now, want time.Time
		sched     interface{ Next(time.Time) time.Time }
	}{
		{"weeklyMidweek", at(2026, 2, 18, 12, 0), at(2026, 2, 16, 7, 0), weekly},
		{"weeklyExactly", at(2026, 2, 16, 7, 0), at(2026, 2, 16, 7, 0), weekly},
		{"weeklyJustBefore", at(2026, 2, 16, 6, 59), at(2026, 2, 9, 7, 0), weekly},
		{"weeklyNewYear", at(2026, 1, 1, 0, 0), at(2025, 12, 29, 7, 0), weekly},
		{"dailyAfterDST", at(2026, 3, 29, 8, 0), at(2026, 3, 29, 7, 0), daily},
		{"dailyBefore", at(2026, 3, 29, 6, 0), at(2026, 3, 28, 7, 0), daily},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := digest.PreviousDue(tc.sched, tc.now)
			if !got.Equal(tc.want) {
				t.Errorf("PreviousDue(%v) = %v, want %v", tc.now, got.In(berlin), tc.want)
			}
		})
	}
	now := time.Now()
	if p := digest.PreviousDue(every, now); p.After(now) || now.Sub(p) > 3*time.Second {
		t.Errorf("PreviousDue(@every 2s, %v) = %v", now, p)
	}
}

// recorder is a RunEdition that counts calls and remembers their times.
type recorder struct {
	mu      sync.Mutex
	ats     []time.Time
	running atomic.Int32
	maxConc atomic.Int32
	before  func(call int) // runs inside the call (may block or panic)
}

func (r *recorder) run(ctx context.Context, c digest.Cadence, at time.Time) error {
	n := r.running.Add(1)
	defer r.running.Add(-1)
	for {
		m := r.maxConc.Load()
		if n <= m || r.maxConc.CompareAndSwap(m, n) {
			break
		}
	}
	r.mu.Lock()
	r.ats = append(r.ats, at)
	call := len(r.ats)
	r.mu.Unlock()
	if r.before != nil {
		r.before(call)
	}
	return nil
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ats)
}

func hasRun(v bool) digest.HasRunFunc {
	return func(context.Context, digest.Cadence, time.Time) (bool, error) { return v, nil }
}

func TestScheduler_RunsOnSchedule(t *testing.T) {
	var r recorder
	s, err := digest.NewScheduler(digest.SchedulerConfig{
		Editions: []digest.EditionSchedule{{Cadence: digest.Weekly, Spec: "@every 1s"}},
		Run:      r.run, HasRun: hasRun(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	eventually(t, "three scheduled runs", func() bool { return r.calls() >= 3 })
	stop(t, s)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := 1; i < len(r.ats); i++ {
		if !r.ats[i].After(r.ats[i-1]) {
			t.Errorf("run times not increasing: %v", r.ats)
		}
	}
}

func TestScheduler_CatchUp(t *testing.T) {
	weekly := "CRON_TZ=Europe/Berlin 0 7 * * MON"
	now := time.Date(2026, 2, 18, 12, 0, 0, 0, digest.Berlin)
	for _, ran := range []bool{false, true} {
		var r recorder
		var asked []time.Time
		s, err := digest.NewScheduler(digest.SchedulerConfig{
			Editions: []digest.EditionSchedule{{Cadence: digest.Weekly, Spec: weekly}},
			Run:      r.run,
			HasRun: func(_ context.Context, c digest.Cadence, at time.Time) (bool, error) {
				asked = append(asked, at)
				return ran, nil
			},
			Now: func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		want := time.Date(2026, 2, 16, 7, 0, 0, 0, digest.Berlin)
		if len(asked) != 1 || !asked[0].Equal(want) {
			t.Fatalf("HasRun asked for %v, want [%v]", asked, want)
		}
		if !ran {
			eventually(t, "the catch-up run", func() bool { return r.calls() == 1 })
		}
		stop(t, s)
		switch {
		case ran && r.calls() != 0:
			t.Errorf("edition had run, but the scheduler ran it again (%d calls)", r.calls())
		case !ran && (r.calls() != 1 || !r.ats[0].Equal(want)):
			t.Errorf("catch-up runs = %v, want one at %v (edition 2026-W08)", r.ats, want)
		}
	}
}

func TestScheduler_PanicDoesNotStopLaterRuns(t *testing.T) {
	r := recorder{before: func(call int) {
		if call == 1 {
			panic("boom in the first run")
		}
	}}
	s, err := digest.NewScheduler(digest.SchedulerConfig{
		Editions: []digest.EditionSchedule{{Cadence: digest.Daily, Spec: "@every 1s"}},
		Run:      r.run, HasRun: hasRun(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	eventually(t, "runs after the panic", func() bool { return r.calls() >= 3 })
	stop(t, s)
}

// logSink collects log messages.
type logSink struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, r.Message)
	return nil
}
func (l *logSink) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logSink) WithGroup(string) slog.Handler      { return l }
func (l *logSink) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func TestScheduler_SkipIfStillRunning(t *testing.T) {
	release := make(chan struct{})
	r := recorder{before: func(call int) {
		if call == 1 {
			<-release
		}
	}}
	sink := &logSink{}
	s, err := digest.NewScheduler(digest.SchedulerConfig{
		Editions: []digest.EditionSchedule{{Cadence: digest.Weekly, Spec: "@every 1s"}},
		Run:      r.run, HasRun: hasRun(false), // catch-up starts the first, blocking run
		Log: slog.New(sink),
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	eventually(t, "a skipped tick while the first run blocks", func() bool { return sink.has("still running") })
	if c := r.calls(); c != 1 {
		t.Fatalf("%d runs started while the first still ran, want 1", c)
	}
	close(release)
	eventually(t, "runs after the first finished", func() bool { return r.calls() >= 2 })
	stop(t, s)
	if m := r.maxConc.Load(); m != 1 {
		t.Errorf("up to %d runs at once, want 1", m)
	}
}

func TestScheduler_StopCancelsJobs(t *testing.T) {
	started := make(chan struct{})
	var sawCancel atomic.Bool
	s, err := digest.NewScheduler(digest.SchedulerConfig{
		Editions: []digest.EditionSchedule{{Cadence: digest.Weekly, Spec: "@every 1h"}},
		HasRun:   hasRun(false),
		Run: func(ctx context.Context, _ digest.Cadence, _ time.Time) error {
			close(started)
			<-ctx.Done()
			sawCancel.Store(true)
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	<-started
	stop(t, s)
	if !sawCancel.Load() {
		t.Error("Stop returned before the running job saw its context cancelled")
	}
}

func TestScheduler_StopIsBounded(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s, err := digest.NewScheduler(digest.SchedulerConfig{
		Editions: []digest.EditionSchedule{{Cadence: digest.Weekly, Spec: "@every 1h"}},
		HasRun:   hasRun(false),
		Run: func(ctx context.Context, _ digest.Cadence, _ time.Time) error {
			close(started)
			<-release // ignores cancellation
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop with a stuck job = %v, want DeadlineExceeded", err)
	}
}

func TestScheduler_Tasks(t *testing.T) {
	var atStart, periodic atomic.Int32
	failing := atomic.Int32{}
	s, err := digest.NewScheduler(digest.SchedulerConfig{
		Run: (&recorder{}).run, HasRun: hasRun(true),
		Tasks: []digest.PeriodicTask{
			{Name: "poll", Every: time.Hour, AtStart: true, Run: func(context.Context) error { atStart.Add(1); return nil }},
			{Name: "resume", Every: time.Second, Run: func(context.Context) error { periodic.Add(1); return nil }},
			{Name: "flaky", Every: time.Second, Run: func(context.Context) error { failing.Add(1); return errors.New("relay down") }},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	eventually(t, "the start task", func() bool { return atStart.Load() == 1 })
	eventually(t, "periodic tasks, also after errors", func() bool { return periodic.Load() >= 2 && failing.Load() >= 2 })
	stop(t, s)
	if n := atStart.Load(); n != 1 {
		t.Errorf("hourly start task ran %d times", n)
	}
	if _, err := digest.NewScheduler(digest.SchedulerConfig{
		Run: (&recorder{}).run, HasRun: hasRun(true),
		Tasks: []digest.PeriodicTask{{Name: "x", Every: time.Millisecond, Run: func(context.Context) error { return nil }}},
	}); err == nil {
		t.Error("task with a 1ms interval accepted")
	}
}

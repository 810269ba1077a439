package digest

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Runner plans and sends editions: what `digest run` and the scheduler call.
type Runner struct {
	Planner *Planner
	Sender  *Sender
	Log     *slog.Logger
}

// Report is what one Run call did.
type Report struct {
	Plan     PlanResult
	Send     Progress
	Duration time.Duration
	DryRun   bool
}

// Run plans the edition of cadence at time at (or resumes it) and sends what is due.
func (r *Runner) Run(ctx context.Context, cadence Cadence, at time.Time, dryRun bool) (Report, error) {
	start := time.Now()
	rep := Report{DryRun: dryRun}
	var err error
	rep.Plan, err = r.Planner.Plan(ctx, cadence, at, dryRun)
	if err != nil {
		return rep, err
	}
	r.log().Info("planned", "run", rep.Plan.Run.ID, "cadence", cadence, "edition", rep.Plan.Run.Edition,
		"resumed", rep.Plan.Resumed, "planned", rep.Plan.Planned, "selections", rep.Plan.Selections,
		"skipped", rep.Plan.Skipped, "expired", rep.Plan.Expired, "dry_run", dryRun)
	if dryRun {
		rep.Duration = time.Since(start)
		return rep, nil
	}
	rep.Send, err = r.Sender.Send(ctx, rep.Plan.Run)
	rep.Duration = time.Since(start)
	r.log().Info("sent", "run", rep.Plan.Run.ID, "edition", rep.Plan.Run.Edition, "sent", rep.Send.Sent,
		"retry", rep.Send.Retry, "failed", rep.Send.Failed, "skipped", rep.Send.Skipped, "duration", rep.Duration.Round(time.Millisecond))
	return rep, err
}

// RunEdition is Run for the scheduler (digest.RunEditionFunc).
func (r *Runner) RunEdition(ctx context.Context, cadence Cadence, at time.Time) error {
	_, err := r.Run(ctx, cadence, at, false)
	return err
}

// HasRun reports whether the edition of cadence at time at has been planned
// (digest.HasRunFunc).
func (r *Runner) HasRun(ctx context.Context, cadence Cadence, at time.Time) (bool, error) {
	_, ok, err := FindRun(ctx, r.Planner.DB, cadence, Edition(cadence, at))
	return ok, err
}

// Resume sends what is due in every run that still has open deliveries
// (retries between editions, or a run that was interrupted).
func (r *Runner) Resume(ctx context.Context) error {
	runs, err := OpenRuns(ctx, r.Planner.DB)
	if err != nil {
		return fmt.Errorf("find open runs: %w", err)
	}
	for _, run := range runs {
		p, err := r.Sender.Send(ctx, run)
		if p.Done() > 0 {
			r.log().Info("resumed", "run", run.ID, "edition", run.Edition, "sent", p.Sent, "retry", p.Retry, "failed", p.Failed, "skipped", p.Skipped)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

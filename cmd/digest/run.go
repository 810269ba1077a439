package main

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/feedback"
)

func cmdRun(a *app, args []string) error {
	fs := a.flags("run", "[--cadence weekly|daily] [--at TIME] [--dry-run]",
		"Plan the edition of TIME (default now) and send its digests. Running it again for the same\n"+
			"edition resumes: it sends what is pending or due for retry, never what was sent.",
		groupMail, groupSend)
	cadence := fs.String("cadence", "weekly", "weekly or daily")
	var at time.Time
	fs.Var(timeFlag{&at}, "at", "run time (RFC 3339), default now; selection and retries are judged by it")
	dry := fs.Bool("dry-run", false, "plan and report without sending or recording anything")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	c, err := digest.ParseCadence(*cadence)
	if err != nil {
		return &usageError{msg: "--cadence: " + err.Error()}
	}
	a.noSend = *dry
	now := a.now(at)
	r, err := a.runner(now)
	if err != nil {
		return err
	}
	if isTerminal(a.stdout) {
		bar := &progressBar{w: a.stdout, label: "sending", counts: true}
		r.Sender.Progress = func(p digest.Progress) { bar.set(p.Done(), p.Due) }
		defer bar.clear()
	}
	rep, err := r.Run(a.ctx, c, now(), *dry)
	a.printReport(rep)
	if err != nil {
		if errors.Is(err, digest.ErrRelayUnreachable) {
			return fmt.Errorf("%w\nNothing was lost: run `digest run` again when the relay answers", err)
		}
		return err
	}
	return nil
}

func (a *app) printReport(rep digest.Report) {
	p := rep.Plan
	if p.Run.ID == 0 {
		return
	}
	verb := "planned"
	if p.Resumed {
		verb = "resumed"
	}
	if rep.DryRun {
		verb = "dry run of"
	}
	fmt.Fprintf(a.stdout, "%s %s edition %s (run %d): %d new deliveries in %d selections, %d with nothing new",
		verb, p.Run.Cadence, p.Run.Edition, p.Run.ID, p.Planned, p.Selections, p.Skipped)
	if p.Expired > 0 {
		fmt.Fprintf(a.stdout, ", %d open deliveries of older editions given up", p.Expired)
	}
	fmt.Fprintln(a.stdout)
	if rep.DryRun {
		fmt.Fprintln(a.stdout, "dry run: nothing was recorded or sent")
		return
	}
	s := rep.Send
	secs := rep.Duration.Seconds()
	rate := ""
	if s.Sent > 0 && secs > 0 {
		rate = fmt.Sprintf(" (%.0f messages/s)", float64(s.Sent)/secs)
	}
	fmt.Fprintf(a.stdout, "sent %d, retry %d, failed %d, skipped %d in %s%s\n",
		s.Sent, s.Retry, s.Failed, s.Skipped, rep.Duration.Round(time.Millisecond), rate)
	if db, err := a.openDB(); err == nil && s.Retry > 0 {
		if t, err := digest.NextRetry(a.ctx, db, p.Run.ID); err == nil && !t.IsZero() {
			fmt.Fprintf(a.stdout, "next retry due %s: `digest serve` retries by itself, or run `digest run --at` again then\n", t.In(digest.Berlin).Format(time.RFC3339))
		}
	}
}

// runJSON is the --json shape of a run.
type runJSON struct {
	ID       int64               `json:"id"`
	Cadence  string              `json:"cadence"`
	Edition  string              `json:"edition"`
	At       string              `json:"at"`
	Planned  int                 `json:"planned"`
	Sent     int                 `json:"sent"`
	Retry    int                 `json:"retry"`
	Failed   int                 `json:"failed"`
	Skipped  int                 `json:"skipped"`
	Pending  int                 `json:"pending"`
	Finished string              `json:"finished_at,omitempty"`
	Errors   []digest.ErrorGroup `json:"errors,omitempty"`
	// Deliverability is what came back after sending (runs show only).
	Deliverability *feedback.RunStats `json:"deliverability,omitempty"`
}

func toRunJSON(r digest.RunStats) runJSON {
	j := runJSON{ID: r.ID, Cadence: string(r.Cadence), Edition: r.Edition, At: r.At.Format(time.RFC3339),
		Planned: r.Planned, Sent: r.Sent, Retry: r.Retry, Failed: r.Failed, Skipped: r.Skipped, Pending: r.Pending}
	if r.FinishedAt.Valid {
		j.Finished = r.FinishedAt.Time.Format(time.RFC3339)
	}
	return j
}

func cmdRunsList(a *app, args []string) error {
	fs := a.flags("runs list", "[--json]", "List runs, newest first, with their delivery counts.")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	runs, err := digest.ListRuns(a.ctx, db)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]runJSON, 0, len(runs))
		for _, r := range runs {
			out = append(out, toRunJSON(r))
		}
		return a.printJSON(out)
	}
	tw := a.table()
	fmt.Fprintln(tw, "ID\tCADENCE\tEDITION\tAT\tPLANNED\tSENT\tRETRY\tFAILED\tSKIPPED\tPENDING")
	for _, r := range runs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", r.ID, r.Cadence, r.Edition,
			r.At.In(digest.Berlin).Format("2006-01-02 15:04"), r.Planned, r.Sent, r.Retry, r.Failed, r.Skipped, r.Pending)
	}
	return tw.Flush()
}

func cmdRunsShow(a *app, args []string) error {
	fs := a.flags("runs show", "[ID] [--json]", "Show one run (default: the latest) with its errors grouped by reason.")
	asJSON := fs.Bool("json", false, "print a JSON object")
	pos, err := a.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	var id int64
	if len(pos) == 1 {
		if id, err = strconv.ParseInt(pos[0], 10, 64); err != nil || id < 1 {
			return usagef("run ID %q is not a number; see `digest runs list`", pos[0])
		}
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	r, err := digest.GetRun(a.ctx, db, id)
	if err != nil {
		return err
	}
	groups, err := digest.RunErrors(a.ctx, db, r.ID)
	if err != nil {
		return err
	}
	back, err := feedback.StatsOfRun(a.ctx, db, r.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		j := toRunJSON(r)
		j.Errors = groups
		j.Deliverability = &back
		return a.printJSON(j)
	}
	w := a.stdout
	fmt.Fprintf(w, "run %d: %s edition %s at %s\n", r.ID, r.Cadence, r.Edition, r.At.In(digest.Berlin).Format(time.RFC3339))
	if r.FinishedAt.Valid {
		fmt.Fprintf(w, "finished %s\n", r.FinishedAt.Time.In(digest.Berlin).Format(time.RFC3339))
	} else {
		fmt.Fprintln(w, "not finished: deliveries are pending or waiting for retry")
	}
	fmt.Fprintf(w, "planned %d: sent %d, retry %d, failed %d, skipped %d, pending %d\n", r.Planned, r.Sent, r.Retry, r.Failed, r.Skipped, r.Pending)
	fmt.Fprintf(w, "after sending: bounced %d (%s), soft bounces %d, complaints %d (%s), unsubscribed %d (%s)\n",
		back.Bounced, percent(back.BounceRate), back.SoftBounced, back.Complained, percent(back.ComplaintRate),
		back.UnsubscribedAfter, percent(back.UnsubscribeRate))
	if len(groups) > 0 {
		fmt.Fprintln(w, "\nreasons:")
		tw := a.table()
		fmt.Fprintln(tw, "COUNT\tSTATUS\tREASON")
		for _, g := range groups {
			fmt.Fprintf(tw, "%d\t%s\t%s\n", g.Count, g.Status, cl(g.Reason))
		}
		tw.Flush()
	}
	return nil
}

// Package metrics serves GET /metrics in the Prometheus text exposition
// format (version 0.0.4), written by hand: a handful of gauges and counters
// read from the database on every scrape, so they are right whichever
// process sent or polled.
//
// Served on its own listen address (DIGEST_METRICS_ADDR), never on the
// public one: the numbers are for operators, not for the world.
//
// What a scrape costs: one query per family, each on an index: deliveries
// of the latest run per cadence (not of all runs, which grow by one row per
// subscriber and edition), open deliveries of the unfinished runs only
// (runs.finished_at IS NULL, then the (run_id, id) index; deliveries have
// no index on status, see digest's "Open runs"), subscribers grouped by
// status, and the returned-mail table.
package metrics

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kommune21/digest/store"
)

// Handler returns the /metrics handler.
func Handler(db *store.DB, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		defer cancel()
		var b bytes.Buffer
		if err := Write(ctx, db, &b); err != nil {
			if log != nil {
				log.Error("metrics", "err", err)
			}
			http.Error(w, "metrics unavailable: database error", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(b.Bytes())
	})
	return mux
}

type family struct {
	name, help, typ string
	samples         []sample
}

type sample struct {
	labels [][2]string
	value  float64
}

// Write appends the current metrics to b.
func Write(ctx context.Context, db *store.DB, b *bytes.Buffer) error {
	var fams []family

	type kv struct {
		Cadence string `db:"cadence"`
		Key     string `db:"k"`
		N       int64  `db:"n"`
	}
	var rows []kv
	if err := db.SelectContext(ctx, &rows, `
		SELECT r.cadence, d.status AS k, count(*) AS n FROM deliveries d JOIN runs r ON r.id = d.run_id
		WHERE r.id IN (SELECT max(id) FROM runs GROUP BY cadence)
		GROUP BY r.cadence, d.status`); err != nil {
		return fmt.Errorf("deliveries by status: %w", err)
	}
	f := family{name: "digest_deliveries", typ: "gauge", help: "Deliveries of the latest run of each cadence, by status."}
	for _, r := range rows {
		f.samples = append(f.samples, sample{labels: [][2]string{{"cadence", r.Cadence}, {"status", r.Key}}, value: float64(r.N)})
	}
	fams = append(fams, f)

	var queue int64
	if err := db.GetContext(ctx, &queue, `SELECT count(*) FROM deliveries d JOIN runs r ON r.id = d.run_id
		WHERE r.finished_at IS NULL AND d.status IN ('pending', 'retry')`); err != nil {
		return fmt.Errorf("queue depth: %w", err)
	}
	fams = append(fams, family{name: "digest_queue_depth", typ: "gauge", help: "Deliveries waiting to be sent or retried, all runs.",
		samples: []sample{{value: float64(queue)}}})

	type last struct {
		Cadence  string       `db:"cadence"`
		Created  time.Time    `db:"created_at"`
		Planned  sql.NullTime `db:"planned_at"`
		Finished sql.NullTime `db:"finished_at"`
	}
	var lasts []last
	// Times as columns, not COALESCE: SQLite returns an expression's time as text.
	if err := db.SelectContext(ctx, &lasts, `
		SELECT r.cadence, r.created_at, r.planned_at, r.finished_at
		FROM runs r WHERE r.id IN (SELECT max(id) FROM runs GROUP BY cadence)`); err != nil {
		return fmt.Errorf("last run: %w", err)
	}
	lt := family{name: "digest_last_run_timestamp_seconds", typ: "gauge", help: "When the latest run of each cadence finished (or was planned, while it is still sending)."}
	lf := family{name: "digest_last_run_finished", typ: "gauge", help: "1 when the latest run of each cadence has finished."}
	for _, l := range lasts {
		at, v := l.Created, 0.0
		if l.Planned.Valid {
			at = l.Planned.Time
		}
		if l.Finished.Valid {
			at, v = l.Finished.Time, 1
		}
		lt.samples = append(lt.samples, sample{labels: [][2]string{{"cadence", l.Cadence}}, value: float64(at.Unix())})
		lf.samples = append(lf.samples, sample{labels: [][2]string{{"cadence", l.Cadence}}, value: v})
	}
	fams = append(fams, lt, lf)

	rows = nil
	if err := db.SelectContext(ctx, &rows, `SELECT '' AS cadence, status AS k, count(*) AS n FROM subscribers GROUP BY status`); err != nil {
		return fmt.Errorf("subscribers by status: %w", err)
	}
	f = family{name: "digest_subscribers", typ: "gauge", help: "Subscribers by status."}
	for _, r := range rows {
		f.samples = append(f.samples, sample{labels: [][2]string{{"status", r.Key}}, value: float64(r.N)})
	}
	fams = append(fams, f)

	type mailCount struct {
		Kind     string `db:"kind"`
		Severity string `db:"severity"`
		Outcome  string `db:"outcome"`
		N        int64  `db:"n"`
	}
	var mails []mailCount
	if err := db.SelectContext(ctx, &mails, `SELECT kind, severity, outcome, count(*) AS n FROM inbound_mails GROUP BY kind, severity, outcome`); err != nil {
		return fmt.Errorf("returned mails: %w", err)
	}
	in := family{name: "digest_inbound_mails_total", typ: "counter", help: "Returned mails handled, by kind and outcome (applied, recorded, ignored, unmatched)."}
	bo := family{name: "digest_bounces_total", typ: "counter", help: "Bounce reports that named a delivery, by severity."}
	co := family{name: "digest_complaints_total", typ: "counter", help: "Complaints (feedback reports) that named a delivery."}
	un := family{name: "digest_unmatched_mails_total", typ: "counter", help: "Returned mails that named no delivery or subscriber that could be trusted (kept for staff)."}
	byKind := map[[2]string]float64{}
	sev := map[string]float64{"hard": 0, "soft": 0}
	var complaints, unmatched float64
	for _, m := range mails {
		byKind[[2]string{m.Kind, m.Outcome}] += float64(m.N)
		matched := m.Outcome == "applied" || m.Outcome == "recorded"
		if m.Kind == "bounce" && matched && m.Severity != "" {
			sev[m.Severity] += float64(m.N)
		}
		if m.Kind == "complaint" && matched {
			complaints += float64(m.N)
		}
		if m.Outcome == "unmatched" {
			unmatched += float64(m.N)
		}
	}
	for k, v := range byKind {
		in.samples = append(in.samples, sample{labels: [][2]string{{"kind", k[0]}, {"outcome", k[1]}}, value: v})
	}
	for s, v := range sev {
		bo.samples = append(bo.samples, sample{labels: [][2]string{{"severity", s}}, value: v})
	}
	co.samples = []sample{{value: complaints}}
	un.samples = []sample{{value: unmatched}}
	fams = append(fams, in, bo, co, un)

	for _, f := range fams {
		sort.Slice(f.samples, func(i, j int) bool { return labelKey(f.samples[i]) < labelKey(f.samples[j]) })
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.typ)
		for _, s := range f.samples {
			b.WriteString(f.name)
			if len(s.labels) > 0 {
				b.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						b.WriteByte(',')
					}
					b.WriteString(l[0] + `="` + escape(l[1]) + `"`)
				}
				b.WriteByte('}')
			}
			b.WriteString(" " + strconv.FormatFloat(s.value, 'f', -1, 64) + "\n")
		}
	}
	return nil
}

func labelKey(s sample) string {
	var k strings.Builder
	for _, l := range s.labels {
		k.WriteString(l[1] + "\x00")
	}
	return k.String()
}

// escape escapes a label value (backslash, quote, newline).
func escape(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

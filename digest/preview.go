package digest

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/subscribers"
)

// Preview is the digest a subscriber would get, made without sending or recording anything.
type Preview struct {
	Subscriber subscribers.Subscriber
	Edition    string
	Planned    bool // the subscriber's delivery in this edition already exists
	Status     string
	Articles   int
	More       int
	Message    *mailer.Message // nil when there is nothing new
}

// Preview renders what the subscriber with email would receive in a run at time at.
func (s *Sender) Preview(ctx context.Context, p *Planner, email string, at time.Time) (*Preview, error) {
	sub, err := subscribers.NewStore(s.DB, s.Now).GetByEmail(ctx, email)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", email, err)
	}
	cadence := Cadence(sub.Cadence)
	pv := &Preview{Subscriber: sub, Edition: Edition(cadence, at)}
	var lib *library
	var item claimed
	run, ok, err := FindRun(ctx, s.DB, cadence, pv.Edition)
	if err != nil {
		return nil, err
	}
	if ok {
		err = s.DB.GetContext(ctx, &item, s.DB.Rebind(`SELECT d.id, d.selection_id, d.status AS sub_status FROM deliveries d
			WHERE d.run_id = ? AND d.subscriber_id = ?`), run.ID, sub.ID)
		if err == nil {
			pv.Planned, pv.Status = true, item.Status
			if lib, err = loadLibrary(ctx, s.DB, s.DB.DB, s.Templates, run); err != nil {
				return nil, err
			}
		}
	}
	if lib == nil {
		// Plan this subscriber alone in a transaction that is rolled back.
		_, err = p.plan(ctx, cadence, at, planOptions{dryRun: true, only: sub.ID, inspect: func(tx *sqlx.Tx, run Run) error {
			if err := tx.GetContext(ctx, &item, s.DB.Rebind(`SELECT id, selection_id, status AS sub_status FROM deliveries
				WHERE run_id = ? AND subscriber_id = ?`), run.ID, sub.ID); err != nil {
				return fmt.Errorf("preview plan: %w", err)
			}
			var err error
			lib, err = loadLibrary(ctx, s.DB, tx, s.Templates, run)
			return err
		}})
		if err != nil {
			return nil, err
		}
		pv.Status = item.Status
	}
	if pv.Planned {
		// Only a planned selection has a lasting id: one planned in the
		// rolled-back transaction above may later be another selection's.
		lib.links = s.Links
	}
	sel := lib.selections[item.SelectionID]
	if sel == nil || len(sel.Articles) == 0 {
		return pv, nil
	}
	pv.Articles, pv.More = len(sel.Articles), max(0, sel.Total-len(sel.Articles))
	w := &sendWork{Sender: s, lib: lib, ob: &outbox{db: s.DB, run: lib.run, domain: s.Message.Domain}}
	item.SubscriberID, item.Email, item.Name = &sub.ID, sub.Email, sub.Name
	var html, text bytes.Buffer
	msg, err := w.message(item, &html, &text)
	if err != nil {
		return nil, err
	}
	pv.Message = msg
	return pv, nil
}

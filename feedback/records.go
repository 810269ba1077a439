package feedback

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kommune21/digest/inbound"
	"github.com/kommune21/digest/store"
)

// Record is one handled mail as staff see it.
type Record struct {
	ID           int64     `json:"id"`
	ReceivedAt   time.Time `json:"received_at"`
	Source       string    `json:"source"`
	MessageID    string    `json:"message_id"`
	Sender       string    `json:"sender"`
	Subject      string    `json:"subject"`
	Kind         string    `json:"kind"`
	Severity     string    `json:"severity,omitempty"`
	Status       string    `json:"status_code,omitempty"`
	Diagnostic   string    `json:"diagnostic,omitempty"`
	Recipient    string    `json:"recipient,omitempty"`
	Outcome      string    `json:"outcome"`
	MatchedBy    string    `json:"matched_by,omitempty"`
	Note         string    `json:"note,omitempty"`
	RunID        int64     `json:"run_id,omitempty"`
	DeliveryID   int64     `json:"delivery_id,omitempty"`
	SubscriberID int64     `json:"subscriber_id,omitempty"`
}

type recordRow struct {
	ID           int64         `db:"id"`
	ReceivedAt   time.Time     `db:"received_at"`
	Source       string        `db:"source"`
	MessageID    string        `db:"message_id"`
	Sender       string        `db:"sender"`
	Subject      string        `db:"subject"`
	Kind         string        `db:"kind"`
	Severity     string        `db:"severity"`
	Status       string        `db:"status_code"`
	Diagnostic   string        `db:"diagnostic"`
	Recipient    string        `db:"recipient"`
	Outcome      string        `db:"outcome"`
	MatchedBy    string        `db:"matched_by"`
	Note         string        `db:"note"`
	RunID        sql.NullInt64 `db:"run_id"`
	DeliveryID   sql.NullInt64 `db:"delivery_id"`
	SubscriberID sql.NullInt64 `db:"subscriber_id"`
}

const recordSelect = `SELECT i.id, i.received_at, i.source, i.message_id, i.sender, i.subject, i.kind, i.severity,
	i.status_code, i.diagnostic, i.recipient, i.outcome, i.matched_by, i.note, i.run_id, i.delivery_id, i.subscriber_id
	FROM inbound_mails i`

func (r recordRow) record() Record {
	return Record{ID: r.ID, ReceivedAt: r.ReceivedAt, Source: r.Source, MessageID: r.MessageID, Sender: r.Sender,
		Subject: r.Subject, Kind: r.Kind, Severity: r.Severity, Status: r.Status, Diagnostic: r.Diagnostic,
		Recipient: r.Recipient, Outcome: r.Outcome, MatchedBy: r.MatchedBy, Note: r.Note,
		RunID: r.RunID.Int64, DeliveryID: r.DeliveryID.Int64, SubscriberID: r.SubscriberID.Int64}
}

func (r recordRow) result() Result {
	return Result{ID: r.ID, Kind: inbound.Kind(r.Kind), Severity: inbound.Severity(r.Severity), Outcome: Outcome(r.Outcome),
		MatchedBy: r.MatchedBy, RunID: r.RunID.Int64, DeliveryID: r.DeliveryID.Int64, SubscriberID: r.SubscriberID.Int64,
		Email: r.Recipient, Note: r.Note}
}

// List returns handled mails, newest first; only the unmatched ones when
// unmatched is set. limit ≤ 0 means 1000.
func List(ctx context.Context, db *store.DB, unmatched bool, limit int) ([]Record, error) {
	if limit <= 0 {
		limit = 1000
	}
	q, args := recordSelect, []any{}
	if unmatched {
		q += ` WHERE i.outcome = 'unmatched'`
	}
	q += ` ORDER BY i.id DESC LIMIT ?`
	args = append(args, limit)
	var rows []recordRow
	if err := db.SelectContext(ctx, &rows, db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("list inbound mails: %w", err)
	}
	out := make([]Record, len(rows))
	for i, r := range rows {
		out[i] = r.record()
	}
	return out, nil
}

// Latest returns a subscriber's latest bounce or complaint (nil when none).
func Latest(ctx context.Context, db *store.DB, subscriberID int64) (*Record, error) {
	var rows []recordRow
	if err := db.SelectContext(ctx, &rows, db.Rebind(recordSelect+`
		WHERE i.subscriber_id = ? AND i.kind IN ('bounce', 'complaint') ORDER BY i.id DESC LIMIT 1`), subscriberID); err != nil {
		return nil, fmt.Errorf("latest bounce of subscriber %d: %w", subscriberID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0].record()
	return &r, nil
}

// SubscriberStatus is why a subscriber has the status they have.
type SubscriberStatus struct {
	Reason      string `db:"status_reason" json:"status_reason,omitempty"`
	MailID      int64  `db:"status_mail_id" json:"status_mail_id,omitempty"`
	SoftBounces int    `db:"soft_bounces" json:"soft_bounces"`
}

// StatusOf reads a subscriber's status reason, its evidence and soft-bounce streak.
func StatusOf(ctx context.Context, db *store.DB, subscriberID int64) (SubscriberStatus, error) {
	var s SubscriberStatus
	err := db.GetContext(ctx, &s, db.Rebind(`SELECT status_reason, COALESCE(status_mail_id, 0) AS status_mail_id, soft_bounces FROM subscribers WHERE id = ?`), subscriberID)
	if err != nil {
		return s, fmt.Errorf("status of subscriber %d: %w", subscriberID, err)
	}
	return s, nil
}

// RunStats is the deliverability of one run: what came back after sending.
type RunStats struct {
	Sent              int     `db:"sent" json:"sent"`
	Bounced           int     `db:"bounced" json:"bounced"`           // deliveries with a hard bounce report
	SoftBounced       int     `db:"soft_bounced" json:"soft_bounced"` // deliveries with only soft bounce reports
	Complained        int     `db:"complained" json:"complained"`     // deliveries with a complaint
	UnsubscribedAfter int     `db:"unsubscribed" json:"unsubscribed"` // sent to subscribers who unsubscribed afterwards (any way)
	BounceRate        float64 `db:"-" json:"bounce_rate"`             // Bounced / Sent
	ComplaintRate     float64 `db:"-" json:"complaint_rate"`          // Complained / Sent
	UnsubscribeRate   float64 `db:"-" json:"unsubscribe_rate"`        // UnsubscribedAfter / Sent
}

// StatsOfRun counts what came back for the sent deliveries of a run.
func StatsOfRun(ctx context.Context, db *store.DB, runID int64) (RunStats, error) {
	var s RunStats
	err := db.GetContext(ctx, &s, db.Rebind(`
		SELECT
			(SELECT count(*) FROM deliveries WHERE run_id = ? AND status = 'sent') AS sent,
			(SELECT count(DISTINCT delivery_id) FROM inbound_mails WHERE run_id = ? AND kind = 'bounce' AND severity = 'hard') AS bounced,
			(SELECT count(DISTINCT delivery_id) FROM inbound_mails i WHERE run_id = ? AND kind = 'bounce' AND severity = 'soft'
				AND NOT EXISTS (SELECT 1 FROM inbound_mails h WHERE h.delivery_id = i.delivery_id AND h.kind = 'bounce' AND h.severity = 'hard')) AS soft_bounced,
			(SELECT count(DISTINCT delivery_id) FROM inbound_mails WHERE run_id = ? AND kind = 'complaint') AS complained,
			(SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
				WHERE d.run_id = ? AND d.status = 'sent' AND s.status = 'unsubscribed' AND s.unsubscribed_at >= d.sent_at) AS unsubscribed`),
		runID, runID, runID, runID, runID)
	if err != nil {
		return s, fmt.Errorf("deliverability of run %d: %w", runID, err)
	}
	if s.Sent > 0 {
		s.BounceRate = float64(s.Bounced) / float64(s.Sent)
		s.ComplaintRate = float64(s.Complained) / float64(s.Sent)
		s.UnsubscribeRate = float64(s.UnsubscribedAfter) / float64(s.Sent)
	}
	return s, nil
}

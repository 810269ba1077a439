package feedback

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/inbound"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/subscribers"
)

// Outcome is what handling a mail did.
type Outcome string

const (
	Applied   Outcome = "applied"   // a subscriber's status changed
	Recorded  Outcome = "recorded"  // matched and kept as evidence; nothing (more) to change
	Ignored   Outcome = "ignored"   // an auto-reply
	Unmatched Outcome = "unmatched" // names no delivery or subscriber that can be trusted: for staff
)

// SoftBounceLimit is how many editions in a row may soft-bounce before the
// subscriber counts as bounced.
const SoftBounceLimit = 3

// Handler matches returned mails to deliveries and subscribers and applies
// their effects. It is safe for concurrent use.
type Handler struct {
	DB         *store.DB
	ReturnPath *ReturnPath         // nil: no VERP (DIGEST_RETURN_PATH unset)
	Signer     *subscribers.Signer // verifies the tokens of unsubscribe mails
	Domain     string              // the Message-ID domain of the digests
	Now        func() time.Time
	Log        *slog.Logger
}

// Result is what became of one mail.
type Result struct {
	ID           int64 // the inbound_mails row
	Kind         inbound.Kind
	Severity     inbound.Severity
	Outcome      Outcome
	Duplicate    bool   // the same mail was handled before; nothing changed now
	MatchedBy    string // verp, message-id, token, sender
	RunID        int64
	DeliveryID   int64
	SubscriberID int64
	Email        string // the subscriber's address, or the address the mail names
	Change       string // the subscriber's new status, when it changed
	Note         string
}

// Fingerprint identifies a mail: the same mail read twice (from the mailbox
// and from an export) is one row.
func Fingerprint(raw []byte) string {
	if strings.HasPrefix(string(raw[:min(len(raw), 5)]), "From ") {
		if i := strings.IndexByte(string(raw[:min(len(raw), 1000)]), '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	raw = raw[:min(len(raw), inbound.MaxRead)]
	sum := sha256.Sum256([]byte(strings.ReplaceAll(string(raw), "\r\n", "\n")))
	return hex.EncodeToString(sum[:])
}

// plan is what matching decided, before it is written.
type plan struct {
	outcome    Outcome
	by, note   string
	del        *delivery
	sub        *subscriber
	recipient  string
	rcpt       inbound.Recipient
	wantStatus string // "bounced" or "unsubscribed" ("" = no change)
	reason     string
	soft       bool
}

type delivery struct {
	ID           int64         `db:"id"`
	RunID        int64         `db:"run_id"`
	SubscriberID sql.NullInt64 `db:"subscriber_id"`
	MessageID    string        `db:"message_id"`
	Email        string        `db:"email"`
}

type subscriber struct {
	ID     int64  `db:"id"`
	Email  string `db:"email"`
	Status string `db:"status"`
}

// Handle reads one mail and does what it asks for. source says where it came
// from (a file, "imap INBOX uid 7") and is kept as evidence. Handling the
// same mail again changes nothing and returns the first result with
// Duplicate set.
func (h *Handler) Handle(ctx context.Context, raw []byte, source string) (Result, error) {
	fp := Fingerprint(raw)
	if r, ok, err := h.byFingerprint(ctx, fp); err != nil || ok {
		return r, err
	}
	m := inbound.ParseBytes(raw)
	p, err := h.match(ctx, m)
	if err != nil {
		return Result{}, err
	}
	return h.write(ctx, fp, source, m, p)
}

func (h *Handler) byFingerprint(ctx context.Context, fp string) (Result, bool, error) {
	var rows []recordRow
	if err := h.DB.SelectContext(ctx, &rows, h.DB.Rebind(recordSelect+` WHERE i.fingerprint = ?`), fp); err != nil {
		return Result{}, false, fmt.Errorf("look up inbound mail: %w", err)
	}
	if len(rows) == 0 {
		return Result{}, false, nil
	}
	r := rows[0].result()
	r.Duplicate = true
	return r, true, nil
}

func (h *Handler) match(ctx context.Context, m *inbound.Mail) (plan, error) {
	switch m.Kind {
	case inbound.KindAutoReply:
		return plan{outcome: Ignored, note: "auto-reply"}, nil
	case inbound.KindOther:
		note := "not a bounce, complaint or unsubscribe mail"
		if m.Problem != "" {
			note += " (" + m.Problem + ")"
		}
		return plan{outcome: Unmatched, note: note}, nil
	case inbound.KindUnsubscribe:
		return h.matchUnsubscribe(ctx, m)
	}
	p := plan{}
	d, by, note, err := h.findDelivery(ctx, m)
	if err != nil {
		return p, err
	}
	p.by = by
	if m.Kind == inbound.KindBounce {
		p.rcpt = pickRecipient(m.Recipients, d)
		p.recipient = p.rcpt.Address
	} else if len(m.Original.To) > 0 {
		p.recipient = m.Original.To[0]
	}
	if d == nil {
		p.outcome, p.note = Unmatched, note
		return p, nil
	}
	p.del = d
	if !d.SubscriberID.Valid {
		p.outcome, p.note = Recorded, "the subscriber was erased"
		return p, nil
	}
	p.recipient = d.Email
	p.sub = &subscriber{ID: d.SubscriberID.Int64, Email: d.Email}
	p.outcome = Recorded
	if m.Kind == inbound.KindComplaint {
		p.wantStatus, p.reason = "unsubscribed", "complaint"
		if m.Feedback != "" && m.Feedback != "abuse" {
			p.reason = "complaint (" + m.Feedback + ")"
		}
		return p, nil
	}
	switch p.rcpt.Severity {
	case inbound.Hard:
		p.wantStatus, p.reason = "bounced", strings.TrimSpace("bounce "+p.rcpt.Status)
	case inbound.Soft:
		p.soft = true
	default:
		p.note = "no failure in the report (" + orDash(p.rcpt.Action) + ")"
	}
	return p, nil
}

func orDash(s string) string {
	if s == "" {
		return "no status"
	}
	return s
}

// pickRecipient takes the report's entry for the delivery's address, or the
// most severe one (a forwarded address shows up under its final name).
func pickRecipient(rs []inbound.Recipient, d *delivery) inbound.Recipient {
	if d != nil {
		for _, r := range rs {
			if strings.EqualFold(r.Address, d.Email) {
				return r
			}
		}
	}
	best := inbound.Recipient{}
	for _, r := range rs {
		if best.Address == "" || r.Severity == inbound.Hard && best.Severity != inbound.Hard || r.Severity == inbound.Soft && best.Severity == inbound.None {
			best = r
		}
	}
	return best
}

var midRE = regexp.MustCompile(`^r([0-9]{1,18})\.d([0-9]{1,18})@(.+)$`)

// findDelivery names the delivery a bounce or complaint is about: by a VERP
// address with a valid tag, or by the original Message-ID together with a
// recipient the report names that is the delivery's address. An address
// alone is never enough.
func (h *Handler) findDelivery(ctx context.Context, m *inbound.Mail) (*delivery, string, string, error) {
	forged := false
	if h.ReturnPath != nil {
		cands := append(slices.Clone(m.Addressed), m.Original.ReturnPath)
		for _, a := range cands {
			run, id, v := h.ReturnPath.Delivery(a)
			switch v {
			case Forged:
				forged = true
			case Valid:
				d, err := h.delivery(ctx, run, id)
				if err != nil || d != nil {
					return d, "verp", "", err
				}
				forged = true // a valid tag of a delivery deleted since
			}
		}
	}
	var notes []string
	if forged {
		notes = append(notes, "return path tag does not verify or names no delivery")
	}
	if sm := midRE.FindStringSubmatch(strings.ToLower(m.Original.MessageID)); sm != nil && strings.EqualFold(sm[3], h.Domain) {
		run, _ := strconv.ParseInt(sm[1], 10, 64)
		id, _ := strconv.ParseInt(sm[2], 10, 64)
		d, err := h.delivery(ctx, run, id)
		if err != nil {
			return nil, "", "", err
		}
		// A bounce must name the recipient in its report (Final-Recipient),
		// a complaint in Original-Rcpt-To or the reported message's To.
		var named []string
		if m.Kind == inbound.KindBounce {
			for _, r := range m.Recipients {
				named = append(named, r.Address)
			}
		} else {
			named = m.Original.To
		}
		switch {
		case d == nil || !strings.EqualFold(d.MessageID, m.Original.MessageID):
			notes = append(notes, "Message-ID "+m.Original.MessageID+" names no sent delivery")
		case !containsFold(named, d.Email):
			notes = append(notes, "Message-ID "+m.Original.MessageID+" and the recipient named belong to different deliveries")
		default:
			return d, "message-id", "", nil
		}
	}
	if len(notes) == 0 {
		notes = append(notes, "names no delivery (no return path tag, no Message-ID of ours)")
	}
	if len(m.Recipients) > 0 || len(m.Original.To) > 0 {
		notes = append(notes, "only an address is named")
	}
	return nil, "", strings.Join(notes, "; "), nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if s != "" && strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func (h *Handler) delivery(ctx context.Context, runID, id int64) (*delivery, error) {
	var ds []delivery
	err := h.DB.SelectContext(ctx, &ds, h.DB.Rebind(`
		SELECT d.id, d.run_id, d.subscriber_id, d.message_id, COALESCE(s.email, '') AS email
		FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.id = ? AND d.run_id = ?`), id, runID)
	if err != nil {
		return nil, fmt.Errorf("look up delivery %d: %w", id, err)
	}
	if len(ds) == 0 {
		return nil, nil
	}
	return &ds[0], nil
}

// matchUnsubscribe honours an unsubscribe mail from the subscriber's own
// address, or carrying a valid unsubscribe token of that subscriber.
func (h *Handler) matchUnsubscribe(ctx context.Context, m *inbound.Mail) (plan, error) {
	p := plan{recipient: m.From}
	if h.Signer != nil {
		for _, tok := range m.Tokens {
			c, err := h.Signer.Verify(tok, subscribers.PurposeUnsubscribe)
			if err != nil {
				continue
			}
			s, err := h.subscriberWhere(ctx, `id = ?`, c.ID)
			if err != nil {
				return p, err
			}
			if s != nil && c.Matches(s.Email) {
				p.sub, p.by = s, "token"
				break
			}
		}
	}
	if p.sub == nil && m.From != "" {
		s, err := h.subscriberWhere(ctx, `email_key = ?`, subscribers.EmailKey(m.From))
		if err != nil {
			return p, err
		}
		if s != nil {
			p.sub, p.by = s, "sender"
		}
	}
	if p.sub == nil {
		p.outcome, p.note = Unmatched, "the sender is no subscriber and the mail carries no valid token"
		return p, nil
	}
	p.recipient = p.sub.Email
	p.outcome, p.wantStatus, p.reason = Recorded, "unsubscribed", "unsubscribe mail"
	return p, nil
}

func (h *Handler) subscriberWhere(ctx context.Context, where string, arg any) (*subscriber, error) {
	var ss []subscriber
	if err := h.DB.SelectContext(ctx, &ss, h.DB.Rebind(`SELECT id, email, status FROM subscribers WHERE `+where), arg); err != nil {
		return nil, fmt.Errorf("look up subscriber: %w", err)
	}
	if len(ss) == 0 {
		return nil, nil
	}
	return &ss[0], nil
}

// write records the mail and applies the plan in one transaction.
func (h *Handler) write(ctx context.Context, fp, source string, m *inbound.Mail, p plan) (Result, error) {
	now := store.T(h.now())
	res := Result{Kind: m.Kind, Outcome: p.outcome, MatchedBy: p.by, Email: p.recipient, Note: p.note}
	if m.Kind == inbound.KindBounce {
		res.Severity = p.rcpt.Severity
	}
	var runID, delID, subID sql.NullInt64
	if p.del != nil {
		runID, delID = sql.NullInt64{Int64: p.del.RunID, Valid: true}, sql.NullInt64{Int64: p.del.ID, Valid: true}
		res.RunID, res.DeliveryID = p.del.RunID, p.del.ID
	}
	if p.sub != nil {
		subID = sql.NullInt64{Int64: p.sub.ID, Valid: true}
		res.SubscriberID = p.sub.ID
	}
	err := h.DB.Tx(ctx, func(tx *sqlx.Tx) error {
		q := `INSERT INTO inbound_mails (fingerprint, message_id, source, received_at, mail_date, sender, subject, kind,
			severity, status_code, diagnostic, recipient, outcome, matched_by, note, run_id, delivery_id, subscriber_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) DO NOTHING RETURNING id`
		rows, err := tx.QueryContext(ctx, h.DB.Rebind(q), fp, m.MessageID, short(source, 500), now, store.NullT(m.Date), m.From,
			m.Subject, string(m.Kind), string(res.Severity), p.rcpt.Status, p.rcpt.Diagnostic, p.recipient,
			string(p.outcome), p.by, p.note, runID, delID, subID)
		if err != nil {
			return fmt.Errorf("record inbound mail: %w", err)
		}
		got := rows.Next()
		if got {
			err = rows.Scan(&res.ID)
		}
		rows.Close()
		if err != nil {
			return err
		}
		if !got {
			return errDuplicate // handled concurrently by another poller
		}
		change, note, err := h.apply(ctx, tx, p, res.ID, now)
		if err != nil {
			return err
		}
		if change != "" || note != "" {
			res.Change = change
			if change != "" {
				res.Outcome = Applied
			}
			if note != "" {
				res.Note = note
			}
			if _, err := tx.ExecContext(ctx, h.DB.Rebind(`UPDATE inbound_mails SET outcome = ?, note = ? WHERE id = ?`),
				string(res.Outcome), res.Note, res.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errDuplicate) {
		r, _, err := h.byFingerprint(ctx, fp)
		return r, err
	}
	if err != nil {
		return Result{}, err
	}
	if h.Log != nil && res.Outcome == Applied {
		h.Log.Info("inbound mail applied", "kind", res.Kind, "subscriber", res.SubscriberID, "status", res.Change,
			"delivery", res.DeliveryID, "matched_by", res.MatchedBy)
	}
	return res, nil
}

var errDuplicate = errors.New("duplicate inbound mail")

// apply changes the subscriber's status as the plan says, only from a status
// that receives mail (a bounced address stays bounced, an unsubscribed one
// unsubscribed), and returns the new status when it changed.
func (h *Handler) apply(ctx context.Context, tx *sqlx.Tx, p plan, mailID int64, now time.Time) (string, string, error) {
	if p.sub == nil {
		return "", "", nil
	}
	want, reason := p.wantStatus, p.reason
	note := ""
	if p.soft {
		streak, err := h.softStreak(ctx, tx, p.sub.ID, p.del.ID)
		if err != nil {
			return "", "", err
		}
		if _, err := tx.ExecContext(ctx, h.DB.Rebind(`UPDATE subscribers SET soft_bounces = ? WHERE id = ?`), streak, p.sub.ID); err != nil {
			return "", "", err
		}
		note = fmt.Sprintf("soft bounce %d of %d in a row", min(streak, SoftBounceLimit), SoftBounceLimit)
		if streak < SoftBounceLimit {
			return "", note, nil
		}
		want, reason = "bounced", fmt.Sprintf("%d soft bounces in a row", SoftBounceLimit)
	}
	if want == "" {
		return "", note, nil
	}
	var r sql.Result
	var err error
	switch want {
	case "bounced":
		r, err = tx.ExecContext(ctx, h.DB.Rebind(`UPDATE subscribers SET status = 'bounced', status_reason = ?, status_mail_id = ?, updated_at = ?
			WHERE id = ? AND status = 'active'`), reason, mailID, now, p.sub.ID)
	case "unsubscribed":
		r, err = tx.ExecContext(ctx, h.DB.Rebind(`UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, status_reason = ?, status_mail_id = ?, updated_at = ?
			WHERE id = ? AND status IN ('active', 'pending')`), now, reason, mailID, now, p.sub.ID)
	}
	if err != nil {
		return "", "", fmt.Errorf("update subscriber %d: %w", p.sub.ID, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		var status string
		if err := tx.GetContext(ctx, &status, h.DB.Rebind(`SELECT status FROM subscribers WHERE id = ?`), p.sub.ID); err != nil {
			return "", "", err
		}
		return "", strings.TrimPrefix(note+"; ", "; ") + "subscriber already " + status, nil
	}
	return want, note, nil
}

// softStreak counts the subscriber's most recent sent deliveries, up to and
// including this one, that each have a bounce report: editions in a row that
// did not arrive. Counting deliveries, not reports, makes a repeated report
// of the same edition count once.
func (h *Handler) softStreak(ctx context.Context, tx *sqlx.Tx, subID, deliveryID int64) (int, error) {
	var flags []bool
	err := tx.SelectContext(ctx, &flags, h.DB.Rebind(`
		SELECT EXISTS (SELECT 1 FROM inbound_mails i WHERE i.delivery_id = d.id AND i.kind = 'bounce' AND i.severity IN ('soft', 'hard'))
		FROM deliveries d
		WHERE d.subscriber_id = ? AND d.id <= ? AND (d.status = 'sent' OR d.id = ?)
		ORDER BY d.id DESC LIMIT ?`), subID, deliveryID, deliveryID, SoftBounceLimit)
	if err != nil {
		return 0, fmt.Errorf("count soft bounces of subscriber %d: %w", subID, err)
	}
	n := 0
	for _, f := range flags {
		if !f {
			break
		}
		n++
	}
	return n, nil
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

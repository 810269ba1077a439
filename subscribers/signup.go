package subscribers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// Limits on the mails the public pages (signup, "wieder anmelden", manage)
// send to one address, whoever asks and from wherever: together they make
// signup bombing of someone else's inbox pointless.
const (
	NoticeMaxPerDay  = 3                // mails per address per 24 hours, all kinds together
	NoticeMinSpacing = 10 * time.Minute // between two mails of the same kind to one address
	noticeWindow     = 24 * time.Hour
)

// RequestKind says which public page asked for mail to an address.
type RequestKind string

const (
	RequestSignup      RequestKind = "signup"      // the signup form (POST /subscribe)
	RequestResubscribe RequestKind = "resubscribe" // "wieder anmelden" on the unsubscribe page
	RequestManage      RequestKind = "manage"      // "send me my links" (POST /manage)
)

// NoticeKind is a mail the public pages send.
type NoticeKind string

const (
	NoticeConfirm           NoticeKind = "confirm"            // double opt-in request with a /confirm link
	NoticeAlreadySubscribed NoticeKind = "already-subscribed" // an active address signed up again: its links
	NoticeLinks             NoticeKind = "links"              // POST /manage for an active address: its links
)

// Consent event kinds (consent_events.kind).
const (
	EventSignupRequested      = "signup-requested"      // the signup form was sent for the address
	EventResubscribeRequested = "resubscribe-requested" // "wieder anmelden" on the unsubscribe page
	EventConfirmed            = "confirmed"             // the mailed /confirm link was followed (POST)
)

// ConsentEvent is one step of a subscriber's consent history.
type ConsentEvent struct {
	At      time.Time `db:"at"`
	Kind    string    `db:"kind"`
	IP      string    `db:"ip"`
	Source  string    `db:"source"`
	Details string    `db:"details"`
}

// SignupRequest is a validated request from a public page.
type SignupRequest struct {
	Kind       RequestKind
	Subscriber Subscriber // Email, Name, Regions, Topics, Cadence as validated by Input.Validate
	IP         string     // the requesting client (see Handler for proxies)
	Source     string     // the page the request came from
}

// SignupResult says what RequestSignup did.
type SignupResult struct {
	Before     Status     // status before the request; "" for a new address
	Subscriber Subscriber // the subscriber afterwards (zero when there is none)
	Notice     NoticeKind // the mail to send now; "" = none
	Limited    bool       // a mail was due but the per-address limits held it back; nothing changed
}

// addressHash is the identity key of an address as stored in notice_mails.
func addressHash(email string) string {
	h := sha256.Sum256([]byte(EmailKey(email)))
	return hex.EncodeToString(h[:])
}

// RequestSignup applies a public request to the address in req and says which
// mail is due, in one transaction that also books that mail against the
// per-address limits:
//
//	signup, resubscribe: new → pending with the choices; pending → choices and
//	    name replaced, confirmation again; unsubscribed or bounced → pending with
//	    the choices (a new confirmation is needed); active → unchanged, the
//	    "already subscribed" mail with its links.
//	manage: active → the links mail; pending → the confirmation again;
//	    anything else → nothing.
//
// When the limits (NoticeMaxPerDay, NoticeMinSpacing) hold the mail back,
// nothing at all changes. Status only becomes active through Confirm.
func (s *Store) RequestSignup(ctx context.Context, req SignupRequest) (SignupResult, error) {
	var res SignupResult
	for attempt := 0; ; attempt++ {
		res = SignupResult{}
		err := s.db.Tx(ctx, func(tx *sqlx.Tx) error { return s.requestSignupTx(ctx, tx, req, &res) })
		var exists *ExistsError
		if errors.As(err, &exists) && attempt == 0 {
			continue // another request created the address meanwhile: go again as an existing one
		}
		if err != nil {
			return SignupResult{}, fmt.Errorf("%s request: %w", req.Kind, err)
		}
		return res, nil
	}
}

func (s *Store) requestSignupTx(ctx context.Context, tx *sqlx.Tx, req SignupRequest, res *SignupResult) error {
	now := store.T(s.now())
	hash := addressHash(req.Subscriber.Email)
	if s.db.Dialect == store.Postgres {
		// Serialise requests for one address (SQLite's immediate transactions already do).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(1397, hashtext($1))`, hash); err != nil {
			return err
		}
	}
	var cur row
	err := tx.GetContext(ctx, &cur, s.db.Rebind(s.selectSQL(`WHERE email_key = ?`)), EmailKey(req.Subscriber.Email))
	exists := err == nil
	if err != nil && !isNoRows(err) {
		return err
	}
	if exists {
		res.Before = Status(cur.Status)
		res.Subscriber = cur.subscriber()
	}
	switch {
	case req.Kind == RequestManage && res.Before == StatusActive:
		res.Notice = NoticeLinks
	case req.Kind == RequestManage && res.Before == StatusPending:
		res.Notice = NoticeConfirm
	case req.Kind == RequestManage:
		return nil
	case res.Before == StatusActive:
		res.Notice = NoticeAlreadySubscribed
	default:
		res.Notice = NoticeConfirm
	}

	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM notice_mails WHERE address_hash = ? AND sent_at < ?`), hash, store.T(now.Add(-noticeWindow))); err != nil {
		return err
	}
	var sent []struct {
		Kind   string    `db:"kind"`
		SentAt time.Time `db:"sent_at"`
	}
	if err := tx.SelectContext(ctx, &sent, s.db.Rebind(`SELECT kind, sent_at FROM notice_mails WHERE address_hash = ?`), hash); err != nil {
		return err
	}
	limited := len(sent) >= NoticeMaxPerDay
	for _, m := range sent {
		if m.Kind == string(res.Notice) && now.Sub(m.SentAt) < NoticeMinSpacing {
			limited = true
		}
	}
	if limited {
		res.Notice, res.Limited = "", true
		return nil
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO notice_mails (address_hash, kind, sent_at) VALUES (?, ?, ?)`), hash, string(res.Notice), now); err != nil {
		return err
	}

	if req.Kind != RequestManage && res.Before != StatusActive {
		sub := req.Subscriber
		sub.Status = StatusPending
		if !exists {
			sub.Consent = Consent{Source: req.Source}
			if err := s.CreateTx(ctx, tx, &sub); err != nil {
				return err
			}
		} else {
			sub.ID = cur.ID
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE subscribers SET status = 'pending', name = ?, cadence = ?, updated_at = ? WHERE id = ?`),
				sub.Name, string(sub.Cadence), now, sub.ID); err != nil {
				return err
			}
			if err := s.writeChoices(ctx, tx, sub.ID, sub.Regions, sub.Topics); err != nil {
				return err
			}
		}
		kind := EventSignupRequested
		if req.Kind == RequestResubscribe {
			kind = EventResubscribeRequested
		}
		details := fmt.Sprintf("previous status %s; regions %s; topics %s; cadence %s",
			orNone(string(res.Before), "none (new address)"), orNone(strings.Join(sub.Regions, ","), "all"),
			orNone(strings.Join(sub.Topics, ","), "all"), sub.Cadence)
		if err := s.addEvent(ctx, tx, sub.ID, now, kind, req.IP, req.Source, details); err != nil {
			return err
		}
		var r row
		if err := tx.GetContext(ctx, &r, s.db.Rebind(s.selectSQL(`WHERE id = ?`)), sub.ID); err != nil {
			return err
		}
		res.Subscriber = r.subscriber()
	}
	return nil
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func (s *Store) addEvent(ctx context.Context, tx *sqlx.Tx, id int64, at time.Time, kind, ip, source, details string) error {
	_, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO consent_events (subscriber_id, at, kind, ip, source, details) VALUES (?, ?, ?, ?, ?, ?)`),
		id, at, kind, ip, clip(source, 500), clip(details, 1000))
	return err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// ConsentEvents returns a subscriber's consent history, oldest first.
func (s *Store) ConsentEvents(ctx context.Context, id int64) ([]ConsentEvent, error) {
	var out []ConsentEvent
	err := s.db.SelectContext(ctx, &out, s.db.Rebind(`SELECT at, kind, ip, source, details FROM consent_events WHERE subscriber_id = ? ORDER BY at, id`), id)
	if err != nil {
		return nil, fmt.Errorf("read consent events of %d: %w", id, err)
	}
	return out, nil
}

// PurgeNoticeLog deletes the per-address mail records older than the limit
// window; they are only needed for the limits.
func (s *Store) PurgeNoticeLog(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM notice_mails WHERE sent_at < ?`), store.T(s.now().Add(-noticeWindow)))
	if err != nil {
		return fmt.Errorf("purge the notice mail log: %w", err)
	}
	return nil
}

package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// Store keeps subscribers in the database.
type Store struct {
	db  *store.DB
	now func() time.Time
}

// NewStore returns a Store; now is the clock (time.Now in production).
func NewStore(db *store.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

type row struct {
	ID             int64          `db:"id"`
	Email          string         `db:"email"`
	Name           string         `db:"name"`
	Status         string         `db:"status"`
	Cadence        string         `db:"cadence"`
	ConsentAt      sql.NullTime   `db:"consent_at"`
	ConsentMethod  string         `db:"consent_method"`
	ConsentSource  string         `db:"consent_source"`
	ConsentIP      string         `db:"consent_ip"`
	CreatedAt      time.Time      `db:"created_at"`
	UpdatedAt      time.Time      `db:"updated_at"`
	ConfirmedAt    sql.NullTime   `db:"confirmed_at"`
	UnsubscribedAt sql.NullTime   `db:"unsubscribed_at"`
	Regions        sql.NullString `db:"regions"`
	Topics         sql.NullString `db:"topics"`
}

const columns = `id, email, name, status, cadence, consent_at, consent_method, consent_source, consent_ip,
	created_at, updated_at, confirmed_at, unsubscribed_at`

func (r row) subscriber() Subscriber {
	return Subscriber{
		ID: r.ID, Email: r.Email, Name: r.Name, Status: Status(r.Status), Cadence: Cadence(r.Cadence),
		Regions: splitList(r.Regions.String), Topics: splitList(r.Topics.String),
		Consent:   Consent{At: r.ConsentAt.Time, Method: r.ConsentMethod, Source: r.ConsentSource, IP: r.ConsentIP},
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		ConfirmedAt: r.ConfirmedAt.Time, UnsubscribedAt: r.UnsubscribedAt.Time,
	}
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// selectSQL reads subscribers with their choices aggregated in taxonomy order.
func (s *Store) selectSQL(where string) string {
	return `SELECT ` + columns + `,
		(SELECT ` + s.db.Agg("sr.region_code", ",", "r.position") + ` FROM subscriber_regions sr JOIN regions r ON r.code = sr.region_code WHERE sr.subscriber_id = subscribers.id) AS regions,
		(SELECT ` + s.db.Agg("st.topic_slug", ",", "t.position") + ` FROM subscriber_topics st JOIN topics t ON t.slug = st.topic_slug WHERE st.subscriber_id = subscribers.id) AS topics
		FROM subscribers ` + where
}

// Get returns the subscriber with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Subscriber, error) {
	return s.getOne(ctx, `WHERE id = ?`, id)
}

// GetByEmail returns the subscriber with the address in any case, or ErrNotFound.
func (s *Store) GetByEmail(ctx context.Context, email string) (Subscriber, error) {
	return s.getOne(ctx, `WHERE email_key = ?`, EmailKey(email))
}

func (s *Store) getOne(ctx context.Context, where string, arg any) (Subscriber, error) {
	var r row
	err := s.db.GetContext(ctx, &r, s.db.Rebind(s.selectSQL(where)), arg)
	if errors.Is(err, sql.ErrNoRows) {
		return Subscriber{}, ErrNotFound
	}
	if err != nil {
		return Subscriber{}, fmt.Errorf("read subscriber: %w", err)
	}
	return r.subscriber(), nil
}

// Create inserts sub (ID, CreatedAt and UpdatedAt are set) with its choices.
// The caller validates; an address that exists in any case gives *ExistsError.
func (s *Store) Create(ctx context.Context, sub *Subscriber) error {
	return s.db.Tx(ctx, func(tx *sqlx.Tx) error { return s.CreateTx(ctx, tx, sub) })
}

// CreateTx is Create inside the caller's transaction (used by CSV import).
func (s *Store) CreateTx(ctx context.Context, tx *sqlx.Tx, sub *Subscriber) error {
	now := store.T(s.now())
	if sub.Cadence == "" {
		sub.Cadence = Weekly
	}
	err := tx.GetContext(ctx, &sub.ID, s.db.Rebind(`
		INSERT INTO subscribers (email, email_key, name, status, cadence, consent_at, consent_method,
			consent_source, consent_ip, created_at, updated_at, confirmed_at, unsubscribed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		sub.Email, EmailKey(sub.Email), sub.Name, string(sub.Status), string(sub.Cadence),
		store.NullT(sub.Consent.At), sub.Consent.Method, sub.Consent.Source, sub.Consent.IP,
		now, now, store.NullT(sub.ConfirmedAt), store.NullT(sub.UnsubscribedAt))
	if store.IsUniqueViolation(err) {
		return &ExistsError{Email: sub.Email}
	}
	if err != nil {
		return fmt.Errorf("add subscriber %s: %w", sub.Email, err)
	}
	sub.CreatedAt, sub.UpdatedAt = now, now
	return s.writeChoices(ctx, tx, sub.ID, sub.Regions, sub.Topics)
}

func (s *Store) writeChoices(ctx context.Context, tx *sqlx.Tx, id int64, regions, topics []string) error {
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM subscriber_regions WHERE subscriber_id = ?`), id); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM subscriber_topics WHERE subscriber_id = ?`), id); err != nil {
		return err
	}
	for _, code := range regions {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO subscriber_regions (subscriber_id, region_code) VALUES (?, ?)`), id, code); err != nil {
			if store.IsForeignKeyViolation(err) {
				return fmt.Errorf("unknown region %q: see `digest regions list`", code)
			}
			return err
		}
	}
	for _, slug := range topics {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO subscriber_topics (subscriber_id, topic_slug) VALUES (?, ?)`), id, slug); err != nil {
			if store.IsForeignKeyViolation(err) {
				return fmt.Errorf("unknown topic %q: see `digest topics list`", slug)
			}
			return err
		}
	}
	return nil
}

// UpdateChoices replaces a subscriber's name, regions, topics and cadence.
func (s *Store) UpdateChoices(ctx context.Context, sub Subscriber) error {
	return s.db.Tx(ctx, func(tx *sqlx.Tx) error { return s.UpdateChoicesTx(ctx, tx, sub) })
}

// UpdateChoicesTx is UpdateChoices inside the caller's transaction.
func (s *Store) UpdateChoicesTx(ctx context.Context, tx *sqlx.Tx, sub Subscriber) error {
	if sub.Cadence == "" {
		sub.Cadence = Weekly
	}
	res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE subscribers SET name = ?, cadence = ?, updated_at = ? WHERE id = ?`),
		sub.Name, string(sub.Cadence), store.T(s.now()), sub.ID)
	if err != nil {
		return fmt.Errorf("update subscriber %s: %w", sub.Email, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return s.writeChoices(ctx, tx, sub.ID, sub.Regions, sub.Topics)
}

// Confirm makes a pending subscriber active and records the double opt-in
// evidence (time, the confirming IP, source) on the subscriber and as a
// consent event. Only a pending subscriber is confirmed: an unsubscribed or
// bounced one first asks again (RequestSignup), which mails a fresh link to
// the address, so a confirmation always means the mailbox's owner clicked a
// link sent to it. Confirming an active subscriber changes nothing.
func (s *Store) Confirm(ctx context.Context, id int64, ip, source string) (Subscriber, error) {
	now := store.T(s.now())
	err := s.db.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`
			UPDATE subscribers SET status = 'active', confirmed_at = ?, updated_at = ?,
				consent_at = ?, consent_method = 'double-opt-in', consent_ip = ?, consent_source = ?, unsubscribed_at = NULL
			WHERE id = ? AND status = 'pending'`), now, now, now, ip, source, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.addEvent(ctx, tx, id, now, EventConfirmed, ip, source, "")
	})
	if err != nil {
		return Subscriber{}, fmt.Errorf("confirm subscriber %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

// Unsubscribe marks the subscriber unsubscribed. It is idempotent: leaving twice
// is not an error, and the first time is kept. It returns ErrNotFound for an
// erased subscriber.
func (s *Store) Unsubscribe(ctx context.Context, id int64) (Subscriber, error) {
	now := store.T(s.now())
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`
		UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ?, updated_at = ?
		WHERE id = ? AND status <> 'unsubscribed'`), now, now, id)
	if err != nil {
		return Subscriber{}, fmt.Errorf("unsubscribe %d: %w", id, err)
	}
	return s.Get(ctx, id)
}

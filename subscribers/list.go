package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// Filter narrows Each. Zero values match everything.
type Filter struct {
	Status Status
	// Region matches subscribers who receive news from that region: those who
	// chose it and those with an empty region set (all regions).
	Region string
	// Topic matches like Region: chosen, or all topics.
	Topic string
}

// Each calls fn for every subscriber matching f, ordered by address, reading
// row by row so that a list of any size needs little memory. An error from fn
// stops the iteration and is returned.
func (s *Store) Each(ctx context.Context, f Filter, fn func(Subscriber) error) error {
	var (
		conds []string
		args  []any
	)
	if f.Status != "" {
		conds = append(conds, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.Region != "" {
		conds = append(conds, `(EXISTS (SELECT 1 FROM subscriber_regions x WHERE x.subscriber_id = subscribers.id AND x.region_code = ?)
			OR NOT EXISTS (SELECT 1 FROM subscriber_regions x WHERE x.subscriber_id = subscribers.id))`)
		args = append(args, f.Region)
	}
	if f.Topic != "" {
		conds = append(conds, `(EXISTS (SELECT 1 FROM subscriber_topics x WHERE x.subscriber_id = subscribers.id AND x.topic_slug = ?)
			OR NOT EXISTS (SELECT 1 FROM subscriber_topics x WHERE x.subscriber_id = subscribers.id))`)
		args = append(args, f.Topic)
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	rows, err := s.db.QueryxContext(ctx, s.db.Rebind(s.selectSQL(where+" ORDER BY email_key")), args...)
	if err != nil {
		return fmt.Errorf("list subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r row
		if err := rows.StructScan(&r); err != nil {
			return fmt.Errorf("list subscribers: %w", err)
		}
		if err := fn(r.subscriber()); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list subscribers: %w", err)
	}
	return nil
}

// Erasure reports what Delete removed.
type Erasure struct {
	Subscriber Subscriber // the record as it was before erasure
	Deliveries int        // deliveries kept, now without any link to the person
}

// Delete erases a subscriber: the row with address, name, consent evidence and
// choices is deleted; past deliveries stay as anonymous counts (their
// subscriber_id becomes NULL). It returns ErrNotFound when there is no such subscriber.
func (s *Store) Delete(ctx context.Context, id int64) (Erasure, error) {
	var e Erasure
	err := s.db.Tx(ctx, func(tx *sqlx.Tx) error {
		var r row
		err := tx.GetContext(ctx, &r, s.db.Rebind(s.selectSQL(`WHERE id = ?`)), id)
		if err != nil {
			if isNoRows(err) {
				return ErrNotFound
			}
			return err
		}
		e.Subscriber = r.subscriber()
		if err := tx.GetContext(ctx, &e.Deliveries, s.db.Rebind(`SELECT count(*) FROM deliveries WHERE subscriber_id = ?`), id); err != nil {
			return err
		}
		// Returned mails about them keep their counts, not the address.
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE inbound_mails SET recipient = '', sender = '', subject = ''
			WHERE subscriber_id = ? OR recipient = ? OR sender = ?`), id, r.Email, EmailKey(r.Email)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM subscribers WHERE id = ?`), id)
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Erasure{}, err
		}
		return Erasure{}, fmt.Errorf("erase subscriber %d: %w", id, err)
	}
	return e, nil
}

// Activate makes a pending or unsubscribed subscriber active on staff's word,
// recording the consent evidence c. Active subscribers are left as they are;
// a bounced address stays bounced (its mailbox is gone) and gives an error.
func (s *Store) Activate(ctx context.Context, id int64, c Consent) (Subscriber, error) {
	sub, err := s.Get(ctx, id)
	if err != nil {
		return Subscriber{}, err
	}
	switch sub.Status {
	case StatusActive:
		return sub, nil
	case StatusBounced:
		return sub, fmt.Errorf("%s is bounced (the mailbox did not exist); it stays bounced: erase it and add it again if the address works now", sub.Email)
	}
	now := store.T(s.now())
	if c.At.IsZero() {
		c.At = now
	}
	_, err = s.db.ExecContext(ctx, s.db.Rebind(`
		UPDATE subscribers SET status = 'active', updated_at = ?, consent_at = ?, consent_method = ?,
			consent_source = ?, consent_ip = ?, unsubscribed_at = NULL
		WHERE id = ? AND status IN ('pending', 'unsubscribed')`), now, store.T(c.At), c.Method, c.Source, c.IP, id)
	if err != nil {
		return Subscriber{}, fmt.Errorf("activate %s: %w", sub.Email, err)
	}
	return s.Get(ctx, id)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

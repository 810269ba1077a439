package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/kommune21/digest/internal/emailaddr"
	"github.com/pressly/goose/v3"
)

// DuplicateKeyMark separates a subscriber's id from the identity it shares
// with an older subscriber (email_key "x@xn--mnchen-3ya.de#42"): migration 5
// found two rows for one mailbox and kept both rather than choose.
const DuplicateKeyMark = "#"

// rekeyMigration is migration 5, in Go because NFC and IDNA are not SQL: it
// normalises every stored address (emailaddr.Normalize) and recomputes its
// identity (emailaddr.Key). ASCII addresses keep their key (it was and is the
// lower-cased address); only internationalised ones change. When several
// rows turn out to be one mailbox, the oldest keeps the identity and the
// others keep their data under the key KEY#ID, so nothing is lost; `digest
// migrate` lists them for staff to decide.
func rekeyMigration() *goose.Migration {
	return goose.NewGoMigration(5, &goose.GoFunc{RunTx: rekeyUp}, &goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }})
}

func rekeyUp(ctx context.Context, tx *sql.Tx) error {
	type change struct {
		id         int64
		email, key string
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, email, email_key FROM subscribers ORDER BY id`)
	if err != nil {
		return err
	}
	var changes []change
	for rows.Next() {
		var c change
		var oldEmail, oldKey string
		if err := rows.Scan(&c.id, &oldEmail, &oldKey); err != nil {
			rows.Close()
			return err
		}
		c.email = oldEmail
		if n, err := emailaddr.Normalize(oldEmail); err == nil {
			c.email = n
		}
		c.key = emailaddr.Key(c.email)
		if c.email != oldEmail || c.key != oldKey {
			changes = append(changes, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Placeholders: $n works on both PostgreSQL and SQLite.
	for _, c := range changes {
		var holder int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM subscribers WHERE email_key = $1`, c.key).Scan(&holder)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return err
		case holder > c.id:
			// The oldest row of a mailbox keeps its identity.
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET email_key = $1 WHERE id = $2`,
				c.key+DuplicateKeyMark+strconv.FormatInt(holder, 10), holder); err != nil {
				return fmt.Errorf("normalise subscriber %d: %w", holder, err)
			}
		case holder != c.id:
			c.key += DuplicateKeyMark + strconv.FormatInt(c.id, 10)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET email = $1, email_key = $2 WHERE id = $3`, c.email, c.key, c.id); err != nil {
			return fmt.Errorf("normalise subscriber %d: %w", c.id, err)
		}
	}
	return nil
}

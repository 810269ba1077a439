package subscribers

import (
	"context"
	"fmt"
	"time"

	"github.com/kommune21/digest/store"
)

// PendingMaxAge is how long an unconfirmed subscription is kept: after it, the
// address was never confirmed and is deleted (data minimisation, GDPR Art. 5).
const PendingMaxAge = 30 * 24 * time.Hour

// PurgePending deletes pending subscribers not changed since before cutoff
// (updated_at, so a resent confirmation or a staff edit restarts the clock)
// and returns how many went. Pending subscribers never received a digest, so
// nothing else refers to them.
func (s *Store) PurgePending(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM subscribers WHERE status = 'pending' AND updated_at < ?`), store.T(cutoff))
	if err != nil {
		return 0, fmt.Errorf("purge pending subscribers: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge pending subscribers: %w", err)
	}
	return n, nil
}

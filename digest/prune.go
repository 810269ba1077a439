package digest

import (
	"context"
	"fmt"
	"time"

	"github.com/kommune21/digest/store"
)

// PruneAfter is how old a run must be before its article lists are pruned:
// well beyond the freshness window, so that history (runs within the window
// before T) is complete for any edition planned less than this far back.
const PruneAfter = 8 * 7 * 24 * time.Hour

// PruneSentLog clears the article lists of the selections of runs that ran
// before before and returns how many selections it cleared. Only the
// freshness window matters for "never twice"; the runs, their selections and
// the delivery counts stay for `digest runs`.
func PruneSentLog(ctx context.Context, db *store.DB, before time.Time) (int64, error) {
	r, err := db.ExecContext(ctx, db.Rebind(`
		UPDATE selections SET article_ids = NULL
		WHERE article_ids IS NOT NULL AND run_id IN (SELECT r.id FROM runs r WHERE r.at < ?)`), store.T(before))
	if err != nil {
		return 0, fmt.Errorf("prune sent log before %s: %w", before.Format(time.RFC3339), err)
	}
	return r.RowsAffected()
}

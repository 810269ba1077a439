package digest

import (
	"context"
	"time"

	"github.com/kommune21/digest/store"
)

// RecordAccepted records ids as accepted the way Send's recorder does when
// all of them wait at the same moment (one group). It returns how many
// statements the recorder wrote and each delivery's error.
func RecordAccepted(ctx context.Context, db *store.DB, run Run, domain string, now time.Time, ids []int64) (int, []error) {
	ob := &outbox{db: db, run: run, domain: domain}
	r, err := ob.newRecorder(ctx, len(ids), func() time.Time { return now })
	if err != nil {
		return 0, []error{err}
	}
	waiting := make([]*accepted, len(ids))
	for i, id := range ids {
		waiting[i] = r.submit(id) // the queue holds len(ids): nothing blocks
	}
	go r.loop()
	errs := make([]error, len(ids))
	for i, a := range waiting {
		errs[i] = a.wait()
	}
	r.close()
	return r.stmts, errs
}

package subscribers

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/taxonomy"
)

// ImportOptions control Import.
type ImportOptions struct {
	// Confirmed makes new subscribers active with consent method "import";
	// otherwise they are pending and receive nothing until they confirm.
	// Import never sends confirmation emails.
	Confirmed bool
	// Update changes existing subscribers whose row differs; without it such a
	// row is an error. Rows equal to the stored subscriber are "unchanged" either way.
	Update bool
	// DryRun validates and classifies every row and writes nothing.
	DryRun bool
	// Source is the consent source note; default the file's base name.
	Source string
	// Progress, when set, is called after each written batch with rows written so far.
	Progress func(done, total int)
}

// Action is what an import does with one row.
type Action string

const (
	ActionAdd       Action = "add"
	ActionUpdate    Action = "update"
	ActionUnchanged Action = "unchanged"
)

// Change is the outcome for one row of an import file.
type Change struct {
	Line   int
	Email  string
	Action Action
	Fields []string // for ActionUpdate: the fields that change
}

// ImportResult counts what an import did (or, for a dry run, would do).
type ImportResult struct {
	Rows, Added, Updated, Unchanged int
	Status                          Status   // status of added subscribers
	Changes                         []Change // one per row, in file order
}

// Batch sizes keep every statement under SQLite's 32,766 and PostgreSQL's
// 65,535 bind parameters while saving round trips.
const (
	subscriberBatch = 500  // 13 parameters a row
	pairBatch       = 2000 // 2 parameters a row
	keyBatch        = 1000
	analyzeAfter    = 1000 // rows written
)

type plannedRow struct {
	line   int
	sub    Subscriber
	action Action
	fields []string
}

// Import adds and (with Update) changes the subscribers of an import file, all
// or nothing: every row is validated first and every problem is returned in one
// *ImportError; then one transaction writes everything with batched statements.
// Existing subscribers keep their status and consent evidence; a column the
// file lacks keeps its stored value.
func (s *Store) Import(ctx context.Context, set *taxonomy.Set, f *CSVFile, opts ImportOptions) (ImportResult, error) {
	now := store.T(s.now())
	res := ImportResult{Rows: len(f.Rows), Status: StatusPending}
	if opts.Confirmed {
		res.Status = StatusActive
	}
	source := opts.Source
	if source == "" {
		source = filepath.Base(f.Name)
	}

	plan, problems := validateRows(set, f)
	if len(problems) > 0 {
		return ImportResult{}, newImportError(f.Name, problems)
	}

	work := func(q sqlx.ExtContext) error {
		if err := s.classify(ctx, q, f, plan, opts.Update); err != nil {
			return err
		}
		for _, p := range plan {
			res.Changes = append(res.Changes, Change{Line: p.line, Email: p.sub.Email, Action: p.action, Fields: p.fields})
			switch p.action {
			case ActionAdd:
				res.Added++
			case ActionUpdate:
				res.Updated++
			default:
				res.Unchanged++
			}
		}
		if opts.DryRun {
			return nil
		}
		w := importWriter{s: s, q: q, now: now, progress: opts.Progress}
		return w.write(ctx, f, plan, res.Status, source)
	}
	var err error
	if opts.DryRun {
		err = work(s.db)
	} else {
		err = s.db.Tx(ctx, func(tx *sqlx.Tx) error { return work(tx) })
	}
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// validateRows checks every row and finds addresses that occur twice.
func validateRows(set *taxonomy.Set, f *CSVFile) ([]plannedRow, []*LineError) {
	var problems []*LineError
	plan := make([]plannedRow, 0, len(f.Rows))
	firstLine := make(map[string]int, len(f.Rows))
	for _, r := range f.Rows {
		sub, errs := r.Input.Validate(set)
		for _, fe := range errs {
			problems = append(problems, &LineError{File: f.Name, Line: r.Line, Err: fe})
		}
		if len(errs) > 0 {
			continue
		}
		key := EmailKey(sub.Email)
		if first, ok := firstLine[key]; ok {
			problems = append(problems, &LineError{File: f.Name, Line: r.Line, Err: &FieldError{Field: "email", Value: r.Email,
				Msg: fmt.Sprintf("the same address as line %d (addresses are case-insensitive): keep one of lines %d and %d", first, first, r.Line)}})
			continue
		}
		firstLine[key] = r.Line
		plan = append(plan, plannedRow{line: r.Line, sub: sub})
	}
	return plan, problems
}

// classify looks up the stored subscribers and decides add, update or unchanged
// for every row; a differing row without update is a problem.
func (s *Store) classify(ctx context.Context, q sqlx.QueryerContext, f *CSVFile, plan []plannedRow, update bool) error {
	existing := make(map[string]Subscriber)
	for start := 0; start < len(plan); start += keyBatch {
		end := min(start+keyBatch, len(plan))
		keys := make([]string, 0, end-start)
		for _, p := range plan[start:end] {
			keys = append(keys, EmailKey(p.sub.Email))
		}
		query, args, err := s.db.In(s.selectSQL(`WHERE email_key IN (?)`), keys)
		if err != nil {
			return err
		}
		var rows []row
		if err := sqlx.SelectContext(ctx, q, &rows, query, args...); err != nil {
			return fmt.Errorf("read existing subscribers: %w", err)
		}
		for _, r := range rows {
			existing[EmailKey(r.Email)] = r.subscriber()
		}
	}
	var problems []*LineError
	for i := range plan {
		p := &plan[i]
		old, ok := existing[EmailKey(p.sub.Email)]
		if !ok {
			p.action = ActionAdd
			continue
		}
		// Start from the stored subscriber and apply the columns the file has.
		merged := old
		if f.Has("name") && p.sub.Name != old.Name {
			merged.Name = p.sub.Name
			p.fields = append(p.fields, "name")
		}
		if f.Has("regions") && !slices.Equal(p.sub.Regions, old.Regions) {
			merged.Regions = p.sub.Regions
			p.fields = append(p.fields, "regions")
		}
		if f.Has("topics") && !slices.Equal(p.sub.Topics, old.Topics) {
			merged.Topics = p.sub.Topics
			p.fields = append(p.fields, "topics")
		}
		if f.Has("cadence") && p.sub.Cadence != old.Cadence {
			merged.Cadence = p.sub.Cadence
			p.fields = append(p.fields, "cadence")
		}
		p.sub = merged
		switch {
		case len(p.fields) == 0:
			p.action = ActionUnchanged
		case update:
			p.action = ActionUpdate
		default:
			problems = append(problems, &LineError{File: f.Name, Line: p.line, Err: &FieldError{Field: "email", Value: p.sub.Email,
				Msg: fmt.Sprintf("already a subscriber (%s) with a different %s: run the import with --update to change it, or remove the row",
					old.Status, strings.Join(p.fields, ", "))}})
		}
	}
	if len(problems) > 0 {
		return newImportError(f.Name, problems)
	}
	return nil
}

// importWriter writes a classified import with multi-row statements.
type importWriter struct {
	s        *Store
	q        sqlx.ExtContext
	now      time.Time
	progress func(done, total int)
	done     int
	total    int
}

func (w *importWriter) advance(n int) {
	w.done += n
	if w.progress != nil {
		w.progress(w.done, w.total)
	}
}

func (w *importWriter) write(ctx context.Context, f *CSVFile, plan []plannedRow, status Status, source string) error {
	var adds, updates []*plannedRow
	for i := range plan {
		switch plan[i].action {
		case ActionAdd:
			adds = append(adds, &plan[i])
		case ActionUpdate:
			updates = append(updates, &plan[i])
		}
	}
	var regionPairs, topicPairs []any // subscriber id, value, flattened
	var clearRegions, clearTopics []int64
	for _, p := range updates {
		if f.Has("regions") {
			clearRegions = append(clearRegions, p.sub.ID)
		}
		if f.Has("topics") {
			clearTopics = append(clearTopics, p.sub.ID)
		}
	}
	w.total = len(adds) + len(updates)
	for _, p := range append(adds, updates...) {
		w.total += len(p.sub.Regions) + len(p.sub.Topics)
	}

	consent := Consent{Source: source}
	if status == StatusActive {
		consent = Consent{At: w.now, Method: "import", Source: source}
	}
	for start := 0; start < len(adds); start += subscriberBatch {
		if err := w.insertSubscribers(ctx, adds[start:min(start+subscriberBatch, len(adds))], status, consent); err != nil {
			return err
		}
	}
	for start := 0; start < len(updates); start += subscriberBatch {
		if err := w.updateSubscribers(ctx, updates[start:min(start+subscriberBatch, len(updates))]); err != nil {
			return err
		}
	}
	if err := w.deleteChoices(ctx, "subscriber_regions", clearRegions); err != nil {
		return err
	}
	if err := w.deleteChoices(ctx, "subscriber_topics", clearTopics); err != nil {
		return err
	}
	for _, p := range adds {
		for _, code := range p.sub.Regions {
			regionPairs = append(regionPairs, p.sub.ID, code)
		}
		for _, slug := range p.sub.Topics {
			topicPairs = append(topicPairs, p.sub.ID, slug)
		}
	}
	for _, p := range updates {
		if f.Has("regions") {
			for _, code := range p.sub.Regions {
				regionPairs = append(regionPairs, p.sub.ID, code)
			}
		}
		if f.Has("topics") {
			for _, slug := range p.sub.Topics {
				topicPairs = append(topicPairs, p.sub.ID, slug)
			}
		}
	}
	if err := w.insertPairs(ctx, "subscriber_regions (subscriber_id, region_code)", regionPairs); err != nil {
		return err
	}
	if err := w.insertPairs(ctx, "subscriber_topics (subscriber_id, topic_slug)", topicPairs); err != nil {
		return err
	}
	// After a bulk load PostgreSQL's planner still believes the tables are
	// small until autovacuum catches up, and picks sequential scans for the
	// next import and for run planning. Statistics are cheap to refresh.
	if w.s.db.Dialect == store.Postgres && len(adds)+len(updates) >= analyzeAfter {
		if _, err := w.q.ExecContext(ctx, `ANALYZE subscribers, subscriber_regions, subscriber_topics`); err != nil {
			return fmt.Errorf("analyze after import: %w", err)
		}
	}
	return nil
}

func placeholders(rows, cols int, row string) string {
	if row == "" {
		row = "(" + strings.Repeat("?, ", cols-1) + "?)"
	}
	var b strings.Builder
	b.Grow(rows * (len(row) + 2))
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

func (w *importWriter) insertSubscribers(ctx context.Context, batch []*plannedRow, status Status, c Consent) error {
	args := make([]any, 0, len(batch)*13)
	for _, p := range batch {
		args = append(args, p.sub.Email, EmailKey(p.sub.Email), p.sub.Name, string(status), string(p.sub.Cadence),
			store.NullT(c.At), c.Method, c.Source, "", w.now, w.now, nil, nil)
	}
	query := w.s.db.Rebind(`INSERT INTO subscribers (email, email_key, name, status, cadence, consent_at, consent_method,
		consent_source, consent_ip, created_at, updated_at, confirmed_at, unsubscribed_at) VALUES ` +
		placeholders(len(batch), 13, "") + ` RETURNING id, email_key`)
	rows, err := w.q.QueryxContext(ctx, query, args...)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("an address of this import was added by someone else meanwhile; nothing was imported, run the import again: %w", err)
		}
		return fmt.Errorf("insert subscribers: %w", err)
	}
	defer rows.Close()
	ids := make(map[string]int64, len(batch))
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		ids[key] = id
	}
	if err := rows.Err(); err != nil {
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("an address of this import was added by someone else meanwhile; nothing was imported, run the import again: %w", err)
		}
		return fmt.Errorf("insert subscribers: %w", err)
	}
	for _, p := range batch {
		id, ok := ids[EmailKey(p.sub.Email)]
		if !ok {
			return fmt.Errorf("insert subscribers: no id returned for %s", p.sub.Email)
		}
		p.sub.ID = id
	}
	w.advance(len(batch))
	return nil
}

func (w *importWriter) updateSubscribers(ctx context.Context, batch []*plannedRow) error {
	args := make([]any, 0, 1+len(batch)*3)
	args = append(args, w.now)
	for _, p := range batch {
		args = append(args, p.sub.ID, p.sub.Name, string(p.sub.Cadence))
	}
	// VALUES columns are called column1, column2 … in both dialects.
	query := w.s.db.Rebind(`UPDATE subscribers SET name = v.column2, cadence = v.column3, updated_at = ?
		FROM (VALUES ` + placeholders(len(batch), 3, "(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT))") + `) AS v
		WHERE subscribers.id = v.column1`)
	if _, err := w.q.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("update subscribers: %w", err)
	}
	w.advance(len(batch))
	return nil
}

func (w *importWriter) deleteChoices(ctx context.Context, table string, ids []int64) error {
	for start := 0; start < len(ids); start += keyBatch {
		query, args, err := w.s.db.In(`DELETE FROM `+table+` WHERE subscriber_id IN (?)`, ids[start:min(start+keyBatch, len(ids))])
		if err != nil {
			return err
		}
		if _, err := w.q.ExecContext(ctx, query, args...); err != nil {
			return fmt.Errorf("clear %s: %w", table, err)
		}
	}
	return nil
}

// insertPairs inserts (subscriber id, value) pairs given flattened.
func (w *importWriter) insertPairs(ctx context.Context, into string, flat []any) error {
	for start := 0; start < len(flat); start += 2 * pairBatch {
		chunk := flat[start:min(start+2*pairBatch, len(flat))]
		query := w.s.db.Rebind(`INSERT INTO ` + into + ` VALUES ` + placeholders(len(chunk)/2, 2, "(?, ?)"))
		if _, err := w.q.ExecContext(ctx, query, chunk...); err != nil {
			return fmt.Errorf("insert %s: %w", into, err)
		}
		w.advance(len(chunk) / 2)
	}
	return nil
}

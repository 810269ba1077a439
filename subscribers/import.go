package subscribers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math"
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
	// Progress, when set, is called after each written batch with the rows
	// done so far and the rows of the file.
	Progress func(done, total int)
	// OnChange, when set, is called in file order with the outcome of every
	// row of a dry run that passed every check, instead of collecting them in
	// ImportResult.Changes (which grows with the file).
	OnChange func(Change)
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
	Status                          Status // status of added subscribers
	// Changes has one entry per row, in file order, for a dry run without
	// OnChange; an import that writes does not keep them.
	Changes []Change
}

// Batch sizes keep every statement under SQLite's 32,766 and PostgreSQL's
// 65,535 bind parameters while saving round trips. A batch of rowBatch rows
// of the file is looked up, classified and written before the next one is read.
const (
	rowBatch        = 2000
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

// rowSource gives the rows of an import file, as often as asked and the same
// rows every time: Import reads a file twice.
type rowSource struct {
	name    string
	columns map[string]bool
	// each calls row for every row that parsed, and bad for the problems of
	// every row that did not; it stops at the first error row returns.
	each func(row func(Row) error, bad func(...*LineError)) error
}

func (src *rowSource) has(column string) bool { return src.columns[column] }

// Import imports an import file read with ReadCSV; see ImportFile.
func (s *Store) Import(ctx context.Context, set *taxonomy.Set, f *CSVFile, opts ImportOptions) (ImportResult, error) {
	src := &rowSource{name: f.Name, columns: f.Columns, each: func(row func(Row) error, _ func(...*LineError)) error {
		for _, r := range f.Rows {
			if err := row(r); err != nil {
				return err
			}
		}
		return nil
	}}
	return s.importRows(ctx, set, src, opts)
}

// ErrFileChanged is returned (wrapped) by ImportFile when the file read the
// second time is not the file that was checked; nothing was imported.
var ErrFileChanged = errors.New("the file changed while it was imported; nothing was imported, run the import again")

// ImportFile adds and (with Update) changes the subscribers of an import file
// (the format of ReadCSV), all or nothing, in memory that does not grow with
// the file beyond a 16-byte digest and a line number per address.
//
// open must give the same bytes every time it is called; ImportFile reads the
// file twice (a dry run with OnChange three times: the changes are passed on
// only in a third pass, once the second found no problem). The first pass checks every row and finds addresses that occur
// twice, keeping only the digest of each address and the first
// MaxReportedProblems problems; if there is any problem it returns them in one
// *ImportError and writes nothing. The second pass reads the file again and,
// in one transaction, looks up, classifies and writes rowBatch rows at
// a time with multi-row statements; a row that differs from an existing
// subscriber without Update is a problem too, and then the transaction is
// rolled back. If the bytes differ from the first pass the import fails with
// ErrFileChanged and is rolled back.
//
// Existing subscribers keep their status and consent evidence; a column the
// file lacks keeps its stored value.
func (s *Store) ImportFile(ctx context.Context, set *taxonomy.Set, name string, open func() (io.ReadCloser, error), opts ImportOptions) (ImportResult, error) {
	var first []byte // digest of the file's bytes in the first pass
	src := &rowSource{name: name}
	src.each = func(row func(Row) error, bad func(...*LineError)) (err error) {
		rc, err := open()
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		defer rc.Close()
		h := sha256.New()
		cr, err := NewCSVReader(io.TeeReader(rc, h), name)
		if err != nil {
			return err
		}
		if src.columns == nil {
			src.columns = cr.columns
		}
		for {
			r, problems, err := cr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				bad(err.(*LineError))
				break
			}
			if len(problems) > 0 {
				bad(problems...)
				continue
			}
			if err := row(r); err != nil {
				return err
			}
		}
		sum := h.Sum(nil)
		if first == nil {
			first = sum
		} else if !bytes.Equal(first, sum) {
			return fmt.Errorf("import %s: %w", name, ErrFileChanged)
		}
		return nil
	}
	return s.importRows(ctx, set, src, opts)
}

// importRows is Import and ImportFile: pass 1 checks, pass 2 classifies and writes.
func (s *Store) importRows(ctx context.Context, set *taxonomy.Set, src *rowSource, opts ImportOptions) (ImportResult, error) {
	res := ImportResult{Status: StatusPending}
	if opts.Confirmed {
		res.Status = StatusActive
	}
	source := opts.Source
	if source == "" {
		source = filepath.Base(src.name)
	}

	// Pass 1: every row parses and validates, no address twice. Problems of
	// the file's form come first, as ReadCSV reports them alone.
	var csvProblems, problems problemList
	keys := newKeySet()
	err := src.each(func(r Row) error {
		res.Rows++
		sub, errs := r.Input.Validate(set)
		for _, fe := range errs {
			problems.add(&LineError{File: src.name, Line: r.Line, Err: fe})
		}
		if len(errs) > 0 {
			return nil
		}
		if first, dup := keys.add(EmailKey(sub.Email), r.Line); dup {
			problems.add(&LineError{File: src.name, Line: r.Line, Err: &FieldError{Field: "email", Value: r.Email,
				Msg: fmt.Sprintf("the same address as line %d (addresses are case-insensitive): keep one of lines %d and %d", first, first, r.Line)}})
		}
		return nil
	}, csvProblems.add)
	if err != nil {
		return ImportResult{}, err
	}
	if csvProblems.total > 0 {
		return ImportResult{}, csvProblems.err(src.name)
	}
	if problems.total > 0 {
		return ImportResult{}, problems.err(src.name)
	}
	keys = nil

	// Pass 2: look up, classify and (unless a dry run) write batch by batch.
	pass2 := func(q sqlx.ExtContext, write bool, change func(Change)) error {
		p := &importPass{s: s, q: q, src: src, update: opts.Update, res: &res, change: change}
		if write {
			p.w = &importWriter{s: s, q: q, now: store.T(s.now()), progress: opts.Progress, total: res.Rows, src: src}
			consent := Consent{Source: source}
			if res.Status == StatusActive {
				consent = Consent{At: p.w.now, Method: "import", Source: source}
			}
			p.w.status, p.w.consent = res.Status, consent
		}
		res.Added, res.Updated, res.Unchanged = 0, 0, 0
		err := src.each(func(r Row) error {
			sub, errs := r.Input.Validate(set)
			if len(errs) > 0 {
				return fmt.Errorf("import %s: %w", src.name, ErrFileChanged)
			}
			p.batch = append(p.batch, plannedRow{line: r.Line, sub: sub})
			if len(p.batch) == rowBatch {
				return p.flush(ctx)
			}
			return nil
		}, func(...*LineError) { p.changed = true })
		if err == nil && p.changed {
			err = fmt.Errorf("import %s: %w", src.name, ErrFileChanged)
		}
		if err == nil {
			err = p.flush(ctx)
		}
		if err != nil {
			return err
		}
		if p.problems.total > 0 {
			return p.problems.err(src.name)
		}
		if p.w != nil {
			return p.w.finish(ctx)
		}
		return nil
	}
	if opts.DryRun {
		collect := func(c Change) { res.Changes = append(res.Changes, c) }
		if opts.OnChange != nil {
			collect = nil
		}
		err = pass2(s.db, false, collect)
		if err == nil && opts.OnChange != nil {
			// Only a file without problems shows its changes: read it again.
			err = pass2(s.db, false, opts.OnChange)
		}
	} else {
		err = s.db.Tx(ctx, func(tx *sqlx.Tx) error { return pass2(tx, true, nil) })
	}
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// keySet remembers the addresses of an import file by a 128-bit prefix of the
// SHA-256 of their identity key (EmailKey) and the line of their first row:
// about 20 bytes an address plus the map's overhead, instead of the key and
// the row. Two different addresses would need a 128-bit SHA-256 collision to
// be taken for one.
type keySet struct{ first map[[16]byte]int32 }

func newKeySet() *keySet { return &keySet{first: make(map[[16]byte]int32)} }

// add records key at line; if the key was seen before it returns that line and true.
func (k *keySet) add(key string, line int) (int, bool) {
	sum := sha256.Sum256([]byte(key))
	var d [16]byte
	copy(d[:], sum[:16])
	if first, ok := k.first[d]; ok {
		return int(first), true
	}
	k.first[d] = int32(min(line, math.MaxInt32))
	return 0, false
}

// importPass classifies (and with a writer writes) an import file batch by batch.
type importPass struct {
	s        *Store
	q        sqlx.ExtContext
	src      *rowSource
	update   bool
	res      *ImportResult
	change   func(Change)
	w        *importWriter // nil for a dry run
	batch    []plannedRow
	problems problemList
	changed  bool // a row failed in pass 2 that passed pass 1
}

// flush classifies the batch, counts it and writes it unless a problem was
// found (then the rest is only classified, to report every problem).
func (p *importPass) flush(ctx context.Context) error {
	if len(p.batch) == 0 {
		return nil
	}
	batch := p.batch
	p.batch = p.batch[:0]
	if err := p.s.classify(ctx, p.q, p.src, batch, p.update, &p.problems); err != nil {
		return err
	}
	for _, r := range batch {
		switch r.action {
		case ActionAdd:
			p.res.Added++
		case ActionUpdate:
			p.res.Updated++
		case ActionUnchanged:
			p.res.Unchanged++
		}
		if p.change != nil && p.problems.total == 0 {
			p.change(Change{Line: r.line, Email: r.sub.Email, Action: r.action, Fields: r.fields})
		}
	}
	if p.w == nil || p.problems.total > 0 {
		return nil
	}
	return p.w.write(ctx, batch)
}

// classify looks up the stored subscribers and decides add, update or unchanged
// for every row; a differing row without update is a problem (its action stays empty).
func (s *Store) classify(ctx context.Context, q sqlx.QueryerContext, f *rowSource, plan []plannedRow, update bool, problems *problemList) error {
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
	for i := range plan {
		p := &plan[i]
		old, ok := existing[EmailKey(p.sub.Email)]
		if !ok {
			p.action = ActionAdd
			continue
		}
		// Start from the stored subscriber and apply the columns the file has.
		merged := old
		if f.has("name") && p.sub.Name != old.Name {
			merged.Name = p.sub.Name
			p.fields = append(p.fields, "name")
		}
		if f.has("regions") && !slices.Equal(p.sub.Regions, old.Regions) {
			merged.Regions = p.sub.Regions
			p.fields = append(p.fields, "regions")
		}
		if f.has("topics") && !slices.Equal(p.sub.Topics, old.Topics) {
			merged.Topics = p.sub.Topics
			p.fields = append(p.fields, "topics")
		}
		if f.has("cadence") && p.sub.Cadence != old.Cadence {
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
			problems.add(&LineError{File: f.name, Line: p.line, Err: &FieldError{Field: "email", Value: p.sub.Email,
				Msg: fmt.Sprintf("already a subscriber (%s) with a different %s: run the import with --update to change it, or remove the row",
					old.Status, strings.Join(p.fields, ", "))}})
		}
	}
	return nil
}

// importWriter writes a classified import batch by batch with multi-row statements.
type importWriter struct {
	s        *Store
	q        sqlx.ExtContext
	src      *rowSource
	now      time.Time
	status   Status  // of added subscribers
	consent  Consent // of added subscribers
	progress func(done, total int)
	done     int // rows of the file done
	total    int // rows of the file
	written  int // subscribers added or updated
}

// write writes one classified batch: its new subscribers, its changed ones,
// and their region and topic choices.
func (w *importWriter) write(ctx context.Context, batch []plannedRow) error {
	var adds, updates []*plannedRow
	for i := range batch {
		switch batch[i].action {
		case ActionAdd:
			adds = append(adds, &batch[i])
		case ActionUpdate:
			updates = append(updates, &batch[i])
		}
	}
	// Progress counts rows: each statement's subscribers, then the batch's
	// remaining (unchanged) rows once its choices are written.
	step := 0
	advance := func(n int) {
		step += n
		if w.progress != nil {
			w.progress(w.done+step, w.total)
		}
	}
	for start := 0; start < len(adds); start += subscriberBatch {
		chunk := adds[start:min(start+subscriberBatch, len(adds))]
		if err := w.insertSubscribers(ctx, chunk); err != nil {
			return err
		}
		advance(len(chunk))
	}
	for start := 0; start < len(updates); start += subscriberBatch {
		chunk := updates[start:min(start+subscriberBatch, len(updates))]
		if err := w.updateSubscribers(ctx, chunk); err != nil {
			return err
		}
		advance(len(chunk))
	}
	var regionPairs, topicPairs []any // subscriber id, value, flattened
	var clearRegions, clearTopics []int64
	for _, p := range updates {
		if w.src.has("regions") {
			clearRegions = append(clearRegions, p.sub.ID)
		}
		if w.src.has("topics") {
			clearTopics = append(clearTopics, p.sub.ID)
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
		if w.src.has("regions") {
			for _, code := range p.sub.Regions {
				regionPairs = append(regionPairs, p.sub.ID, code)
			}
		}
		if w.src.has("topics") {
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
	w.written += len(adds) + len(updates)
	advance(len(batch) - step)
	w.done += len(batch)
	return nil
}

// finish runs once after the last batch.
func (w *importWriter) finish(ctx context.Context) error {
	if w.progress != nil && w.done == 0 {
		w.progress(0, w.total) // a file without rows
	}
	// After a bulk load PostgreSQL's planner still believes the tables are
	// small until autovacuum catches up, and picks sequential scans for the
	// next import and for run planning. Statistics are cheap to refresh.
	if w.s.db.Dialect == store.Postgres && w.written >= analyzeAfter {
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

func (w *importWriter) insertSubscribers(ctx context.Context, batch []*plannedRow) error {
	status, c := w.status, w.consent
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
	}
	return nil
}

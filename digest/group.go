package digest

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// Planning groups the members of a run in Go: the members stream in with
// their choice key (regions|topics) and history key (the selections of the
// window their sent or open deliveries hold), and members with the same two
// keys form one group that shares one selection. The groups are then written
// as selections (select.go) and their members as deliveries, a few thousand
// rows per statement. This replaced temporary tables of members and
// representatives and the joins between them (BENCHMARKS.md, "Issue 12:
// planning").

// planGroup is the members of a run with the same choices and history. It
// is kept small, as a 1M-subscriber edition has some 300,000 groups: the two
// keys are parts of one string, the members a span of planGroups.ids, and
// the groups are allocated in slabs.
type planGroup struct {
	key       string // choice + "\x00" + history
	cut       int32  // the index of "\x00" in key
	first, n  int32  // the members: planGroups.ids[first : first+n], ascending
	selection int64  // the selection's id; 0 until it is written
	total     int    // the selection's articles before the cap
}

func (gr *planGroup) choice() string  { return gr.key[:gr.cut] }
func (gr *planGroup) history() string { return gr.key[gr.cut+1:] }

// planGroups are the groups of one planning call.
type planGroups struct {
	byKey   map[string]*planGroup // by key
	all     []*planGroup          // ordered by first member
	fresh   []*planGroup          // of all, those without a selection in the run yet
	ids     []int64               // the members of all groups, group after group
	members int
	slab    []planGroup
}

// members returns gr's subscriber ids, ascending.
func (g *planGroups) membersOf(gr *planGroup) []int64 { return g.ids[gr.first : gr.first+gr.n] }

// newGroup allocates a group for key from the current slab.
func (g *planGroups) newGroup(key string, cut int) *planGroup {
	if len(g.slab) == cap(g.slab) {
		g.slab = make([]planGroup, 0, 4096)
	}
	g.slab = append(g.slab, planGroup{key: key, cut: int32(cut)})
	return &g.slab[len(g.slab)-1]
}

// membersQuery selects the members (id, choice key, history key); its
// parameters are run id, since, cadence, only three times, run id.
//
// On PostgreSQL the keys are aggregated per table and joined (hash or merge
// joins over three scans); on SQLite, which joins by nested loops, they are
// correlated sub-selects over the primary keys. Both give the same keys: the
// codes, slugs and selection ids in ascending order, joined by ",".
func membersQuery(db *store.DB) string {
	regions := "(SELECT " + db.Agg("sr.region_code", ",", "sr.region_code") + " FROM subscriber_regions sr WHERE sr.subscriber_id = s.id)"
	topics := "(SELECT " + db.Agg("st.topic_slug", ",", "st.topic_slug") + " FROM subscriber_topics st WHERE st.subscriber_id = s.id)"
	history := "(SELECT " + db.Agg("d.selection_id", ",", "d.selection_id") + `
		FROM deliveries d JOIN runs ru ON ru.id = d.run_id
		WHERE d.subscriber_id = s.id AND ` + historyFilter + ")"
	from := "subscribers s"
	if db.Dialect == store.Postgres {
		regions, topics, history = "r.k", "t.k", "h.k"
		// The history's parameters (run id, since) come first, as in the
		// correlated form. For a preview (only) PostgreSQL pushes s.id = only
		// into each aggregate (index scans), so it reads one subscriber's rows.
		from = `(SELECT d.subscriber_id, ` + db.Agg("d.selection_id", ",", "d.selection_id") + ` AS k
				FROM deliveries d JOIN runs ru ON ru.id = d.run_id
				WHERE ` + historyFilter + ` GROUP BY d.subscriber_id) h
			RIGHT JOIN subscribers s ON h.subscriber_id = s.id
			LEFT JOIN (SELECT subscriber_id, ` + db.Agg("region_code", ",", "region_code") + ` AS k
				FROM subscriber_regions GROUP BY subscriber_id) r ON r.subscriber_id = s.id
			LEFT JOIN (SELECT subscriber_id, ` + db.Agg("topic_slug", ",", "topic_slug") + ` AS k
				FROM subscriber_topics GROUP BY subscriber_id) t ON t.subscriber_id = s.id`
	}
	return `SELECT s.id, COALESCE(` + regions + `, '') || '|' || COALESCE(` + topics + `, ''), COALESCE(` + history + `, '')
		FROM ` + from + `
		WHERE ((s.status = 'active' AND s.cadence = ?) OR s.id = ?) AND (? = 0 OR s.id = ?)
		  AND NOT EXISTS (SELECT 1 FROM deliveries x WHERE x.run_id = ? AND x.subscriber_id = s.id)`
}

func groupKey(choice, history string) string { return choice + "\x00" + history }

// readMembers streams the active subscribers of the run's cadence that have
// no delivery in the run (or only that one subscriber, whatever their status,
// when only is set) with their keys, and groups them.
func (p *Planner) readMembers(ctx context.Context, tx *sqlx.Tx, run Run, since time.Time, only int64) (*planGroups, error) {
	db := p.DB
	rows, err := tx.QueryContext(ctx, db.Rebind(membersQuery(db)),
		run.ID, since, string(run.Cadence), only, only, only, run.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	g := &planGroups{byKey: map[string]*planGroup{}}
	// The members stream in with their group's number (in order of first
	// appearance); they are then placed group after group into one array.
	var ids []int64
	var nums []int32
	var id int64
	var choice, history sql.RawBytes
	var key []byte
	for rows.Next() {
		if err := rows.Scan(&id, &choice, &history); err != nil {
			return nil, err
		}
		key = append(append(append(key[:0], choice...), 0), history...)
		gr := g.byKey[string(key)]
		if gr == nil {
			gr = g.newGroup(string(key), len(choice))
			gr.first = int32(len(g.all)) // its number until the members are placed
			g.byKey[gr.key] = gr
			g.all = append(g.all, gr)
		}
		gr.n++
		ids = append(ids, id)
		nums = append(nums, gr.first)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) > math.MaxInt32 {
		return nil, fmt.Errorf("%d members: more than a run can plan", len(ids))
	}
	g.members = len(ids)
	next := make([]int32, len(g.all))
	off := int32(0)
	for i, gr := range g.all {
		gr.first, next[i] = off, off
		off += gr.n
	}
	g.ids = make([]int64, len(ids))
	for i, id := range ids {
		g.ids[next[nums[i]]] = id
		next[nums[i]]++
	}
	for _, gr := range g.all {
		slices.Sort(g.membersOf(gr))
	}
	slices.SortFunc(g.all, func(a, b *planGroup) int { return cmp.Compare(g.ids[a.first], g.ids[b.first]) })
	return g, nil
}

// matchExisting gives the groups that match a selection the run already has
// (a resumed run whose new subscribers share choices and history with earlier
// ones) that selection, and lists the others as fresh.
func (g *planGroups) matchExisting(ctx context.Context, db *store.DB, tx *sqlx.Tx, run Run) error {
	rows, err := tx.QueryContext(ctx, db.Rebind(`SELECT id, choice_key, history_key, total FROM selections WHERE run_id = ?`), run.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var choice, history string
		var total int
		if err := rows.Scan(&id, &choice, &history, &total); err != nil {
			return err
		}
		if gr := g.byKey[groupKey(choice, history)]; gr != nil {
			gr.selection, gr.total = id, total
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, gr := range g.all {
		if gr.selection == 0 {
			g.fresh = append(g.fresh, gr)
		}
	}
	return nil
}

// selectionWriter inserts new selections with multi-row INSERTs and reads
// their ids back (matched by key, not by position).
type selectionWriter struct {
	db   *store.DB
	tx   *sqlx.Tx
	g    *planGroups
	run  Run
	args []any
	rows int
}

func newSelectionWriter(db *store.DB, tx *sqlx.Tx, g *planGroups, run Run) *selectionWriter {
	return &selectionWriter{db: db, tx: tx, g: g, run: run, args: make([]any, 0, insertRows*5)}
}

// add writes gr's selection with the articles chosen (an empty selection
// keeps a NULL list).
func (w *selectionWriter) add(ctx context.Context, gr *planGroup, chosen []int64) error {
	var ids any
	if gr.total > 0 {
		ids = w.db.IDsValue(chosen)
	}
	w.args = append(w.args, w.run.ID, gr.choice(), gr.history(), gr.total, ids)
	if w.rows++; w.rows >= insertRows {
		return w.flush(ctx)
	}
	return nil
}

func (w *selectionWriter) flush(ctx context.Context) error {
	if w.rows == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO selections (run_id, choice_key, history_key, total, article_ids) VALUES `)
	tuple := "(?, ?, ?, ?, " + w.db.IDsArg() + ")"
	for i := range w.rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	b.WriteString(` RETURNING id, choice_key, history_key`)
	rows, err := w.tx.QueryContext(ctx, w.db.Rebind(b.String()), w.args...)
	if err != nil {
		return fmt.Errorf("insert selections: %w", err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id int64
		var choice, history string
		if err := rows.Scan(&id, &choice, &history); err != nil {
			return fmt.Errorf("insert selections: %w", err)
		}
		gr := w.g.byKey[groupKey(choice, history)]
		if gr == nil {
			return fmt.Errorf("insert selections: no group for %q / %q", choice, history)
		}
		gr.selection = id
		got++
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("insert selections: %w", err)
	}
	if got != w.rows {
		return fmt.Errorf("insert selections: %d of %d rows returned", got, w.rows)
	}
	w.args, w.rows = w.args[:0], 0
	return nil
}

// deliveryChunk is how many deliveries one PostgreSQL INSERT writes (as
// arrays: three parameters whatever the size).
const deliveryChunk = 20000

// insertDeliveries writes one delivery per member, in selection order,
// members ascending within a selection: pending when the selection has
// articles, skipped otherwise. The members had no delivery in the run and
// planning holds the run's lock, so no row conflicts.
func (g *planGroups) insertDeliveries(ctx context.Context, db *store.DB, tx *sqlx.Tx, run Run, now time.Time) (planned, skipped int, err error) {
	slices.SortFunc(g.all, func(a, b *planGroup) int { return cmp.Compare(a.selection, b.selection) })
	for _, gr := range g.all {
		if gr.total == 0 {
			skipped += int(gr.n)
		}
	}
	if db.Dialect != store.Postgres {
		w := newRowWriter(db, tx, "deliveries", "run_id, subscriber_id, selection_id, status, updated_at", "")
		for _, gr := range g.all {
			status := deliveryStatus(gr.total)
			for _, m := range g.membersOf(gr) {
				if err := w.add(ctx, run.ID, m, gr.selection, status, now); err != nil {
					return 0, 0, err
				}
			}
		}
		return g.members, skipped, w.flush(ctx)
	}
	q := db.Rebind(`INSERT INTO deliveries (run_id, subscriber_id, selection_id, status, updated_at)
		SELECT CAST(? AS BIGINT), u.subscriber_id, u.selection_id, CASE WHEN u.open THEN 'pending' ELSE 'skipped' END, CAST(? AS TIMESTAMPTZ)
		FROM unnest(CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BOOLEAN[])) WITH ORDINALITY AS u(subscriber_id, selection_id, open, n)
		ORDER BY u.n`)
	var subs, sels, open []byte
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, q, run.ID, now, string(append(subs, '}')), string(append(sels, '}')), string(append(open, '}')))
		subs, sels, open, rows = subs[:0], sels[:0], open[:0], 0
		return err
	}
	for _, gr := range g.all {
		flag := byte('f')
		if gr.total > 0 {
			flag = 't'
		}
		for _, m := range g.membersOf(gr) {
			sep := byte(',')
			if rows == 0 {
				sep = '{'
			}
			subs = strconv.AppendInt(append(subs, sep), m, 10)
			sels = strconv.AppendInt(append(sels, sep), gr.selection, 10)
			open = append(open, sep, flag)
			if rows++; rows >= deliveryChunk {
				if err := flush(); err != nil {
					return 0, 0, err
				}
			}
		}
	}
	return g.members, skipped, flush()
}

func deliveryStatus(total int) string {
	if total > 0 {
		return "pending"
	}
	return "skipped"
}

package digest

import (
	"context"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// Selecting the articles of the new selections of a run is set-based but
// done in Go: the candidate articles (ingested by T, published in the window)
// and their tags are read once into bitsets, one per region and per topic,
// with the articles numbered newest first. A selection's articles are then
// (OR of its regions' bitsets) AND (OR of its topics' bitsets) AND NOT (what
// its group has seen), a few hundred word operations instead of a join of
// every selection with every article (which took PostgreSQL 23 s for 7,000
// selections × 2,000 articles). The planner forms the groups in Go while it
// streams the members (group.go) and inserts new selections with their
// article lists (one id list per selection, see migration 00011) in
// multi-row INSERTs.

// insertRows is how many rows one multi-row INSERT writes.
const insertRows = 500

type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)   { b[i/64] |= 1 << (i % 64) }
func (b bitset) clear(i int) { b[i/64] &^= 1 << (i % 64) }

// fill sets b to the first n bits, or to the union of the sets of codes
// (nothing for codes no candidate has) when codes is not empty.
func (b bitset) fill(n int, codes []string, sets map[string]bitset) {
	if len(codes) == 0 {
		for i := range b {
			b[i] = ^uint64(0)
		}
		if r := n % 64; r != 0 {
			b[len(b)-1] = 1<<r - 1
		}
		return
	}
	clear(b)
	for _, c := range codes {
		for i, w := range sets[c] {
			b[i] |= w
		}
	}
}

// candidates are the articles a run may select, newest first.
type candidates struct {
	ids     []int64
	pos     map[int64]int // article id → index in ids
	regions map[string]bitset
	topics  map[string]bitset
}

func loadCandidates(ctx context.Context, db *store.DB, tx *sqlx.Tx, T, since time.Time) (*candidates, error) {
	const where = `a.ingested_at <= ? AND a.published_at > ? AND a.published_at <= ?`
	c := &candidates{pos: map[int64]int{}, regions: map[string]bitset{}, topics: map[string]bitset{}}
	if err := tx.SelectContext(ctx, &c.ids, db.Rebind(`SELECT a.id FROM articles a WHERE `+where+
		` ORDER BY a.published_at DESC, a.id DESC`), T, since, T); err != nil {
		return nil, fmt.Errorf("candidate articles: %w", err)
	}
	for i, id := range c.ids {
		c.pos[id] = i
	}
	for _, k := range []struct {
		q    string
		sets map[string]bitset
	}{
		{`SELECT t.article_id, t.region_code FROM article_regions t JOIN articles a ON a.id = t.article_id WHERE ` + where, c.regions},
		{`SELECT t.article_id, t.topic_slug FROM article_topics t JOIN articles a ON a.id = t.article_id WHERE ` + where, c.topics},
	} {
		rows, err := tx.QueryContext(ctx, db.Rebind(k.q), T, since, T)
		if err != nil {
			return nil, fmt.Errorf("candidate tags: %w", err)
		}
		for rows.Next() {
			var id int64
			var code string
			if err := rows.Scan(&id, &code); err != nil {
				rows.Close()
				return nil, fmt.Errorf("candidate tags: %w", err)
			}
			i, ok := c.pos[id]
			if !ok {
				continue
			}
			s := k.sets[code]
			if s == nil {
				s = newBitset(len(c.ids))
				k.sets[code] = s
			}
			s.set(i)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("candidate tags: %w", err)
		}
	}
	return c, nil
}

// seenArticles holds, for the history selections of the new groups, their
// articles that are candidates again, as candidate positions in one arena.
type seenArticles struct {
	span  map[int64][2]int32 // selection id → [offset, length) in pos
	arena []int32
}

// loadSeen reads the article lists of the history selections ids, keeping
// only the candidates among them.
func loadSeen(ctx context.Context, db *store.DB, tx *sqlx.Tx, c *candidates, ids []int64) (*seenArticles, error) {
	s := &seenArticles{span: make(map[int64][2]int32, len(ids))}
	if len(ids) == 0 {
		return s, nil
	}
	rows, err := tx.QueryContext(ctx, db.Rebind(`SELECT hs.id, hs.article_ids FROM selections hs
		WHERE hs.id IN (SELECT u.value FROM `+db.EachID(db.IDsArg(), "u")+`)`), db.IDsValue(ids))
	if err != nil {
		return nil, fmt.Errorf("history selections: %w", err)
	}
	defer rows.Close()
	var list store.IDs
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &list); err != nil {
			return nil, fmt.Errorf("history selections: %w", err)
		}
		off := len(s.arena)
		for _, a := range list {
			if i, ok := c.pos[a]; ok {
				s.arena = append(s.arena, int32(i))
			}
		}
		s.span[id] = [2]int32{int32(off), int32(len(s.arena) - off)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history selections: %w", err)
	}
	return s, nil
}

// historyIDs parses a history key (selection ids joined by ",").
func historyIDs(key string, into []int64) ([]int64, error) {
	into = into[:0]
	for _, f := range splitKey(key) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("history key %q: %w", key, err)
		}
		into = append(into, id)
	}
	return into, nil
}

// selectArticles gives every new group of g its selection: the count before
// the cap and the articles (newest first, capped) as one id list, written
// with multi-row INSERTs as the groups are computed, so the lists are never
// all held at once.
func (p *Planner) selectArticles(ctx context.Context, tx *sqlx.Tx, g *planGroups, run Run, T, since time.Time) error {
	db := p.DB
	if len(g.fresh) == 0 {
		return nil
	}
	c, err := loadCandidates(ctx, db, tx, T, since)
	if err != nil {
		return err
	}
	// The history selections of the new groups, each once.
	var hist []int64
	seenSel := map[int64]bool{}
	var buf []int64
	for _, gr := range g.fresh {
		if buf, err = historyIDs(gr.history(), buf); err != nil {
			return err
		}
		for _, id := range buf {
			if !seenSel[id] {
				seenSel[id] = true
				hist = append(hist, id)
			}
		}
	}
	seen, err := loadSeen(ctx, db, tx, c, hist)
	if err != nil {
		return err
	}
	n, limit := len(c.ids), p.cap()
	regions, topics, fresh := newBitset(n), newBitset(n), newBitset(n)
	w := newSelectionWriter(db, tx, g, run)
	chosen := make([]int64, 0, limit)
	for _, gr := range g.fresh {
		rk, tk, _ := strings.Cut(gr.choice(), "|")
		regions.fill(n, splitKey(rk), c.regions)
		topics.fill(n, splitKey(tk), c.topics)
		for i := range fresh {
			fresh[i] = regions[i] & topics[i]
		}
		if buf, err = historyIDs(gr.history(), buf); err != nil {
			return err
		}
		for _, id := range buf {
			sp := seen.span[id]
			for _, i := range seen.arena[sp[0] : sp[0]+sp[1]] {
				fresh.clear(int(i))
			}
		}
		total := 0
		chosen = chosen[:0]
		for wi, word := range fresh {
			total += bits.OnesCount64(word)
			for ; word != 0 && len(chosen) < limit; word &= word - 1 {
				chosen = append(chosen, c.ids[wi*64+bits.TrailingZeros64(word)])
			}
		}
		gr.total = total
		if err := w.add(ctx, gr, chosen); err != nil {
			return err
		}
	}
	return w.flush(ctx)
}

// rowWriter inserts rows with multi-row INSERT statements.
type rowWriter struct {
	db     *store.DB
	tx     *sqlx.Tx
	prefix string // "INSERT INTO t (cols) VALUES "
	tuple  string // "(?, ?, ?)"
	width  int
	args   []any
}

// newRowWriter writes rows of cols into table; tuple is the placeholders of
// one row, e.g. "(?, ?, ?)" (empty: one "?" per column).
func newRowWriter(db *store.DB, tx *sqlx.Tx, table, cols, tuple string) *rowWriter {
	width := strings.Count(cols, ",") + 1
	if tuple == "" {
		tuple = "(?" + strings.Repeat(", ?", width-1) + ")"
	}
	return &rowWriter{db: db, tx: tx, prefix: "INSERT INTO " + table + " (" + cols + ") VALUES ",
		tuple: tuple, width: width, args: make([]any, 0, insertRows*width)}
}

func (w *rowWriter) add(ctx context.Context, vals ...any) error {
	w.args = append(w.args, vals...)
	if len(w.args) >= insertRows*w.width {
		return w.flush(ctx)
	}
	return nil
}

func (w *rowWriter) flush(ctx context.Context) error {
	rows := len(w.args) / w.width
	if rows == 0 {
		return nil
	}
	var b strings.Builder
	b.Grow(len(w.prefix) + rows*(len(w.tuple)+2))
	b.WriteString(w.prefix)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(w.tuple)
	}
	if _, err := w.tx.ExecContext(ctx, w.db.Rebind(b.String()), w.args...); err != nil {
		return fmt.Errorf("write %s: %w", w.prefix, err)
	}
	w.args = w.args[:0]
	return nil
}

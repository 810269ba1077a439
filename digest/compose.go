package digest

import (
	"container/list"

	"context"
	"fmt"
	"github.com/jmoiron/sqlx"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

// Links makes a subscriber's personal links and the non-personal browser
// view of a selection ("Im Browser ansehen", served by the archive package);
// subscribers.Links satisfies it.
type Links interface {
	UnsubscribeURL(id int64, email string) string
	PreferencesURL(id int64, email string) string
	ArchiveURL(selectionID int64) string
}

// selection is one shared article list of a run.
type selection struct {
	ID        int64  `db:"id"`
	RunID     int64  `db:"run_id"` // read only in windows
	ChoiceKey string `db:"choice_key"`
	Total     int    `db:"total"`
	// Articles are the ids, newest first, capped (empty: none, or pruned).
	Articles store.IDs `db:"article_ids"`
}

// library holds what rendering a run's digests needs: the taxonomy, the
// articles the run's selections hold, and the selections themselves. Prepared
// digests are kept in a small LRU cache; deliveries are ordered by selection,
// so each is prepared about once.
//
// For sending (loadSendLibrary) the selections are read in windows of
// selectionWindow as the senders reach them and older ones are dropped, so
// memory does not grow with the number of selections (about 52,000 for
// 100,000 subscribers, 19 MB when all were held at once).
type library struct {
	run      Run
	tmpl     *templates.Set
	tax      *taxonomy.Set
	links    Links // for the browser-view link of each selection; nil leaves it out
	articles map[int64]templates.Article
	prepares atomic.Int64 // Prepare calls, for measuring

	selMu      sync.Mutex // guards selections when windowed
	selections map[int64]*selection
	window     *selectionReader // nil: selections holds all of the run's

	// order holds each region's and topic's place in the taxonomy, made
	// once, for putting a selection's choices in taxonomy order.
	orderOnce sync.Once
	order     map[string]int

	mu    sync.Mutex
	cache map[int64]*list.Element
	lru   *list.List
	size  int
}

// selectionReader reads a run's selections window by window.
type selectionReader struct {
	ctx  context.Context // the Send or Render call's
	db   *store.DB
	size int // selections per window
}

type prepared struct {
	id   int64
	once sync.Once
	p    *templates.Prepared
	err  error
}

const cacheSize = 64

// selectionWindow is how many selections are read at once while sending.
const selectionWindow = 512

// loadLibrary reads all selections and articles of run.
// q is the database or a transaction (preview reads an uncommitted plan).
func loadLibrary(ctx context.Context, db *store.DB, q sqlx.QueryerContext, tmpl *templates.Set, run Run) (*library, error) {
	lib, err := newLibrary(ctx, db, q, tmpl, run)
	if err != nil {
		return nil, err
	}
	return lib, lib.readSelections(ctx, db, q, 0, 0)
}

// loadSendLibrary reads the articles of run; its selections are read in
// windows as they are needed, with ctx.
func loadSendLibrary(ctx context.Context, db *store.DB, tmpl *templates.Set, run Run) (*library, error) {
	lib, err := newLibrary(ctx, db, db.DB, tmpl, run)
	if err != nil {
		return nil, err
	}
	lib.window = &selectionReader{ctx: ctx, db: db, size: selectionWindow}
	return lib, nil
}

func newLibrary(ctx context.Context, db *store.DB, q sqlx.QueryerContext, tmpl *templates.Set, run Run) (*library, error) {
	tax, err := taxonomy.NewStore(db).Load(ctx)
	if err != nil {
		return nil, err
	}
	lib := &library{run: run, tmpl: tmpl, tax: tax, selections: map[int64]*selection{},
		articles: map[int64]templates.Article{}, cache: map[int64]*list.Element{}, lru: list.New(), size: cacheSize}
	if err := lib.loadArticles(ctx, db, q, `
		JOIN (SELECT DISTINCT u.value AS article_id FROM selections s CROSS JOIN `+db.EachID("s.article_ids", "u")+` WHERE s.run_id = ?) x
		ON x.article_id = a.id`, run.ID); err != nil {
		return nil, err
	}
	return lib, nil
}

// readSelections adds the run's selections with ids in [from, from+span)
// (span 0: all), with their articles in order. A run's selections have
// consecutive ids, so a span reads about span of them by primary key.
func (lib *library) readSelections(ctx context.Context, db *store.DB, q sqlx.QueryerContext, from int64, span int) error {
	run := lib.run
	var sels []*selection
	query, args := `SELECT id, choice_key, total, article_ids FROM selections WHERE run_id = ? AND id >= ? ORDER BY id`, []any{run.ID, from}
	if span > 0 {
		// By primary key alone: with run_id in the condition PostgreSQL read
		// all the run's selections through the (run_id, …) index for every
		// window (48 ms each at 100,000 subscribers). Other runs' are skipped below.
		query, args = `SELECT id, run_id, choice_key, total, article_ids FROM selections WHERE id >= ? AND id < ? ORDER BY id`, []any{from, from + int64(span)}
	}
	if err := sqlx.SelectContext(ctx, q, &sels, db.Rebind(query), args...); err != nil {
		return fmt.Errorf("load selections of run %d: %w", run.ID, err)
	}
	sels = slices.DeleteFunc(sels, func(s *selection) bool { return s.RunID != 0 && s.RunID != run.ID })
	if len(sels) == 0 {
		return nil
	}
	for _, s := range sels {
		lib.selections[s.ID] = s
	}
	return nil
}

// selection returns selection id of the run (nil when it is not the run's),
// reading the window that starts with it when the selections are windowed.
func (lib *library) selection(id int64) (*selection, error) {
	lib.selMu.Lock()
	defer lib.selMu.Unlock()
	if s, ok := lib.selections[id]; ok || lib.window == nil {
		return s, nil
	}
	r := lib.window
	if len(lib.selections) >= 2*r.size {
		clear(lib.selections) // senders have moved on; a selection still needed is read again
	}
	if err := lib.readSelections(r.ctx, r.db, r.db.DB, id, r.size); err != nil {
		return nil, err
	}
	return lib.selections[id], nil
}

type articleRow struct {
	ID          int64     `db:"id"`
	URL         string    `db:"url"`
	Title       string    `db:"title"`
	Kicker      string    `db:"kicker"`
	Teaser      string    `db:"teaser"`
	PublishedAt time.Time `db:"published_at"`
}

// loadArticles loads the articles that join selects (with its args), with tags.
func (lib *library) loadArticles(ctx context.Context, db *store.DB, q sqlx.QueryerContext, join string, args ...any) error {
	var arts []articleRow
	if err := sqlx.SelectContext(ctx, q, &arts, db.Rebind(`SELECT a.id, a.url, a.title, a.kicker, a.teaser, a.published_at FROM articles a `+join), args...); err != nil {
		return fmt.Errorf("load articles: %w", err)
	}
	for _, a := range arts {
		lib.articles[a.ID] = templates.Article{ID: a.ID, URL: a.URL, Title: a.Title, Kicker: a.Kicker, Teaser: a.Teaser, PublishedAt: a.PublishedAt}
	}
	type tag struct {
		ArticleID int64  `db:"article_id"`
		Code      string `db:"code"`
	}
	for _, kind := range []struct {
		q      string
		region bool
	}{
		{`SELECT t.article_id, t.region_code AS code FROM article_regions t JOIN articles a ON a.id = t.article_id ` + join + ` ORDER BY t.article_id`, true},
		{`SELECT t.article_id, t.topic_slug AS code FROM article_topics t JOIN articles a ON a.id = t.article_id ` + join + ` ORDER BY t.article_id`, false},
	} {
		var tags []tag
		if err := sqlx.SelectContext(ctx, q, &tags, db.Rebind(kind.q), args...); err != nil {
			return fmt.Errorf("load article tags: %w", err)
		}
		for _, t := range tags {
			a, ok := lib.articles[t.ArticleID]
			if !ok {
				continue
			}
			if kind.region {
				a.Regions = append(a.Regions, lib.region(t.Code))
			} else {
				a.Topics = append(a.Topics, lib.topic(t.Code))
			}
			lib.articles[t.ArticleID] = a
		}
	}
	// Tags in taxonomy order: an article is grouped under its first topic.
	for id, a := range lib.articles {
		sortNamed(a.Regions, lib.tax.Regions, func(r taxonomy.Region) string { return r.Code })
		sortNamed(a.Topics, lib.tax.Topics, func(t taxonomy.Topic) string { return t.Slug })
		lib.articles[id] = a
	}
	return nil
}

func (lib *library) region(code string) templates.Named {
	r, _ := lib.tax.Region(code)
	return templates.Named{Code: code, Name: r.Name}
}

func (lib *library) topic(slug string) templates.Named {
	t, _ := lib.tax.Topic(slug)
	return templates.Named{Code: slug, Name: t.Name}
}

// choiceOf returns the regions and topics of a choice key
// ("DE,DE-HE|it-sicherheit") in taxonomy order. It is not cached: nearly
// every selection of an edition has a choice of its own (a cache by choice
// key held 5 MB more in the listmonk profile and hardly ever hit), but the
// taxonomy order is looked up in one map made once.
func (lib *library) choiceOf(key string) (regions, topics []templates.Named) {
	lib.orderOnce.Do(func() {
		lib.order = make(map[string]int, len(lib.tax.Regions)+len(lib.tax.Topics))
		for i, r := range lib.tax.Regions {
			lib.order["r:"+r.Code] = i
		}
		for i, t := range lib.tax.Topics {
			lib.order["t:"+t.Slug] = i
		}
	})
	rs, ts, _ := strings.Cut(key, "|")
	return lib.ordered(splitKey(rs), "r:", lib.region), lib.ordered(splitKey(ts), "t:", lib.topic)
}

// ordered names codes in taxonomy order: a stable insertion sort by place,
// unknown codes at place 0 (as sortNamed). nil for no codes.
func (lib *library) ordered(codes []string, kind string, name func(string) templates.Named) []templates.Named {
	if len(codes) == 0 {
		return nil
	}
	out := make([]templates.Named, 0, len(codes))
	var rank [24]int // choices are short; longer ones fall back to sortNamed's way below
	if len(codes) > len(rank) {
		for _, c := range codes {
			out = append(out, name(c))
		}
		if kind == "r:" {
			sortNamed(out, lib.tax.Regions, func(r taxonomy.Region) string { return r.Code })
		} else {
			sortNamed(out, lib.tax.Topics, func(t taxonomy.Topic) string { return t.Slug })
		}
		return out
	}
	for _, c := range codes {
		i := len(out)
		out = append(out, name(c))
		rank[i] = lib.pos(kind, c)
		for ; i > 0 && rank[i] < rank[i-1]; i-- {
			out[i], out[i-1] = out[i-1], out[i]
			rank[i], rank[i-1] = rank[i-1], rank[i]
		}
	}
	return out
}

// pos is a code's place in the taxonomy; 0 for an unknown code, as
// sortNamed's map gives.
func (lib *library) pos(kind, code string) int {
	return lib.order[kind+code]
}

// digestOf builds the shared content of a selection.
func (lib *library) digestOf(s *selection) templates.Digest {
	d := templates.Digest{Cadence: string(lib.run.Cadence), Edition: lib.run.Edition, At: lib.run.At}
	d.Regions, d.Topics = lib.choiceOf(s.ChoiceKey)
	d.Articles = make([]templates.Article, 0, len(s.Articles))
	for _, id := range s.Articles {
		if a, ok := lib.articles[id]; ok {
			d.Articles = append(d.Articles, a)
		}
	}
	d.More = max(0, s.Total-len(d.Articles))
	if lib.links != nil {
		d.ArchiveURL = lib.links.ArchiveURL(s.ID)
	}
	return d
}

func sortNamed[T any](ns []templates.Named, order []T, key func(T) string) {
	pos := map[string]int{}
	for i, o := range order {
		pos[key(o)] = i
	}
	for i := 1; i < len(ns); i++ {
		for j := i; j > 0 && pos[ns[j].Code] < pos[ns[j-1].Code]; j-- {
			ns[j], ns[j-1] = ns[j-1], ns[j]
		}
	}
}

func splitKey(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// prepared returns the rendered shared parts of a selection, preparing it at
// most once while it stays in the cache.
func (lib *library) prepared(selectionID int64) (*templates.Prepared, error) {
	lib.mu.Lock()
	el, ok := lib.cache[selectionID]
	if ok {
		lib.lru.MoveToFront(el)
	} else {
		el = lib.lru.PushFront(&prepared{id: selectionID})
		lib.cache[selectionID] = el
		if lib.lru.Len() > lib.size {
			old := lib.lru.Back()
			lib.lru.Remove(old)
			delete(lib.cache, old.Value.(*prepared).id)
		}
	}
	lib.mu.Unlock()
	p := el.Value.(*prepared)
	p.once.Do(func() {
		s, err := lib.selection(selectionID)
		if err != nil {
			p.err = err
			return
		}
		if s == nil {
			p.err = fmt.Errorf("selection %d is not part of run %d", selectionID, lib.run.ID)
			return
		}
		lib.prepares.Add(1)
		p.p, p.err = lib.tmpl.Prepare(lib.digestOf(s))
	})
	return p.p, p.err
}

package digest

import (
	"container/list"

	"context"
	"fmt"
	"github.com/jmoiron/sqlx"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

// Links makes a subscriber's personal links (the token signer satisfies it
// through an adapter in cmd/digest).
type Links interface {
	UnsubscribeURL(id int64, email string) string
	PreferencesURL(id int64, email string) string
}

// selection is one shared article list of a run.
type selection struct {
	ID        int64  `db:"id"`
	ChoiceKey string `db:"choice_key"`
	Total     int    `db:"total"`
	articles  []int64
}

// library holds what rendering a run's digests needs, loaded once per run:
// the selections, their articles and the taxonomy. Prepared digests are kept in a
// small LRU cache; deliveries are ordered by selection, so each is prepared about once.
type library struct {
	run        Run
	tmpl       *templates.Set
	tax        *taxonomy.Set
	selections map[int64]*selection
	articles   map[int64]templates.Article

	prepares atomic.Int64 // Prepare calls, for measuring

	mu    sync.Mutex
	cache map[int64]*list.Element
	lru   *list.List
	size  int
}

type prepared struct {
	id   int64
	once sync.Once
	p    *templates.Prepared
	err  error
}

const cacheSize = 64

// loadLibrary reads the selections and articles of run.
// q is the database or a transaction (preview reads an uncommitted plan).
func loadLibrary(ctx context.Context, db *store.DB, q sqlx.QueryerContext, tmpl *templates.Set, run Run) (*library, error) {
	tax, err := taxonomy.NewStore(db).Load(ctx)
	if err != nil {
		return nil, err
	}
	lib := &library{run: run, tmpl: tmpl, tax: tax, selections: map[int64]*selection{},
		articles: map[int64]templates.Article{}, cache: map[int64]*list.Element{}, lru: list.New(), size: cacheSize}
	var sels []*selection
	if err := sqlx.SelectContext(ctx, q, &sels, db.Rebind(`SELECT id, choice_key, total FROM selections WHERE run_id = ?`), run.ID); err != nil {
		return nil, fmt.Errorf("load selections of run %d: %w", run.ID, err)
	}
	for _, s := range sels {
		lib.selections[s.ID] = s
	}
	rows, err := q.QueryxContext(ctx, db.Rebind(`
		SELECT sa.selection_id, sa.article_id FROM selection_articles sa
		JOIN selections s ON s.id = sa.selection_id
		WHERE s.run_id = ? ORDER BY sa.selection_id, sa.position`), run.ID)
	if err != nil {
		return nil, fmt.Errorf("load selection articles of run %d: %w", run.ID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var sid, aid int64
		if err := rows.Scan(&sid, &aid); err != nil {
			return nil, err
		}
		if s := lib.selections[sid]; s != nil {
			s.articles = append(s.articles, aid)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := lib.loadArticles(ctx, db, q, `
		JOIN (SELECT DISTINCT sa.article_id FROM selection_articles sa JOIN selections s ON s.id = sa.selection_id WHERE s.run_id = ?) x
		ON x.article_id = a.id`, run.ID); err != nil {
		return nil, err
	}
	return lib, nil
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

// digestOf builds the shared content of a selection.
func (lib *library) digestOf(s *selection) templates.Digest {
	d := templates.Digest{Cadence: string(lib.run.Cadence), Edition: lib.run.Edition, At: lib.run.At}
	regions, topics, _ := strings.Cut(s.ChoiceKey, "|")
	for _, c := range splitKey(regions) {
		d.Regions = append(d.Regions, lib.region(c))
	}
	for _, c := range splitKey(topics) {
		d.Topics = append(d.Topics, lib.topic(c))
	}
	for _, id := range s.articles {
		if a, ok := lib.articles[id]; ok {
			d.Articles = append(d.Articles, a)
		}
	}
	d.More = max(0, s.Total-len(d.Articles))
	// Choices are kept in code order in the key; show them in taxonomy order.
	sortNamed(d.Regions, lib.tax.Regions, func(r taxonomy.Region) string { return r.Code })
	sortNamed(d.Topics, lib.tax.Topics, func(t taxonomy.Topic) string { return t.Slug })
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
		s := lib.selections[selectionID]
		if s == nil {
			p.err = fmt.Errorf("selection %d is not part of run %d", selectionID, lib.run.ID)
			return
		}
		lib.prepares.Add(1)
		p.p, p.err = lib.tmpl.Prepare(lib.digestOf(s))
	})
	return p.p, p.err
}

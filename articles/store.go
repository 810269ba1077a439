package articles

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/store"
)

// ErrNotFound is returned when no article has the given id.
var ErrNotFound = errors.New("article not found")

// Article is a stored article with its tags. The JSON form is the one
// `digest articles list --json` prints.
type Article struct {
	ID          int64     `json:"id" db:"id"`
	URL         string    `json:"url" db:"url"`
	Title       string    `json:"title" db:"title"`
	Kicker      string    `json:"kicker" db:"kicker"`
	Teaser      string    `json:"teaser" db:"teaser"`
	PublishedAt time.Time `json:"published_at" db:"published_at"`
	IngestedAt  time.Time `json:"ingested_at" db:"ingested_at"`
	Regions     []string  `json:"regions" db:"-"`
	Topics      []string  `json:"topics" db:"-"`

	Content    string    `json:"-" db:"content"` // full text for tagging, when the feed has one
	Key        string    `json:"-" db:"key"`
	Source     string    `json:"-" db:"source"`
	Categories []string  `json:"-" db:"-"`
	UpdatedAt  time.Time `json:"-" db:"updated_at"`
	TagsManual bool      `json:"-" db:"tags_manual"`
}

// Filter narrows List. Zero values match everything.
type Filter struct {
	Since  time.Time // published at or after
	Region string    // tagged with this region code
	Topic  string    // tagged with this topic slug
	Limit  int       // at most this many, newest first (0: no limit)
}

// Store reads and writes articles and their tags.
type Store struct{ db *store.DB }

// NewStore returns a Store on db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

type articleRow struct {
	Article
	Categories string `db:"categories"`
	Regions    string `db:"regions"`
	Topics     string `db:"topics"`
}

func (s *Store) selectSQL() string {
	return `SELECT a.id, a.key, a.url, a.title, a.kicker, a.teaser, a.content, a.categories, a.source,
		a.published_at, a.ingested_at, a.updated_at, a.tags_manual,
		COALESCE((SELECT ` + s.db.Agg("r.region_code", ",", "g.position") + `
			FROM article_regions r JOIN regions g ON g.code = r.region_code WHERE r.article_id = a.id), '') AS regions,
		COALESCE((SELECT ` + s.db.Agg("t.topic_slug", ",", "p.position, t.topic_slug") + `
			FROM article_topics t JOIN topics p ON p.slug = t.topic_slug WHERE t.article_id = a.id), '') AS topics
		FROM articles a`
}

func (r articleRow) article() Article {
	a := r.Article
	a.Regions = splitList(r.Regions, ",")
	a.Topics = splitList(r.Topics, ",")
	a.Categories = splitList(r.Categories, "\n")
	a.PublishedAt, a.IngestedAt, a.UpdatedAt = a.PublishedAt.UTC(), a.IngestedAt.UTC(), a.UpdatedAt.UTC()
	return a
}

func splitList(s, sep string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, sep)
}

// List returns the articles matching f, newest first.
func (s *Store) List(ctx context.Context, f Filter) ([]Article, error) {
	q := s.selectSQL() + ` WHERE 1 = 1`
	var args []any
	if !f.Since.IsZero() {
		q += ` AND a.published_at >= ?`
		args = append(args, store.T(f.Since))
	}
	if f.Region != "" {
		q += ` AND EXISTS (SELECT 1 FROM article_regions r WHERE r.article_id = a.id AND r.region_code = ?)`
		args = append(args, f.Region)
	}
	if f.Topic != "" {
		q += ` AND EXISTS (SELECT 1 FROM article_topics t WHERE t.article_id = a.id AND t.topic_slug = ?)`
		args = append(args, f.Topic)
	}
	q += ` ORDER BY a.published_at DESC, a.id DESC`
	if f.Limit > 0 {
		q += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	var rows []articleRow
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind(q), args...); err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	out := make([]Article, len(rows))
	for i, r := range rows {
		out[i] = r.article()
	}
	return out, nil
}

// Get returns the article with id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Article, error) {
	var r articleRow
	err := s.db.GetContext(ctx, &r, s.db.Rebind(s.selectSQL()+` WHERE a.id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return Article{}, fmt.Errorf("article %d: %w; see `digest articles list`", id, ErrNotFound)
	}
	if err != nil {
		return Article{}, fmt.Errorf("get article %d: %w", id, err)
	}
	return r.article(), nil
}

// SetTags is the staff override: it replaces the article's regions (when
// regions is not nil) and topics (when topics is not nil) and marks its tags
// manual, so that re-imports keep them. Codes and slugs must be valid (see
// taxonomy.Set); an empty region list is not allowed.
func (s *Store) SetTags(ctx context.Context, id int64, regions, topics []string) error {
	if regions != nil && len(regions) == 0 {
		return errors.New("an article needs at least one region (DE for bundesweit)")
	}
	return s.db.Tx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE articles SET tags_manual = ? WHERE id = ?`), true, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("article %d: %w; see `digest articles list`", id, ErrNotFound)
		}
		return s.replaceTags(ctx, tx, id, regions, topics)
	})
}

// replaceTags replaces the regions and/or topics of an article (nil: keep).
func (s *Store) replaceTags(ctx context.Context, tx *sqlx.Tx, id int64, regions, topics []string) error {
	if regions != nil {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM article_regions WHERE article_id = ?`), id); err != nil {
			return err
		}
		for _, r := range regions {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO article_regions (article_id, region_code) VALUES (?, ?)`), id, r); err != nil {
				return fmt.Errorf("tag article %d with region %q: %w", id, r, err)
			}
		}
	}
	if topics != nil {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`DELETE FROM article_topics WHERE article_id = ?`), id); err != nil {
			return err
		}
		for _, t := range topics {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO article_topics (article_id, topic_slug) VALUES (?, ?)`), id, t); err != nil {
				return fmt.Errorf("tag article %d with topic %q: %w", id, t, err)
			}
		}
	}
	return nil
}

// outcome of storing one item.
type outcome int

const (
	unchanged outcome = iota
	added
	changed
)

// upsert stores one tagged item in tx. ingested_at is set on first sight only;
// a manual tag override is kept.
func (s *Store) upsert(ctx context.Context, tx *sqlx.Tx, it Item, tags Tags, source string, at time.Time) (outcome, error) {
	at = store.T(at)
	cats := strings.Join(it.Categories, "\n")
	var old articleRow
	err := tx.GetContext(ctx, &old, s.db.Rebind(strings.Replace(s.selectSQL(), "FROM articles a", "FROM articles a WHERE a.key = ?", 1)), it.Key)
	if errors.Is(err, sql.ErrNoRows) {
		published := at
		if !it.Published.IsZero() {
			published = store.T(it.Published)
		}
		var id int64
		err = tx.GetContext(ctx, &id, s.db.Rebind(`
			INSERT INTO articles (key, url, title, kicker, teaser, content, categories, source, published_at, ingested_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING RETURNING id`),
			it.Key, it.URL, it.Title, it.Kicker, it.Teaser, it.Content, cats, source, published, at, at)
		if errors.Is(err, sql.ErrNoRows) {
			// another importer stored it a moment ago: treat it as seen
			return s.upsert(ctx, tx, it, tags, source, at)
		}
		if err != nil {
			return 0, fmt.Errorf("store article %q: %w", it.Key, err)
		}
		return added, s.replaceTags(ctx, tx, id, tags.Regions, tags.Topics)
	}
	if err != nil {
		return 0, fmt.Errorf("read article %q: %w", it.Key, err)
	}
	cur := old.article()
	published := cur.IngestedAt
	if !it.Published.IsZero() {
		published = store.T(it.Published)
	}
	same := cur.URL == it.URL && cur.Title == it.Title && cur.Kicker == it.Kicker && cur.Teaser == it.Teaser &&
		cur.Content == it.Content && old.Categories == cats && cur.PublishedAt.Equal(published)
	sameTags := cur.TagsManual || (slices.Equal(cur.Regions, tags.Regions) && slices.Equal(cur.Topics, tags.Topics))
	if same && sameTags {
		return unchanged, nil
	}
	_, err = tx.ExecContext(ctx, s.db.Rebind(`
		UPDATE articles SET url = ?, title = ?, kicker = ?, teaser = ?, content = ?, categories = ?, published_at = ?, updated_at = ?
		WHERE id = ?`), it.URL, it.Title, it.Kicker, it.Teaser, it.Content, cats, published, at, cur.ID)
	if err != nil {
		return 0, fmt.Errorf("update article %d: %w", cur.ID, err)
	}
	if !cur.TagsManual && !sameTags {
		if err := s.replaceTags(ctx, tx, cur.ID, tags.Regions, tags.Topics); err != nil {
			return 0, err
		}
	}
	return changed, nil
}

// feedState is what a previous fetch of a feed URL left for conditional GET.
type feedState struct {
	ETag         string `db:"etag"`
	LastModified string `db:"last_modified"`
}

func (s *Store) feedState(ctx context.Context, url string) (feedState, error) {
	var st feedState
	err := s.db.GetContext(ctx, &st, s.db.Rebind(`SELECT etag, last_modified FROM feeds WHERE url = ?`), url)
	if errors.Is(err, sql.ErrNoRows) {
		return feedState{}, nil
	}
	return st, err
}

// saveFeedState records a fetch; changed says whether the feed had new content.
func (s *Store) saveFeedState(ctx context.Context, ex sqlx.ExecerContext, url string, st feedState, changed bool, at time.Time) error {
	at = store.T(at)
	var err error
	if changed {
		_, err = ex.ExecContext(ctx, s.db.Rebind(`
			INSERT INTO feeds (url, etag, last_modified, checked_at, changed_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified,
				checked_at = excluded.checked_at, changed_at = excluded.changed_at`), url, st.ETag, st.LastModified, at, at)
	} else {
		_, err = ex.ExecContext(ctx, s.db.Rebind(`UPDATE feeds SET checked_at = ? WHERE url = ?`), at, url)
	}
	if err != nil {
		return fmt.Errorf("remember feed %s: %w", url, err)
	}
	return nil
}

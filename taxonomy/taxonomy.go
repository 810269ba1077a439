package taxonomy

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/kommune21/digest/store"
)

// Region is DE (bundesweit) or a German Land.
type Region struct {
	Code string `db:"code" json:"code"`
	Name string `db:"name" json:"name"`
}

// Topic is a subject area subscribers can choose.
type Topic struct {
	Slug string `db:"slug" json:"slug"`
	Name string `db:"name" json:"name"`
}

// ErrTopicExists is returned by AddTopic when the slug or the name is taken.
var ErrTopicExists = errors.New("topic exists")

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Store reads and changes the taxonomy.
type Store struct{ db *store.DB }

// NewStore returns a Store on db.
func NewStore(db *store.DB) *Store { return &Store{db: db} }

// Regions returns DE and the 16 Länder in their customary order.
func (s *Store) Regions(ctx context.Context) ([]Region, error) {
	var rs []Region
	err := s.db.SelectContext(ctx, &rs, `SELECT code, name FROM regions ORDER BY position`)
	return rs, err
}

// Topics returns all topics in display order.
func (s *Store) Topics(ctx context.Context) ([]Topic, error) {
	var ts []Topic
	err := s.db.SelectContext(ctx, &ts, `SELECT slug, name FROM topics ORDER BY position, slug`)
	return ts, err
}

// AddTopic adds a topic at the end of the list. It returns ErrTopicExists
// (wrapped, naming the clash) when the slug or name is taken.
func (s *Store) AddTopic(ctx context.Context, t Topic) error {
	if err := ValidateTopic(t); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`
		INSERT INTO topics (slug, name, position)
		SELECT ?, ?, COALESCE(MAX(position), 0) + 1 FROM topics`), t.Slug, t.Name)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("topic %q (%s): %w: slug and name must both be new; see `digest topics list`", t.Slug, t.Name, ErrTopicExists)
	}
	return err
}

// RenameTopic gives the topic with slug a new display name.
func (s *Store) RenameTopic(ctx context.Context, slug, name string) error {
	if err := ValidateTopic(Topic{Slug: slug, Name: name}); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE topics SET name = ? WHERE slug = ?`), name, slug)
	if store.IsUniqueViolation(err) {
		return fmt.Errorf("topic name %q: %w", name, ErrTopicExists)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("no topic with slug %q; see `digest topics list`", slug)
	}
	return nil
}

// ValidateTopic checks a slug (lowercase ASCII words joined by "-") and a name
// (1–80 printable characters).
func ValidateTopic(t Topic) error {
	if !slugRE.MatchString(t.Slug) || len(t.Slug) > 60 {
		return fmt.Errorf("topic slug %q: use lowercase letters, digits and single hyphens, e.g. \"open-data\"", t.Slug)
	}
	name := strings.TrimSpace(t.Name)
	if name == "" || name != t.Name || utf8.RuneCountInString(name) > 80 || strings.ContainsFunc(name, isControl) {
		return fmt.Errorf("topic name %q: give 1 to 80 printable characters without leading or trailing spaces", t.Name)
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// Set is a loaded taxonomy for validating and naming codes and slugs.
type Set struct {
	Regions []Region
	Topics  []Topic
	region  map[string]Region
	topic   map[string]Topic
}

// Load reads the whole taxonomy.
func (s *Store) Load(ctx context.Context) (*Set, error) {
	rs, err := s.Regions(ctx)
	if err != nil {
		return nil, fmt.Errorf("load regions: %w", err)
	}
	ts, err := s.Topics(ctx)
	if err != nil {
		return nil, fmt.Errorf("load topics: %w", err)
	}
	return NewSet(rs, ts), nil
}

// NewSet builds a Set from lists (for tests and callers that already have them).
func NewSet(rs []Region, ts []Topic) *Set {
	set := &Set{Regions: rs, Topics: ts, region: map[string]Region{}, topic: map[string]Topic{}}
	for _, r := range rs {
		set.region[r.Code] = r
	}
	for _, t := range ts {
		set.topic[t.Slug] = t
	}
	return set
}

// Region returns the region with the given code.
func (s *Set) Region(code string) (Region, bool) { r, ok := s.region[code]; return r, ok }

// Topic returns the topic with the given slug.
func (s *Set) Topic(slug string) (Topic, bool) { t, ok := s.topic[slug]; return t, ok }

// RegionCodes normalises codes ("de-by", " DE-BY ") to canonical ones, sorted by
// position and without duplicates. An unknown code is an error that lists the valid ones.
func (s *Set) RegionCodes(codes []string) ([]string, error) {
	seen := map[string]bool{}
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if _, ok := s.region[c]; !ok {
			valid := make([]string, len(s.Regions))
			for i, r := range s.Regions {
				valid[i] = r.Code
			}
			return nil, fmt.Errorf("unknown region %q: use one of %s", c, strings.Join(valid, ", "))
		}
		seen[c] = true
	}
	var out []string
	for _, r := range s.Regions {
		if seen[r.Code] {
			out = append(out, r.Code)
		}
	}
	return out, nil
}

// TopicSlugs normalises slugs to canonical ones in display order, without
// duplicates. An unknown slug is an error that lists the valid ones.
func (s *Set) TopicSlugs(slugs []string) ([]string, error) {
	seen := map[string]bool{}
	for _, sl := range slugs {
		sl = strings.ToLower(strings.TrimSpace(sl))
		if sl == "" {
			continue
		}
		if _, ok := s.topic[sl]; !ok {
			valid := make([]string, len(s.Topics))
			for i, t := range s.Topics {
				valid[i] = t.Slug
			}
			sort.Strings(valid)
			return nil, fmt.Errorf("unknown topic %q: use one of %s", sl, strings.Join(valid, ", "))
		}
		seen[sl] = true
	}
	var out []string
	for _, t := range s.Topics {
		if seen[t.Slug] {
			out = append(out, t.Slug)
		}
	}
	return out, nil
}

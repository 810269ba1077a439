package articles

import (
	"regexp"
	"strings"

	"github.com/kommune21/digest/taxonomy"
)

var slugRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Nationwide is the region of an article that names no Land.
const Nationwide = "DE"

// Text is what the tagger reads of an article.
type Text struct {
	Kicker, Title, Teaser string
	Categories            []string
}

// Tags are an article's regions (codes) and topics (slugs) in taxonomy order.
type Tags struct {
	Regions []string
	Topics  []string
}

// Tagger assigns regions and topics to articles. It is safe for concurrent use.
type Tagger struct {
	gaz     *Gazetteer
	rules   *Rules
	set     *taxonomy.Set
	regions map[string]string // lower-case code or name → code
	topics  map[string]string // lower-case slug or name → slug
}

// NewTagger returns a tagger for the regions and topics of set.
func NewTagger(set *taxonomy.Set, gaz *Gazetteer, rules *Rules) *Tagger {
	t := &Tagger{gaz: gaz, rules: rules, set: set, regions: map[string]string{}, topics: map[string]string{}}
	for _, r := range set.Regions {
		t.regions[strings.ToLower(r.Code)] = r.Code
		t.regions[strings.ToLower(r.Name)] = r.Code
	}
	for _, tp := range set.Topics {
		t.topics[tp.Slug] = tp.Slug
		t.topics[strings.ToLower(tp.Name)] = tp.Slug
	}
	return t
}

// DefaultTagger returns a tagger with the embedded gazetteer and topic rules.
func DefaultTagger(set *taxonomy.Set) (*Tagger, error) {
	gaz, err := LoadGazetteer()
	if err != nil {
		return nil, err
	}
	rules, err := ParseRulesString(DefaultRules, "rules/topics.txt")
	if err != nil {
		return nil, err
	}
	return NewTagger(set, gaz, rules), nil
}

// Tag returns the article's tags. Categories that name a region or a topic
// decide that dimension; otherwise regions come from the gazetteer (the kicker
// first, then title and teaser) and topics from the keyword rules. Regions are
// never empty: an article that names no Land is Nationwide.
func (t *Tagger) Tag(x Text) Tags {
	var regions, topics []string
	for _, c := range x.Categories {
		regions = append(regions, t.categoryRegions(c)...)
		topics = append(topics, t.categoryTopics(c)...)
	}
	if len(regions) == 0 {
		regions = t.inferRegions(x)
	}
	if len(topics) == 0 {
		topics = t.rules.Slugs(x.Kicker + " | " + x.Title + " | " + x.Teaser)
	}
	return t.normalise(regions, topics)
}

func (t *Tagger) categoryRegions(c string) []string {
	key := strings.ToLower(strings.TrimSpace(c))
	if code, ok := t.regions[key]; ok {
		return []string{code}
	}
	if lands, ok := t.gaz.Lookup(c); ok {
		return lands
	}
	return nil
}

func (t *Tagger) categoryTopics(c string) []string {
	key := strings.ToLower(strings.TrimSpace(c))
	if slug, ok := t.topics[key]; ok {
		return []string{slug}
	}
	return t.rules.Slugs(c)
}

func (t *Tagger) inferRegions(x Text) []string {
	kicker := t.gaz.find(x.Kicker)
	body := t.gaz.find(x.Title + " | " + x.Teaser)
	context := map[string]bool{}
	for _, hs := range [][]hit{kicker, body} {
		for _, h := range hs {
			if h.entry.weak {
				continue
			}
			if lands := h.lands(nil); len(lands) == 1 && (h.entry.fixed != nil || len(h.entry.places) == 1) {
				context[lands[0]] = true
			}
		}
	}
	var weak []string
	for _, hs := range [][]hit{kicker, body} {
		var strong []string
		for _, h := range hs {
			if h.entry.weak {
				if len(weak) == 0 {
					weak = h.lands(context)
				}
			} else {
				strong = append(strong, h.lands(context)...)
			}
		}
		if len(strong) > 0 {
			return strong
		}
	}
	if len(weak) > 0 {
		return weak
	}
	return []string{Nationwide}
}

// normalise orders and deduplicates tags by the taxonomy and drops unknown ones.
func (t *Tagger) normalise(regions, topics []string) Tags {
	var tags Tags
	seen := map[string]bool{}
	for _, r := range t.set.Regions {
		for _, c := range regions {
			if c == r.Code && !seen[c] {
				seen[c] = true
				tags.Regions = append(tags.Regions, c)
			}
		}
	}
	for _, tp := range t.set.Topics {
		for _, s := range topics {
			if s == tp.Slug && !seen["t:"+s] {
				seen["t:"+s] = true
				tags.Topics = append(tags.Topics, s)
			}
		}
	}
	if len(tags.Regions) == 0 {
		tags.Regions = []string{Nationwide}
	}
	return tags
}

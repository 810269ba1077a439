package articles

import (
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/kommune21/digest/articles/topicmodel"
)

// DefaultRules is the embedded topic keyword rule file (rules/topics.txt).
//
//go:embed rules/topics.txt
var DefaultRules string

// Rules are topic keyword rules: for each topic slug, the words and phrases
// that tag an article with it. See rules/topics.txt for the syntax.
type Rules struct {
	rules []rule
}

type rule struct {
	slug  string
	terms [][]pattern // a term is a phrase of one or more word patterns
}

type pattern struct {
	text           string
	prefix, suffix bool // "word*" matches words starting with it, "*word" words ending with it
	caseSensitive  bool // written in capitals only: "KI", "OZG"
}

// ParseRules reads a rule file; name is used in errors.
func ParseRules(r io.Reader, name string) (*Rules, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return ParseRulesString(string(data), name)
}

// ParseRulesString is ParseRules on a string.
func ParseRulesString(text, name string) (*Rules, error) {
	rs := &Rules{}
	bySlug := map[string]int{}
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		slug, rest, ok := strings.Cut(line, ":")
		slug = strings.TrimSpace(slug)
		if !ok || !slugRE.MatchString(slug) {
			return nil, fmt.Errorf("%s line %d: want \"topic-slug: term, term*, ...\", got %q", name, n+1, truncate(line, 60))
		}
		i, seen := bySlug[slug]
		if !seen {
			i = len(rs.rules)
			bySlug[slug] = i
			rs.rules = append(rs.rules, rule{slug: slug})
		}
		for _, t := range strings.Split(rest, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			var phrase []pattern
			for _, w := range strings.Fields(t) {
				p := pattern{text: w}
				if strings.HasPrefix(p.text, "*") {
					p.suffix, p.text = true, p.text[1:]
				}
				if strings.HasSuffix(p.text, "*") {
					p.prefix, p.text = true, p.text[:len(p.text)-1]
				}
				if p.text == "" || strings.Contains(p.text, "*") {
					return nil, fmt.Errorf("%s line %d: term %q: \"*\" may only start or end a word", name, n+1, t)
				}
				p.caseSensitive = topicmodel.IsAcronym(p.text)
				if !p.caseSensitive {
					p.text = strings.ToLower(p.text)
				}
				phrase = append(phrase, p)
			}
			rs.rules[i].terms = append(rs.rules[i].terms, phrase)
		}
	}
	return rs, nil
}

func (p pattern) matches(t token) bool {
	s := t.lower
	if p.caseSensitive {
		s = t.orig
	}
	switch {
	case p.prefix && p.suffix:
		return strings.Contains(s, p.text)
	case p.prefix:
		return strings.HasPrefix(s, p.text)
	case p.suffix:
		return strings.HasSuffix(s, p.text)
	}
	return s == p.text
}

// TopicMatch is a topic and the first term of its rule that matched.
type TopicMatch struct{ Slug, Term string }

// Slugs returns the topics of text, in rule order, without duplicates.
func (rs *Rules) Slugs(text string) []string {
	var out []string
	for _, m := range rs.Match(text) {
		out = append(out, m.Slug)
	}
	return out
}

// Match returns the topics of text with the term that matched each, in rule order.
func (rs *Rules) Match(text string) []TopicMatch {
	toks := tokenize(text)
	// single words are also tried against the parts of hyphenated words
	var parts []token
	for _, t := range toks {
		if strings.Contains(t.orig, "-") {
			for _, p := range strings.Split(t.orig, "-") {
				if p != "" {
					parts = append(parts, token{orig: p, lower: strings.ToLower(p)})
				}
			}
		}
	}
	var out []TopicMatch
	for _, r := range rs.rules {
		if term, ok := r.match(toks, parts); ok {
			out = append(out, TopicMatch{Slug: r.slug, Term: term})
		}
	}
	return out
}

// match reports the text of the first matching term (the words of the text it
// matched).
func (r rule) match(toks, parts []token) (string, bool) {
	for _, phrase := range r.terms {
		if len(phrase) == 1 {
			for _, t := range toks {
				if phrase[0].matches(t) {
					return t.orig, true
				}
			}
			for _, t := range parts {
				if phrase[0].matches(t) {
					return t.orig, true
				}
			}
			continue
		}
	next:
		for i := 0; i+len(phrase) <= len(toks); i++ {
			for j, p := range phrase {
				if !p.matches(toks[i+j]) {
					continue next
				}
			}
			words := make([]string, len(phrase))
			for j := range phrase {
				words[j] = toks[i+j].orig
			}
			return strings.Join(words, " "), true
		}
	}
	return "", false
}

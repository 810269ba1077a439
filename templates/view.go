package templates

import (
	"strings"
)

// digestView is what the digest templates see. Every string is cleaned for
// display; html/template escapes it again for HTML.
type digestView struct {
	siteView
	Subject      string
	Preheader    string
	ArchiveURL   string // "" when the digest has no browser view
	CadenceName  string // "Wochenüberblick", "Tagesüberblick"
	EditionShort string // "KW 8", "19. Februar 2026" (subject)
	EditionLabel string // "Wochenüberblick · KW 8 · 19. Februar 2026" (header)
	CountPhrase  string // "7 neue Artikel"
	RegionPhrase string // "aus Thüringen", "" for all regions
	Intro        string
	Why          string
	More         int
	MoreText     string // "3 weitere Artikel"
	Items        []itemView
	Groups       []groupView
	// Markers where Prepare inserts the contents lines, rendered per article
	// (digest_item.html, digest_item.txt) one per line; see fillFragments.
	TocHTML, TocText string
	// Markers for the shared footer ("footer", "footer.txt"), which depends
	// on the Site alone and is rendered once.
	FooterHTML, FooterText string
	R                      recipientView

	htmlRuns, textRuns fragmentRuns // what the fragment markers stand for
}

// itemView is an article as one digest shows it: its cleaned view (shared
// by every digest, read-only) and where it stands in this digest.
type itemView struct {
	*articleView
	N int // 1-based position, shared by contents and item
	// ShowKicker is false when the kicker only repeats the group heading
	// ("Registermodernisierung" under "Registermodernisierung").
	ShowKicker bool
}

// articleView is an article cleaned for display.
type articleView struct {
	Kicker   string
	Title    string
	Headline string // "Kicker: Titel"
	URL      string // "" when the feed's URL is not a safe http(s) link
	Meta     string // "19. Februar 2026 · Thüringen"
	Teaser   string

	frags *articleFrags // the cached view's fragments (nil when not cached)
}

type groupView struct {
	Name  string
	Items []itemView
	// Markers where Prepare inserts the group's item blocks, rendered per
	// article (one per line in HTML, a blank line between them in text).
	ItemsHTML, ItemsText string
}

// recipientView holds per-recipient values; in Prepare they are sentinels
// that Render replaces.
type recipientView struct {
	Greeting       string // ", Name" or ""
	Email          string
	UnsubscribeURL string
	PreferencesURL string
}

// otherGroup is the heading for articles without any topic.
const otherGroup = "Weitere Meldungen"

// groupArticles builds the items in display order and their topic groups.
// An article appears once: under the first of the chosen topics it has,
// else under its own first topic, else under "Weitere Meldungen". Groups of
// chosen topics come in the subscriber's order, then other topics in order of
// first appearance, "Weitere Meldungen" last; items keep their order (newest
// first) within a group.
//
// views are the articles' cleaned views (Set.articleViews); names are the
// chosen topics' cleaned names.
func groupArticles(articles []Article, chosen []Named, names []string, views []*articleView) ([]itemView, []groupView) {
	// A digest has a few groups: a slice searched by slug beats a map.
	type group struct {
		code, name string
		n          int // items
	}
	groups := make([]group, 0, len(chosen)+4)
	find := func(code string) int {
		for g := range groups {
			if groups[g].code == code {
				return g
			}
		}
		return -1
	}
	for i, t := range chosen {
		if find(t.Code) < 0 {
			groups = append(groups, group{code: t.Code, name: names[i]})
		}
	}
	const rest = -1                  // "Weitere Meldungen", last
	in := make([]int, len(articles)) // each article's group
	restN := 0
	for i, a := range articles {
		g := rest
		for _, t := range chosen {
			if hasTopic(a, t.Code) {
				g = find(t.Code)
				break
			}
		}
		if g == rest && len(a.Topics) > 0 {
			t := a.Topics[0]
			if g = find(t.Code); g < 0 {
				g = len(groups)
				groups = append(groups, group{code: t.Code, name: cleanLine(t.Name, maxNameRunes)})
			}
		}
		if g == rest {
			restN++
		} else {
			groups[g].n++
		}
		in[i] = g
	}
	if restN > 0 {
		groups = append(groups, group{name: otherGroup, n: restN})
		for i := range in {
			if in[i] == rest {
				in[i] = len(groups) - 1
			}
		}
	}

	items := make([]itemView, 0, len(articles))
	nonEmpty := 0
	for _, g := range groups {
		if g.n > 0 {
			nonEmpty++
		}
	}
	out := make([]groupView, 0, nonEmpty)
	for gi, g := range groups {
		if g.n == 0 {
			continue
		}
		start := len(items)
		for i := range articles {
			if in[i] != gi {
				continue
			}
			it := itemView{articleView: views[i]}
			it.N = len(items) + 1
			it.ShowKicker = it.Kicker != "" && !strings.EqualFold(it.Kicker, g.name)
			items = append(items, it)
		}
		// A group's items are contiguous in items, which never grows
		// beyond its capacity: the group shares them.
		out = append(out, groupView{Name: g.name, Items: items[start:len(items):len(items)]})
	}
	return items, out
}

func hasTopic(a Article, slug string) bool {
	for _, t := range a.Topics {
		if t.Code == slug {
			return true
		}
	}
	return false
}

// newArticleView cleans a for display. It reads exactly the fields that
// articleKey covers.
func newArticleView(a Article) *articleView {
	it := &articleView{
		Kicker: strings.TrimSuffix(feedText(a.Kicker, maxKickerRunes), ":"),
		Title:  feedText(a.Title, maxTitleRunes),
		URL:    webURL(a.URL),
		Teaser: feedTeaser(a.Teaser),
	}
	if it.Title == "" {
		it.Title = "(ohne Titel)"
	}
	it.Headline = it.Title
	if it.Kicker != "" {
		it.Headline = it.Kicker + ": " + it.Title
	}
	meta := make([]string, 0, 1+len(a.Regions))
	if !a.PublishedAt.IsZero() {
		meta = append(meta, GermanDate(a.PublishedAt))
	}
	var regions []string
	for _, r := range a.Regions {
		if n := cleanLine(r.Name, maxNameRunes); n != "" {
			regions = append(regions, n)
		}
	}
	if len(regions) > 0 {
		meta = append(meta, strings.Join(regions, ", "))
	}
	it.Meta = strings.Join(meta, " · ")
	return it
}

package templates

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// maxCachedBytes bounds the fragment cache by the bytes of the text it
// holds (views and fragments): when it reaches this size it is emptied, so a
// long-running daemon keeps flat memory. A bound by count was too small for
// the text fragments, which are kept per position number (1 … 30): a weekly
// edition of 2,000 fresh articles holds about 17 MB of fragments, and a
// bound of 20,000 entries emptied the cache again and again, so that most
// fragments were rendered many times (BENCHMARKS.md, "Issue 12: a fragment
// cache bounded by bytes").
const maxCachedBytes = 32 << 20

// articleKey is every input of an article's view and fragments: the raw
// fields newItemView reads. Two articles with equal keys render
// identically; a changed field (a corrected teaser, a new region) is a
// new key, so a stale fragment is never served.
type articleKey struct {
	id                         int64
	url, kicker, title, teaser string
	sec                        int64 // PublishedAt as an instant (GermanDate converts to Berlin time)
	nsec                       int
	hasPublished               bool   // PublishedAt is not the zero time
	regions                    string // region names, each length-prefixed
}

func keyOf(a Article) articleKey {
	k := articleKey{id: a.ID, url: a.URL, kicker: a.Kicker, title: a.Title, teaser: a.Teaser}
	if !a.PublishedAt.IsZero() {
		k.hasPublished = true
		k.sec, k.nsec = a.PublishedAt.Unix(), a.PublishedAt.Nanosecond()
	}
	if len(a.Regions) > 0 {
		n := 0
		for _, r := range a.Regions {
			n += len(r.Name) + 4
		}
		b := make([]byte, 0, n)
		for _, r := range a.Regions {
			b = strconv.AppendInt(b, int64(len(r.Name)), 10)
			b = append(b, ':')
			b = append(b, r.Name...)
		}
		k.regions = string(b)
	}
	return k
}

// fragmentKind names one of the per-article templates.
type fragmentKind uint8

const (
	fragTocHTML    fragmentKind = iota // "toc-line": article only
	fragItemHTML                       // "item": article and ShowKicker
	fragTocText                        // "toc-line.txt": article and N
	fragItemText                       // "item.txt": article and N
	fragFooterHTML                     // "footer": the Site alone (zero article key)
	fragFooterText                     // "footer.txt": the Site alone
	fragFooterWeb                      // "footer" of the browser view
)

// fragmentKey is every input of one rendered fragment besides the article:
// which template, and the digest-dependent fields that template shows (n for
// the text fragments, showKicker for the HTML item; zero where not shown).
// An article's fragments are kept with its cached view (articleFrags), so
// that a lookup hashes no article text and touches one small map.
type fragmentKey struct {
	kind       fragmentKind
	n          int
	showKicker bool
}

// fragmentCache holds cleaned article views and rendered fragments across
// Prepare calls. It is safe for concurrent use; two goroutines missing the
// same key both render it and store equal values.
type fragmentCache struct {
	mu    sync.RWMutex
	views map[int64]viewEntry    // by article ID; the key says which version
	frags map[fragmentKey]string // the footers
	bytes atomic.Int64           // text held: views, footers and the views' articleFrags
}

// articleFrags are the rendered fragments of one cached article view, in
// fixed places so that one lock gives all four fragments of an item: the
// contents line (HTML), the item block with and without its kicker (HTML),
// and the text contents line and item block by position number N (1 … 30).
// Each is kept with the separator that follows it in a run ("\n", or
// "\n\n" after a text item block), so a run is its parts one after the
// other, the last cut before its separator. An empty string is a fragment
// not rendered yet.
type articleFrags struct {
	mu       sync.RWMutex
	toc      string
	item     [2]string // by ShowKicker
	tocText  []string  // by N
	itemText []string  // by N
}

func newFragmentCache() *fragmentCache {
	return &fragmentCache{views: map[int64]viewEntry{}, frags: map[fragmentKey]string{}}
}

// viewEntry is a cached view and the key of the article it shows.
type viewEntry struct {
	key  articleKey
	view *articleView
}

// matches reports whether keyOf(a) would be k, without building it.
func (k *articleKey) matches(a Article) bool {
	if k.id != a.ID || k.url != a.URL || k.kicker != a.Kicker || k.title != a.Title || k.teaser != a.Teaser ||
		k.hasPublished == a.PublishedAt.IsZero() {
		return false
	}
	if k.hasPublished && (k.sec != a.PublishedAt.Unix() || k.nsec != a.PublishedAt.Nanosecond()) {
		return false
	}
	rest := k.regions
	for _, r := range a.Regions {
		n := strconv.Itoa(len(r.Name))
		if len(rest) < len(n)+1+len(r.Name) || rest[:len(n)] != n || rest[len(n)] != ':' || rest[len(n)+1:len(n)+1+len(r.Name)] != r.Name {
			return false
		}
		rest = rest[len(n)+1+len(r.Name):]
	}
	return rest == ""
}

// footer returns the cached footer k.
func (c *fragmentCache) footer(k fragmentKey) (string, bool) {
	c.mu.RLock()
	f, ok := c.frags[k]
	c.mu.RUnlock()
	return f, ok
}

// counted adds n bytes of fragments held by an article's articleFrags to
// the cache's size, first emptying the cache when it is full (the article
// keeps its own fragments).
func (c *fragmentCache) counted(n int) {
	if c.size() >= maxCachedBytes {
		c.store(nil, nil, nil, "")
	}
	c.bytes.Add(int64(n))
}

// store adds a view or a footer (whichever is non-nil), first emptying
// the cache when it is full. A view stored gets its own fragments; store
// returns it.
func (c *fragmentCache) store(ak *articleKey, v *articleView, fk *fragmentKey, f string) *articleView {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.bytes.Load() >= maxCachedBytes {
		clear(c.views)
		clear(c.frags)
		c.bytes.Store(0)
	}
	if ak != nil {
		v.frags = &articleFrags{}
		c.views[ak.id] = viewEntry{key: *ak, view: v}
		c.bytes.Add(int64(ak.size() + v.size()))
	}
	if fk != nil {
		c.frags[*fk] = f
		c.bytes.Add(int64(len(f)))
	}
	return v
}

// size is the number of bytes of text the cache holds.
func (c *fragmentCache) size() int { return int(c.bytes.Load()) }

// entries is the number of views and footers the cache holds.
func (c *fragmentCache) entries() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.views) + len(c.frags)
}

// size is the bytes of text a key holds, with a fixed amount for the rest.
func (k *articleKey) size() int {
	return len(k.url) + len(k.kicker) + len(k.title) + len(k.teaser) + len(k.regions) + 64
}

// size is the bytes of text a view holds, with a fixed amount for the rest.
func (v *articleView) size() int {
	return len(v.Kicker) + len(v.Title) + len(v.Headline) + len(v.URL) + len(v.Meta) + len(v.Teaser) + 128
}

// articleViews returns the articles' cleaned views, from the cache where
// it has them (one read lock for all). While the CSS is being collected
// (s.frags is nil) nothing is cached.
func (s *Set) articleViews(articles []Article) []*articleView {
	views := make([]*articleView, len(articles))
	if s.frags == nil {
		for i, a := range articles {
			views[i] = newArticleView(a)
		}
		return views
	}
	missing := false
	s.frags.mu.RLock()
	for i, a := range articles {
		if e, ok := s.frags.views[a.ID]; ok && e.key.matches(a) {
			views[i] = e.view
		} else {
			missing = true
		}
	}
	s.frags.mu.RUnlock()
	if missing {
		for i, a := range articles {
			if views[i] == nil {
				k := keyOf(a)
				views[i] = s.frags.store(&k, newArticleView(a), nil, "")
			}
		}
	}
	return views
}

// fragmentRun is what a fragment marker stands for: its parts written one
// after the other (each but the last ends with the run's separator).
type fragmentRun struct {
	parts []string
}

// Separators between the fragments of a run.
const (
	sepLine  = "\n"   // contents lines, HTML item blocks
	sepBlank = "\n\n" // text item blocks
)

// run is the fragment run of parts, which all end with sep: the last is cut
// before it.
func run(parts []string, sep string) fragmentRun {
	if n := len(parts); n > 0 {
		parts[n-1] = parts[n-1][:len(parts[n-1])-len(sep)]
	}
	return fragmentRun{parts: parts}
}

// fragmentRuns are the runs of one part (HTML or text), indexed by marker.
type fragmentRuns []fragmentRun

// fillFragments renders (or takes from the cache) the per-article fragments
// of v: the contents lines (one per line) and each group's item blocks (one
// per line in HTML, separated by a blank line in text), then the footers.
// With markers it puts the markers for them into v, for a template pass;
// expand replaces the markers after the template has run, so the large
// fragments never pass through a template again. Prepare (skeleton.go)
// needs no markers.
func (s *Set) fillFragments(v *digestView, buf *bytes.Buffer, markers bool) (html, text fragmentRuns, err error) {
	n := len(v.Items)
	// One backing array per part: the contents lines, then the item blocks
	// in item order, which is group order (groupArticles).
	hp, tp := make([]string, 2*n), make([]string, 2*n)
	for i := range v.Items {
		if err := s.itemFragments(buf, &v.Items[i], &hp[i], &hp[n+i], &tp[i], &tp[n+i]); err != nil {
			return nil, nil, err
		}
	}
	html = make(fragmentRuns, 0, 2+len(v.Groups))
	text = make(fragmentRuns, 0, 2+len(v.Groups))
	if markers {
		v.TocHTML, v.TocText = s.fragmentMarker(len(html)), s.fragmentMarker(len(text))
	}
	html, text = append(html, run(hp[:n:n], sepLine)), append(text, run(tp[:n:n], sepLine))
	start := n
	for g := range v.Groups {
		gv := &v.Groups[g]
		end := start + len(gv.Items)
		if markers {
			gv.ItemsHTML, gv.ItemsText = s.fragmentMarker(len(html)), s.fragmentMarker(len(text))
		}
		html = append(html, run(hp[start:end:end], sepLine))
		text = append(text, run(tp[start:end:end], sepBlank))
		start = end
	}
	footerKind := fragFooterHTML
	if v.Web {
		footerKind = fragFooterWeb
	}
	footer, err := s.footer(buf, v.siteView, footerKind)
	if err != nil {
		return nil, nil, err
	}
	footerText, err := s.footer(buf, v.siteView, fragFooterText)
	if err != nil {
		return nil, nil, err
	}
	if markers {
		v.FooterHTML, v.FooterText = s.fragmentMarker(len(html)), s.fragmentMarker(len(text))
	}
	html, text = append(html, fragmentRun{parts: []string{footer}}), append(text, fragmentRun{parts: []string{footerText}})
	return html, text, nil
}

// itemFragments sets the four fragments of item it (contents line and item
// block, HTML and text), from its cached view's fragments where they are
// there (one read lock for all four), rendering and keeping the others.
func (s *Set) itemFragments(buf *bytes.Buffer, it *itemView, toc, item, tocText, itemText *string) error {
	a := it.frags
	kick := 0
	if it.ShowKicker {
		kick = 1
	}
	if a != nil {
		a.mu.RLock()
		*toc, *item = a.toc, a.item[kick]
		if it.N < len(a.tocText) {
			*tocText, *itemText = a.tocText[it.N], a.itemText[it.N]
		}
		a.mu.RUnlock()
		if *toc != "" && *item != "" && *tocText != "" && *itemText != "" {
			return nil
		}
	}
	var err error
	render := func(dst *string, k fragmentKey, sep string) {
		if *dst == "" && err == nil {
			*dst, err = s.renderFragment(buf, it, k)
			*dst += sep
		}
	}
	render(toc, fragmentKey{kind: fragTocHTML}, sepLine)
	render(item, fragmentKey{kind: fragItemHTML, showKicker: it.ShowKicker}, sepLine)
	render(tocText, fragmentKey{kind: fragTocText, n: it.N}, sepLine)
	render(itemText, fragmentKey{kind: fragItemText, n: it.N}, sepBlank)
	if err != nil || a == nil || s.frags == nil {
		return err // not cached while the CSS is being collected
	}
	added := 0
	keep := func(dst *string, f string) {
		if *dst == "" {
			*dst = f
			added += len(f)
		}
	}
	a.mu.Lock()
	keep(&a.toc, *toc)
	keep(&a.item[kick], *item)
	if it.N >= len(a.tocText) {
		a.tocText = append(a.tocText, make([]string, it.N+1-len(a.tocText))...)
		a.itemText = append(a.itemText, make([]string, it.N+1-len(a.itemText))...)
	}
	keep(&a.tocText[it.N], *tocText)
	keep(&a.itemText[it.N], *itemText)
	a.mu.Unlock()
	s.frags.counted(added)
	return nil
}

// fragmentMarker is the text a template prints for fragment run i:
// sentinel, "f", the decimal index and "_". No character of it is escaped
// by html/template in element content.
func (s *Set) fragmentMarker(i int) string {
	return s.sentinel + "f" + strconv.Itoa(i) + "_"
}

// size is the number of bytes the runs add.
func (runs fragmentRuns) size() int {
	n := 0
	for _, r := range runs {
		for _, p := range r.parts {
			n += len(p)
		}
	}
	return n
}

// expand copies out to a new slice with every fragment marker replaced by
// its run; recipient markers stay for split.
func (s *Set) expand(out []byte, runs fragmentRuns) ([]byte, error) {
	res := make([]byte, 0, len(out)+runs.size())
	sent := []byte(s.sentinel + "f")
	for {
		i := bytes.Index(out, sent)
		if i < 0 {
			break
		}
		res = append(res, out[:i]...)
		rest := out[i+len(sent):]
		end := bytes.IndexByte(rest, '_')
		k, err := strconv.Atoi(string(rest[:max(end, 0)]))
		if end < 0 || err != nil || k < 0 || k >= len(runs) {
			return nil, fmt.Errorf("templates: broken fragment marker at byte %d", len(res))
		}
		for _, p := range runs[k].parts {
			res = append(res, p...)
		}
		out = rest[end+1:]
	}
	return append(res, out...), nil
}

var fragmentTemplates = [...]string{
	fragTocHTML:  "toc-line",
	fragItemHTML: "item",
	fragTocText:  "toc-line.txt",
	fragItemText: "item.txt",

	fragFooterHTML: "footer",
	fragFooterText: "footer.txt",
	fragFooterWeb:  "footer",
}

// footer returns footer k of the site, rendering and caching it on a miss.
func (s *Set) footer(buf *bytes.Buffer, site siteView, k fragmentKind) (string, error) {
	fk := fragmentKey{kind: k}
	if s.frags != nil {
		if f, ok := s.frags.footer(fk); ok {
			return f, nil
		}
	}
	f, err := s.renderFragment(buf, site, fk)
	if err == nil && s.frags != nil {
		s.frags.store(nil, nil, &fk, f)
	}
	return f, err
}

// renderFragment renders the fragment k of data.
func (s *Set) renderFragment(buf *bytes.Buffer, data any, k fragmentKey) (string, error) {
	buf.Reset()
	name := fragmentTemplates[k.kind]
	var err error
	switch k.kind {
	case fragTocHTML, fragItemHTML, fragFooterHTML, fragFooterWeb:
		err = s.html.ExecuteTemplate(buf, name, data)
	default:
		err = s.text.ExecuteTemplate(buf, name, data)
	}
	if err != nil {
		return "", fmt.Errorf("templates: render %s: %w", name, err)
	}
	out := buf.Bytes()
	if k.kind != fragTocText && k.kind != fragItemText {
		// html/template writes "+" as "&#43;" (3 to 5 times per portal
		// URL, each link written three times); a literal "+" means the
		// same in element text and in a quoted attribute. "&amp;#43;"
		// (an escaped "&#43;" from a feed) does not contain "&#43;".
		out = bytes.ReplaceAll(out, []byte("&#43;"), []byte("+"))
	}
	return string(out), nil
}

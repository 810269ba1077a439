package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net/mail"
	"net/url"
	"strings"
	texttemplate "text/template"
	"time"
)

//go:embed email
var emailFS embed.FS

// Named is a region ("DE-TH", "Thüringen"; "DE", "Bundesweit") or a topic
// ("it-sicherheit", "IT-Sicherheit").
type Named struct{ Code, Name string }

// Article is one news item as it came from a feed. Kicker, Title, Teaser and
// URL are untrusted raw text and may contain markup, entities or line breaks.
type Article struct {
	ID                         int64
	URL, Kicker, Title, Teaser string
	PublishedAt                time.Time
	Regions                    []Named
	Topics                     []Named
}

// Digest is what a group of subscribers with identical choices and history
// share. It is rendered once by Prepare.
type Digest struct {
	Cadence  string    // "weekly" or "daily"
	Edition  string    // "2026-W08" (ISO week, weekly) or "2026-02-19" (daily)
	At       time.Time // run time
	Articles []Article // newest first, already capped
	More     int       // further matching articles cut by the cap
	Regions  []Named   // the subscribers' chosen regions; empty = all regions
	Topics   []Named   // the subscribers' chosen topics; empty = all topics
	// ArchiveURL is the signed, non-personal browser view of this digest
	// ("Im Browser ansehen"); empty leaves the link out. It must be an
	// absolute http(s) URL.
	ArchiveURL string
}

// Site is the newsletter's fixed identity, shown in every mail.
type Site struct {
	Name      string // newsletter name, e.g. "Kommune21 Digest"
	PortalURL string // "und N weitere Artikel" links here
	Imprint   string // multi-line imprint (§ 5 DDG), newlines kept
	ReplyTo   string // reply address shown in the footer
}

// Recipient holds the per-recipient values filled into a prepared digest.
// Name is untrusted; an empty Name gives the neutral greeting "Guten Tag,".
type Recipient struct {
	Name           string
	Email          string
	UnsubscribeURL string
	PreferencesURL string
}

// ErrNoArticles is returned by Prepare for a digest without articles: such a
// digest is not sent (the delivery is skipped).
var ErrNoArticles = errors.New("digest has no articles")

// Set holds the parsed templates and the inlined CSS. It is built once by New
// and is safe for concurrent use.
type Set struct {
	site     siteView
	html     *htmltemplate.Template
	text     *texttemplate.Template
	styles   *styler
	sentinel string // random, unguessable marker for per-recipient slots
	// frags caches per-article views and fragments across Prepare calls
	// (see fragments.go); nil while the CSS is being collected.
	frags *fragmentCache
	// skels caches the digest skeletons by shape (skeleton.go); urlAttr
	// escapes a URL for an href attribute.
	skels    skeletons
	urlAttr  *htmltemplate.Template
	words    wordings     // what each distinct choice of regions and topics says
	editions editionCache // how the last few editions are named
}

// siteView is Site cleaned once for display.
type siteView struct {
	SiteName, PortalURL, PortalHost, ReplyTo string
	Imprint                                  []string
	// Web is set for the browser view (WebView): no preheader, greeting,
	// address, personal links, "Im Browser ansehen" or "antworten Sie auf
	// diese E-Mail".
	Web bool
}

// New parses all embedded templates and inlines the CSS, once. It fails on a
// broken template or an unusable Site so that a bad build or config stops the
// program at start, not at the first send.
func New(site Site) (*Set, error) {
	sub, err := fs.Sub(emailFS, "email")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return parseSet(sub, site)
}

// parseSet builds a Set from the template files in fsys (the embedded email
// directory in production, a broken copy in tests).
func parseSet(fsys fs.FS, site Site) (*Set, error) {
	sv, err := checkSite(site)
	if err != nil {
		return nil, err
	}
	css, err := fs.ReadFile(fsys, "style.css")
	if err != nil {
		return nil, fmt.Errorf("templates: read style.css: %w", err)
	}
	outlook, err := fs.ReadFile(fsys, "outlook.css")
	if err != nil {
		return nil, fmt.Errorf("templates: read outlook.css: %w", err)
	}
	mso := newMSO(string(outlook))
	s := &Set{site: sv, styles: newStyler(string(css), mso.css)}
	if s.sentinel, err = newSentinel(); err != nil {
		return nil, err
	}
	s.html, err = htmltemplate.New("").Funcs(htmltemplate.FuncMap{
		"css":       s.styles.attr,
		"headCSS":   s.styles.head,
		"mso":       mso.snippet,
		"msoButton": mso.button,
	}).ParseFS(fsys, "*.html")
	if err != nil {
		return nil, fmt.Errorf("templates: parse HTML: %w", err)
	}
	s.text, err = texttemplate.New("").Funcs(texttemplate.FuncMap{
		"wrap":      s.wrapFunc,
		"hang":      func(prefix, s string) string { return hangText(prefix, s, textWidth) },
		"underline": s.underlineFunc,
	}).ParseFS(fsys, "*.txt")
	if err != nil {
		return nil, fmt.Errorf("templates: parse text: %w", err)
	}
	for _, name := range []string{"digest.html", "toc-line", "item", "confirm.html", "links.html"} {
		if s.html.Lookup(name) == nil {
			return nil, fmt.Errorf("templates: %s missing", name)
		}
	}
	for _, name := range []string{"digest.txt", "toc-line.txt", "item.txt", "subject.txt", "confirm.txt", "confirm_subject.txt", "links.txt", "links_subject.txt"} {
		if s.text.Lookup(name) == nil {
			return nil, fmt.Errorf("templates: %s missing", name)
		}
	}
	if s.urlAttr, err = newURLAttrTemplate(); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	if err := s.inlineCSS(); err != nil {
		return nil, err
	}
	s.frags = newFragmentCache() // only now: fragments carry the inlined styles
	if err := s.selfTest(); err != nil {
		return nil, err
	}
	return s, nil
}

// textWidth is where the plain-text part wraps.
const textWidth = 72

func checkSite(site Site) (siteView, error) {
	sv := siteView{SiteName: cleanLine(site.Name, maxNameRunes)}
	if sv.SiteName == "" {
		return sv, errors.New("templates: site name is empty: set the newsletter name")
	}
	sv.PortalURL = webURL(site.PortalURL)
	if sv.PortalURL == "" {
		return sv, fmt.Errorf("templates: portal URL %q: want an absolute https:// URL", site.PortalURL)
	}
	u, _ := url.Parse(sv.PortalURL)
	sv.PortalHost = strings.TrimPrefix(u.Hostname(), "www.")
	if site.ReplyTo != "" {
		a, err := mail.ParseAddress(site.ReplyTo)
		if err != nil || strings.ContainsAny(a.Address, "\r\n") {
			return sv, fmt.Errorf("templates: reply address %q: want a plain address like redaktion@example.org", site.ReplyTo)
		}
		sv.ReplyTo = a.Address
	}
	for _, line := range strings.Split(strings.ReplaceAll(site.Imprint, "\r\n", "\n"), "\n") {
		if line = cleanLine(line, 200); line != "" {
			sv.Imprint = append(sv.Imprint, line)
		}
	}
	return sv, nil
}

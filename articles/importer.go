package articles

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/kommune21/digest/internal/redact"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/taxonomy"
)

// DefaultMaxBytes is the largest feed an Importer reads, from a file or a URL.
const DefaultMaxBytes = 8 << 20

// DefaultTimeout bounds one feed download.
const DefaultTimeout = 30 * time.Second

// ErrTooLarge is returned for a feed over the Importer's size limit.
var ErrTooLarge = errors.New("feed too large")

// Result counts what an import of one feed did.
type Result struct {
	Source      string // the file or URL
	Format      string // rss, atom or json; empty when not modified
	New         int    // articles seen for the first time
	Updated     int    // known articles whose text, date or tags changed
	Unchanged   int    // known articles with nothing new
	NotModified bool   // the server answered 304 Not Modified: nothing was read
	Transcoded  bool   // the feed was not UTF-8 and declared no encoding; read as Windows-1252
}

// Importer reads feeds from files or URLs into the article store, tagging every
// article. It is safe for concurrent use.
type Importer struct {
	db     *store.DB
	store  *Store
	tagger *Tagger

	// Client fetches URLs (default: an http.Client with DefaultTimeout).
	Client *http.Client
	// MaxBytes is the size limit of one feed (default DefaultMaxBytes).
	MaxBytes int64
	// UserAgent is sent with every request.
	UserAgent string
}

// NewImporter returns an importer that stores into db and tags with tagger.
func NewImporter(db *store.DB, tagger *Tagger) *Importer {
	return &Importer{
		db: db, store: NewStore(db), tagger: tagger,
		Client:    &http.Client{Timeout: DefaultTimeout},
		MaxBytes:  DefaultMaxBytes,
		UserAgent: "digest feed importer (+https://github.com/kommune21/digest)",
	}
}

// NewDefaultImporter loads the taxonomy from db and returns an importer with
// the embedded gazetteer and topic rules.
func NewDefaultImporter(ctx context.Context, db *store.DB) (*Importer, error) {
	set, err := taxonomy.NewStore(db).Load(ctx)
	if err != nil {
		return nil, err
	}
	tagger, err := DefaultTagger(set)
	if err != nil {
		return nil, err
	}
	return NewImporter(db, tagger), nil
}

// IsURL reports whether src names an http or https URL rather than a file.
func IsURL(src string) bool {
	return strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://")
}

// Import reads the feed at src (an http(s) URL or a file path) and stores its
// items as of time at (the injectable clock: ingested_at of new articles, the
// updated_at of changed ones). URLs are fetched with conditional GET: a 304
// answer stores nothing and returns NotModified. The whole feed is stored in
// one transaction; a feed that cannot be read or parsed stores nothing and
// returns an error naming src and the position (*ParseError).
func (im *Importer) Import(ctx context.Context, src string, at time.Time) (Result, error) {
	if IsURL(src) {
		return im.importURL(ctx, src, at)
	}
	data, err := im.readFile(src)
	if err != nil {
		return Result{Source: src}, err
	}
	return im.ImportFeed(ctx, src, "", data, at)
}

// ImportFeed stores a feed document that is already in memory (the embedded
// SampleFeed, a test fixture). source names it in errors and in the article's
// source column; base resolves relative links (may be empty).
func (im *Importer) ImportFeed(ctx context.Context, source, base string, data []byte, at time.Time) (Result, error) {
	return im.store1(ctx, source, base, data, at, nil)
}

func (im *Importer) store1(ctx context.Context, source, base string, data []byte, at time.Time, after func(tx *sqlx.Tx) error) (Result, error) {
	res := Result{Source: source}
	if int64(len(data)) > im.maxBytes() {
		return res, im.tooLarge(source, int64(len(data)))
	}
	feed, err := ParseFeed(source, base, data)
	if err != nil {
		return res, err
	}
	res.Format, res.Transcoded = feed.Format, feed.Transcoded
	err = im.db.Tx(ctx, func(tx *sqlx.Tx) error {
		for _, it := range feed.Items {
			tags := im.tagger.Tag(Text{Kicker: it.Kicker, Title: it.Title, Teaser: it.Teaser, Content: it.Content, Categories: it.Categories})
			o, err := im.store.upsert(ctx, tx, it, tags, source, at)
			if err != nil {
				return err
			}
			switch o {
			case added:
				res.New++
			case changed:
				res.Updated++
			default:
				res.Unchanged++
			}
		}
		if after != nil {
			return after(tx)
		}
		return nil
	})
	if err != nil {
		return Result{Source: source}, fmt.Errorf("import %s: %w (nothing from this feed was stored)", SourceName(source), err)
	}
	return res, nil
}

func (im *Importer) maxBytes() int64 {
	if im.MaxBytes > 0 {
		return im.MaxBytes
	}
	return DefaultMaxBytes
}

func (im *Importer) tooLarge(source string, size int64) error {
	what := "is"
	if size > im.maxBytes() && size == im.maxBytes()+1 {
		what = "is more than"
		size = im.maxBytes()
	}
	return fmt.Errorf("feed %s %s %s, over the limit of %s: %w; nothing was imported (a portal feed should list recent items only)",
		SourceName(source), what, byteSize(size), byteSize(im.maxBytes()), ErrTooLarge)
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func (im *Importer) readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("feed file: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > im.maxBytes() {
		return nil, im.tooLarge(path, st.Size())
	}
	data, err := io.ReadAll(io.LimitReader(f, im.maxBytes()+1))
	if err != nil {
		return nil, fmt.Errorf("read feed %s: %w", path, err)
	}
	if int64(len(data)) > im.maxBytes() {
		return nil, im.tooLarge(path, int64(len(data)))
	}
	return data, nil
}

// importURL fetches a feed with conditional GET and stores it together with
// the new validators, so that a failed import fetches the whole feed again.
func (im *Importer) importURL(ctx context.Context, src string, at time.Time) (Result, error) {
	res := Result{Source: src}
	prev, err := im.store.feedState(ctx, src)
	if err != nil {
		return res, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return res, fmt.Errorf("feed URL %s: %w", SourceName(src), redact.Error(err, src))
	}
	req.Header.Set("User-Agent", im.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	if prev.ETag != "" {
		req.Header.Set("If-None-Match", prev.ETag)
	}
	if prev.LastModified != "" {
		req.Header.Set("If-Modified-Since", prev.LastModified)
	}
	client := im.Client
	if client == nil {
		client = &http.Client{Timeout: DefaultTimeout}
	}
	c := *client // a copy: the redirect rule is the importer's, whatever client it was given
	c.CheckRedirect = redirectPolicy(client.CheckRedirect)
	resp, err := c.Do(req)
	if err != nil {
		var re *RedirectError
		if errors.As(err, &re) {
			return res, fmt.Errorf("fetch feed %s: %w; nothing was imported", SourceName(src), re)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL as given
		}
		return res, fmt.Errorf("fetch feed %s: %w (is the URL right and the server reachable?)", SourceName(src), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		res.NotModified = true
		return res, im.store.saveFeedState(ctx, im.db, src, prev, false, at)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return res, fmt.Errorf("fetch feed %s: the server answered %d %s (content type %q); nothing was imported", SourceName(src), resp.StatusCode, http.StatusText(resp.StatusCode), mediaType(resp.Header.Get("Content-Type")))
	case resp.ContentLength > im.maxBytes():
		return res, im.tooLarge(src, resp.ContentLength)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, im.maxBytes()+1))
	if err != nil {
		return res, fmt.Errorf("fetch feed %s: %w; nothing was imported", SourceName(src), err)
	}
	if int64(len(data)) > im.maxBytes() {
		return res, im.tooLarge(src, int64(len(data)))
	}
	st := feedState{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	base := src
	if resp.Request != nil && resp.Request.URL != nil {
		base = resp.Request.URL.String() // after redirects
	}
	return im.store1(ctx, src, base, data, at, func(tx *sqlx.Tx) error {
		return im.store.saveFeedState(ctx, tx, src, st, true, at)
	})
}

// maxRedirects is how many redirects one feed download follows.
const maxRedirects = 10

// RedirectError is a redirect the importer refused to follow.
type RedirectError struct {
	From, To string // the URL that redirected and the target, both redacted
	Reason   string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("refused to follow the redirect from %s to %s: %s", e.From, e.To, e.Reason)
}

// redirectPolicy follows a redirect only to http or https on port 80 or 443,
// or to the host and port of the feed URL itself: a feed must not be able to
// send digest to other services (an admin port on localhost, a metadata
// endpoint on an odd port, file: or gopher: URLs). next is the client's own
// policy, consulted after this one.
func redirectPolicy(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if len(via) == 0 {
			return nil
		}
		orig, from := via[0].URL, via[len(via)-1].URL
		refuse := func(reason string) error {
			return &RedirectError{From: SourceName(from.String()), To: SourceName(req.URL.String()), Reason: reason}
		}
		if len(via) >= maxRedirects {
			return refuse(fmt.Sprintf("more than %d redirects", maxRedirects))
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return refuse("only http and https are followed")
		}
		port := effectivePort(req.URL)
		sameOrigin := strings.EqualFold(req.URL.Hostname(), orig.Hostname()) && port == effectivePort(orig)
		if port != "80" && port != "443" && !sameOrigin {
			return refuse("only ports 80 and 443, or the feed URL's own host and port, are followed")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch u.Scheme {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

func mediaType(ct string) string {
	if t, _, err := mime.ParseMediaType(ct); err == nil {
		return t
	}
	if ct == "" {
		return "none"
	}
	return "malformed"
}

// SourceName is a feed source as it is shown to people: a URL with its
// password (user info, secret query parameters) masked, a file path as given.
func SourceName(src string) string {
	if IsURL(src) {
		return redact.URL(src)
	}
	return src
}

package articles

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
)

// Item is one entry of a parsed feed, normalised to plain text but not yet tagged.
type Item struct {
	Key        string    // the item's GUID (RSS guid, Atom id, JSON Feed id), else its link
	URL        string    // absolute http(s) link to the article
	Title      string    // title without the kicker, one line of plain text
	Kicker     string    // the part of "Kicker: Titel" before the first ": "
	Teaser     string    // description or summary as one line of plain text
	Content    string    // the full text (content:encoded, Atom content, content_html) as plain text when the feed has it besides the teaser
	Categories []string  // the item's categories (RSS category, Atom category, JSON Feed tags)
	Published  time.Time // zero when the feed gives no date
}

// Feed is a parsed feed.
type Feed struct {
	Format string // "rss", "atom" or "json"
	Title  string
	Items  []Item
	// Transcoded is set when the feed's bytes were not valid UTF-8 and declared
	// no encoding, and were read as Windows-1252 (a superset of ISO-8859-1).
	Transcoded bool
}

// ParseError is a feed that cannot be read. Line and Column are 1-based and
// zero when unknown; Offset is the byte offset when the parser gives only that.
type ParseError struct {
	Source string // as given; Error shows it with SourceName (no password)
	Line   int
	Column int
	Offset int64
	Item   int // 1-based index of the item at fault, 0 for the whole feed
	Msg    string
}

func (e *ParseError) Error() string {
	var pos string
	switch {
	case e.Line > 0 && e.Column > 0:
		pos = fmt.Sprintf(" line %d, column %d", e.Line, e.Column)
	case e.Line > 0:
		pos = fmt.Sprintf(" line %d", e.Line)
	case e.Offset > 0:
		pos = fmt.Sprintf(" byte %d", e.Offset)
	}
	if e.Item > 0 {
		pos += fmt.Sprintf(" item %d", e.Item)
	}
	return fmt.Sprintf("feed %s%s: %s; nothing from this feed was imported: fix the feed (or ask its publisher to) and import it again", SourceName(e.Source), pos, e.Msg)
}

// Limits on single fields: longer values are cut (text) or refused (keys, links).
const (
	maxKeyBytes    = 2048
	maxURLBytes    = 2048
	maxTitleRunes  = 300
	maxTeaserRunes = 1000
	// maxContentRunes bounds the full text kept for tagging: enough for a news
	// item, not for a whole report pasted into a feed.
	maxContentRunes = 20000
	maxCategories   = 50
)

var xmlEncodingRE = regexp.MustCompile(`^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// ParseFeed parses an RSS 2.0, Atom or JSON Feed document, detected by content.
// source names the file or URL in errors; base resolves relative links (it may
// be empty). A malformed or truncated document is refused whole with a
// *ParseError naming the position; so is an item without a usable key or link.
func ParseFeed(source, base string, data []byte) (*Feed, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	var (
		feed = &Feed{}
		err  error
	)
	switch {
	case len(trimmed) == 0:
		return nil, &ParseError{Source: source, Msg: "the document is empty"}
	case trimmed[0] == '{':
		feed.Format = "json"
		if err = checkJSON(source, data); err != nil {
			return nil, err
		}
	case trimmed[0] == '<':
		if !utf8.Valid(data) && declaredEncoding(trimmed) == "" {
			data, err = charmap.Windows1252.NewDecoder().Bytes(data)
			if err != nil {
				return nil, &ParseError{Source: source, Msg: "the feed is neither UTF-8 nor Windows-1252"}
			}
			feed.Transcoded = true
		}
		if err = checkXML(source, data); err != nil {
			return nil, err
		}
	default:
		return nil, &ParseError{Source: source, Line: 1, Column: 1, Msg: "this is not an RSS, Atom or JSON feed (" + describeStart(trimmed) + ")"}
	}

	gf, err := gofeed.NewParser().Parse(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			return nil, &ParseError{Source: source, Line: 1, Msg: "this is not an RSS, Atom or JSON feed (" + describeStart(trimmed) + ")"}
		}
		return nil, parserError(source, data, err)
	}
	switch gf.FeedType {
	case "rss":
		feed.Format = "rss"
	case "atom":
		feed.Format = "atom"
	}
	feed.Title = PlainText(gf.Title)
	if base == "" {
		base = gf.Link
	}
	seen := map[string]bool{}
	for i, gi := range gf.Items {
		if gi == nil {
			continue
		}
		it, err := newItem(gi, base)
		if err != nil {
			return nil, &ParseError{Source: source, Item: i + 1, Msg: err.Error()}
		}
		if seen[it.Key] { // a feed repeating an item: the first one counts
			continue
		}
		seen[it.Key] = true
		feed.Items = append(feed.Items, it)
	}
	return feed, nil
}

func newItem(gi *gofeed.Item, base string) (Item, error) {
	var it Item
	link := strings.TrimSpace(gi.Link)
	guid := strings.TrimSpace(gi.GUID)
	if link == "" && (strings.HasPrefix(guid, "http://") || strings.HasPrefix(guid, "https://")) {
		link = guid
	}
	it.Key = guid
	if it.Key == "" {
		it.Key = link
	}
	switch {
	case it.Key == "":
		return it, errors.New("the item has neither a guid (id) nor a link")
	case len(it.Key) > maxKeyBytes || !utf8.ValidString(it.Key) || strings.ContainsFunc(it.Key, isCtl):
		return it, errors.New("the item has a guid (id) that is too long or contains control characters")
	}
	u, err := absoluteURL(link, base)
	if err != nil {
		return it, fmt.Errorf("the item's link: %v", err)
	}
	it.URL = u

	it.Teaser = PlainText(gi.Description)
	if it.Teaser == "" {
		it.Teaser = PlainText(gi.Content)
	} else if c := PlainText(gi.Content); c != it.Teaser {
		it.Content = truncate(c, maxContentRunes)
	}
	it.Teaser = truncate(trimMore(it.Teaser), maxTeaserRunes)

	title := truncate(PlainText(gi.Title), maxTitleRunes)
	if title == "" {
		title = truncate(it.Teaser, 80)
	}
	if title == "" {
		return it, errors.New("the item has neither a title nor a description")
	}
	it.Kicker, it.Title = SplitKicker(title)

	seen := map[string]bool{}
	for _, c := range gi.Categories {
		c = truncate(PlainText(c), 100)
		if c != "" && !seen[strings.ToLower(c)] && len(it.Categories) < maxCategories {
			seen[strings.ToLower(c)] = true
			it.Categories = append(it.Categories, c)
		}
	}
	switch {
	case gi.PublishedParsed != nil:
		it.Published = *gi.PublishedParsed
	case gi.UpdatedParsed != nil:
		it.Published = *gi.UpdatedParsed
	}
	return it, nil
}

func isCtl(r rune) bool { return r < 0x20 || r == 0x7f }

// absoluteURL resolves link against base and accepts only http and https.
func absoluteURL(link, base string) (string, error) {
	if link == "" {
		return "", errors.New("it has no link")
	}
	if len(link) > maxURLBytes || strings.ContainsFunc(link, isCtl) {
		return "", fmt.Errorf("it is too long (%d bytes, the limit is %d) or contains control characters", len(link), maxURLBytes)
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", errors.New("it is not a URL")
	}
	if !u.IsAbs() && base != "" {
		if b, err := url.Parse(base); err == nil {
			u = b.ResolveReference(u)
		}
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("it is not an absolute http or https URL")
	}
	return u.String(), nil
}

func declaredEncoding(doc []byte) string {
	if m := xmlEncodingRE.FindSubmatch(doc); m != nil {
		return string(m[1])
	}
	return ""
}

// checkXML reads the whole document with a strict XML decoder (gofeed's own is
// lenient and would accept a truncated or mismatched feed) so that a broken feed
// is refused with its line and column. HTML entities such as &nbsp; are allowed.
func checkXML(source string, data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if roots == 0 {
				return &ParseError{Source: source, Msg: "the document has no root element"}
			}
			return nil
		}
		if err != nil {
			line, col := d.InputPos()
			msg := err.Error()
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = strings.TrimPrefix(se.Msg, "XML syntax error: ")
				if se.Msg == "unexpected EOF" {
					msg = "the feed ends in the middle (truncated download?)"
				}
			}
			return &ParseError{Source: source, Line: line, Column: col, Msg: "XML syntax error: " + xmlMessage(msg)}
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// checkJSON refuses a malformed or truncated JSON document with its position.
func checkJSON(source string, data []byte) error {
	var v any
	err := json.Unmarshal(data, &v)
	if err == nil {
		if _, ok := v.(map[string]any); !ok {
			return &ParseError{Source: source, Line: 1, Column: 1, Msg: "a JSON Feed must be a JSON object"}
		}
		return nil
	}
	return parserError(source, data, err)
}

// parserError turns a parser's error into a ParseError with the best position it gives.
func parserError(source string, data []byte, err error) error {
	var (
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		xe  *xml.SyntaxError
		off int64 = -1
	)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		return &ParseError{Source: source, Line: lineAt(data, off), Column: columnAt(data, off), Offset: off,
			Msg: fmt.Sprintf("JSON Feed field %q has a %s where the format needs a %s", te.Field, te.Value, te.Type)}
	case errors.As(err, &xe):
		return &ParseError{Source: source, Line: xe.Line, Msg: "XML syntax error: " + xmlMessage(xe.Msg)}
	}
	if off >= 0 {
		msg := "JSON syntax error: " + jsonMessage(err.Error())
		if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input") {
			msg = "JSON syntax error: the feed ends in the middle (truncated download?)"
		}
		return &ParseError{Source: source, Line: lineAt(data, off), Column: columnAt(data, off), Offset: off, Msg: msg}
	}
	return &ParseError{Source: source, Msg: "the feed cannot be parsed (" + describeStart(bytes.TrimLeft(data, " \t\r\n")) + ")"}
}

func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func columnAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return utf8.RuneCount(data[start:off]) + 1
}

// describeStart says what a document that is not a feed looks like, without
// quoting it: a reply's bytes never go into an error or a log line (a feed URL
// redirected to some other service must not make digest read it out).
func describeStart(b []byte) string {
	lower := strings.ToLower(string(b[:min(len(b), 64)]))
	switch {
	case strings.HasPrefix(lower, "<!doctype html"), strings.HasPrefix(lower, "<html"), strings.Contains(lower, "<html"):
		return fmt.Sprintf("it looks like an HTML page, %d bytes", len(b))
	case len(b) > 0 && b[0] == '<':
		return fmt.Sprintf("an XML document, %d bytes, whose root element is not rss, feed or rdf:RDF", len(b))
	case len(b) > 0 && b[0] == '{':
		return fmt.Sprintf("a JSON document, %d bytes", len(b))
	case !utf8.Valid(b[:min(len(b), 64)]):
		return fmt.Sprintf("it starts with binary data, %d bytes", len(b))
	}
	return fmt.Sprintf("it starts with neither '<' nor '{', %d bytes", len(b))
}

// xmlMessage keeps what an XML parser's message says went wrong and drops the
// names and values it quotes from the document.
func xmlMessage(msg string) string {
	switch {
	case msg == "the feed ends in the middle (truncated download?)":
		return msg
	case strings.Contains(msg, "closed by"):
		return "an element is closed by the end tag of a different element"
	case strings.HasPrefix(msg, "unexpected end element"):
		return "an end tag without its start tag"
	case strings.Contains(msg, "entity"):
		return "an unknown or malformed character entity (&…;)"
	case strings.Contains(msg, "attribute"):
		return "a malformed attribute"
	case strings.Contains(msg, "encoding") || strings.Contains(msg, "charset"):
		return "an unsupported or malformed encoding declaration"
	case strings.Contains(msg, "invalid UTF-8"):
		return "invalid UTF-8"
	case strings.HasPrefix(msg, "illegal character code U+"):
		return msg // a code point, not the document's text
	}
	if i := strings.IndexByte(msg, ':'); i >= 0 {
		msg = msg[:i] // "invalid XML name: <the name>"
	}
	if strings.ContainsAny(msg, "<>&\"'`") && !fixedXMLMessages[msg] {
		return "malformed XML"
	}
	return msg
}

// fixedXMLMessages are encoding/xml messages that quote nothing.
var fixedXMLMessages = map[string]bool{
	"expected element name after <": true, "invalid characters between </ and >": true,
	"unescaped < inside attribute value": true, "unexpected EOF": true,
}

// jsonMessage is a JSON parser's message without the character it quotes.
func jsonMessage(msg string) string {
	if i := strings.Index(msg, "invalid character "); i >= 0 {
		if j := strings.Index(msg, " looking for"); j > i {
			return "an unexpected character" + msg[j:]
		}
		if j := strings.Index(msg, " after "); j > i {
			return "an unexpected character" + msg[j:]
		}
		return "an unexpected character"
	}
	return msg
}

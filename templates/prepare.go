package templates

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Prepared is one digest rendered once, split at the per-recipient slots.
// It is read-only and safe for concurrent Render calls.
type Prepared struct {
	subject string
	html    filled
	text    filled
}

// filled is a rendered part: literal pieces (shared with the fragment
// cache and the heads, never copied per digest) and the recipient slots
// between them.
type filled struct {
	pieces []string
	slots  []slotAt // in order
	size   int      // bytes of all literal pieces
}

// slotAt is a recipient slot written before pieces[at].
type slotAt struct {
	at   int
	slot slot
}

// bytes returns the part with every recipient slot left empty.
func (f *filled) bytes() []byte {
	b := make([]byte, 0, f.size)
	for _, p := range f.pieces {
		b = append(b, p...)
	}
	return b
}

// slot is a per-recipient value: which one, escaped for the part it is in.
type slot uint8

const (
	slotGreeting slot = iota
	slotEmail
	slotUnsubscribe
	slotPreferences
	numSlots
)

// newSentinel returns a random marker prefix. Feed text cannot contain it by
// accident or design: it is never shown to anyone.
func newSentinel() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("templates: sentinel: %w", err)
	}
	return "zq" + hex.EncodeToString(b[:]), nil
}

// marker is the text a template prints for slot k: sentinel + one digit.
func (s *Set) marker(k slot) string { return s.sentinel + string(rune('0'+k)) }

func (s *Set) markers() recipientView {
	return recipientView{
		Greeting:       s.marker(slotGreeting),
		Email:          s.marker(slotEmail),
		UnsubscribeURL: s.marker(slotUnsubscribe),
		PreferencesURL: s.marker(slotPreferences),
	}
}

// split cuts a rendered part at the markers.
func (s *Set) split(out []byte) (filled, error) {
	var f filled
	sent := []byte(s.sentinel)
	for {
		i := bytes.Index(out, sent)
		if i < 0 {
			break
		}
		j := i + len(sent)
		if j >= len(out) || out[j] < '0' || out[j] >= '0'+byte(numSlots) {
			return f, fmt.Errorf("templates: broken recipient marker at byte %d", i)
		}
		f.pieces = append(f.pieces, string(out[:i]))
		f.slots = append(f.slots, slotAt{at: len(f.pieces), slot: slot(out[j] - '0')})
		f.size += i
		out = out[j+1:]
	}
	f.pieces = append(f.pieces, string(out))
	f.size += len(out)
	return f, nil
}

// Prepare renders the parts of d that all its recipients share, once.
// It returns ErrNoArticles for an empty digest and an error naming the field
// for a bad cadence or edition.
//
// It runs no template: it assembles the digest from its head (heads.go:
// the skeleton of its shape and the values of its header, intro and
// footer sentence), its preheader, browser link and group headings and
// the cached article fragments. prepareByTemplate is the same digest by a template pass.
func (s *Set) Prepare(d Digest) (*Prepared, error) {
	if len(d.Articles) == 0 || d.More < 0 {
		_, err := s.baseView(d, false) // its error, in its order (edition first)
		if err == nil {
			err = ErrNoArticles
		}
		return nil, err
	}
	w := s.wordingOf(d.Regions, d.Topics)
	v := &digestView{siteView: s.site}
	v.Items, v.Groups = groupArticles(d.Articles, d.Topics, w.topicNames, s.articleViews(d.Articles))
	archive := webURL(d.ArchiveURL)
	h, err := s.buildHead(d, w, archive != "", len(v.Groups))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer // used only for fragments missing from the cache
	htmlRuns, textRuns, err := s.fillFragments(v, &buf, false)
	if err != nil {
		return nil, err
	}
	vals := make([]string, valGroup0+len(v.Groups))
	vals[valPreheader] = preheader(v.Items)
	vals[valArchiveURL] = archive
	for g := range v.Groups {
		vals[valGroup0+g] = v.Groups[g].Name
	}
	p := &Prepared{subject: h.subject}
	if p.html, err = s.assemble(h.html, vals, htmlRuns, true); err != nil {
		return nil, err
	}
	if p.text, err = s.assemble(h.text, vals, textRuns, false); err != nil {
		return nil, err
	}
	return p, nil
}

// prepareByTemplate is Prepare by executing digest.html and digest.txt on d
// (the reference the self-test at New and the tests hold Prepare to).
func (s *Set) prepareByTemplate(d Digest) (*Prepared, error) {
	v, err := s.digestView(d, false)
	if err != nil {
		return nil, err
	}
	p := &Prepared{subject: v.Subject}
	if p.html, err = s.execute(s.html.ExecuteTemplate, "digest.html", v); err != nil {
		return nil, err
	}
	if p.text, err = s.execute(s.text.ExecuteTemplate, "digest.txt", v); err != nil {
		return nil, err
	}
	return p, nil
}

// execute runs the digest template name (HTML or text) on v, inserts the
// article fragments and splits the result at the recipient markers.
func (s *Set) execute(exec func(io.Writer, string, any) error, name string, v *digestView) (filled, error) {
	runs := v.htmlRuns
	if name == "digest.txt" {
		runs = v.textRuns
	}
	var buf bytes.Buffer
	buf.Grow(4096)
	if err := exec(&buf, name, v); err != nil {
		return filled{}, fmt.Errorf("templates: render %s: %w", name, err)
	}
	out, err := s.expand(buf.Bytes(), runs)
	if err != nil {
		return filled{}, err
	}
	return s.split(out)
}

// WebView renders the browser view of d ("Im Browser ansehen"): the
// digest's HTML without anything personal (no greeting name, address,
// preferences or unsubscribe link) and without the link to itself. It
// shares the fragment cache with Prepare.
func (s *Set) WebView(d Digest) ([]byte, error) {
	d.ArchiveURL = ""
	v, err := s.digestView(d, true)
	if err != nil {
		return nil, err
	}
	v.R = recipientView{}
	v.Intro = "Diese Ausgabe enthält " + v.CountPhrase
	if v.RegionPhrase != "" {
		v.Intro += " " + v.RegionPhrase
	}
	v.Intro += "."
	if d.More > 0 {
		v.Intro += fmt.Sprintf(" Unten finden Sie die %d neuesten, alle weiteren auf %s.", len(d.Articles), s.site.PortalHost)
	}
	genitive := "des Wochenüberblicks"
	if d.Cadence != "weekly" {
		genitive = "des Tagesüberblicks"
	}
	v.Why = "Diese Ausgabe " + genitive + " ging an alle, die ihn für " + s.wordingOf(d.Regions, d.Topics).choice + " abonniert haben."
	f, err := s.execute(s.html.ExecuteTemplate, "digest.html", v)
	if err != nil {
		return nil, err
	}
	if len(f.slots) > 0 {
		return nil, errors.New("templates: browser view has a recipient slot, want none")
	}
	return f.bytes(), nil
}

// Subject is the digest's subject line, the same for every recipient.
func (p *Prepared) Subject() string { return p.subject }

// digestView computes everything shared by the recipients of d; web for the
// browser view.
func (s *Set) digestView(d Digest, web bool) (*digestView, error) {
	v, err := s.baseView(d, web)
	if err != nil {
		return nil, err
	}
	var subj strings.Builder
	if err := s.text.ExecuteTemplate(&subj, "subject.txt", v); err != nil {
		return nil, fmt.Errorf("templates: render subject: %w", err)
	}
	v.Subject = cleanLine(subj.String(), 250)
	return v, nil
}

// baseView is digestView without the subject.
func (s *Set) baseView(d Digest, web bool) (*digestView, error) {
	ed, err := parseEdition(d.Cadence, d.Edition)
	if err != nil {
		return nil, err
	}
	if len(d.Articles) == 0 {
		return nil, ErrNoArticles
	}
	if d.More < 0 {
		return nil, fmt.Errorf("digest more %d: want 0 or more", d.More)
	}
	w := s.wordingOf(d.Regions, d.Topics)
	v := s.headView(d, w, ed)
	v.Web = web
	v.Items, v.Groups = groupArticles(d.Articles, d.Topics, w.topicNames, s.articleViews(d.Articles))
	var buf bytes.Buffer // used only for fragments missing from the cache
	if v.htmlRuns, v.textRuns, err = s.fillFragments(v, &buf, true); err != nil {
		return nil, err
	}
	v.R = s.markers()
	v.Preheader = preheader(v.Items)
	return v, nil
}

// headView is the part of d's view that its articles' own content does not
// change: edition, counts, wording (headKey lists what it depends on).
func (s *Set) headView(d Digest, w *wording, ed editionInfo) *digestView {
	v := &digestView{siteView: s.site, More: d.More, MoreText: moreCount(d.More), ArchiveURL: webURL(d.ArchiveURL)}
	total := len(d.Articles) + d.More
	v.CountPhrase = articleCount(total)
	v.RegionPhrase = w.regionPhrase
	e := s.editionWords(d, ed)
	v.CadenceName, v.EditionShort, v.EditionLabel = e.cadenceName, e.editionShort, e.editionLabel
	var intro strings.Builder // one allocation for the whole sentence
	intro.Grow(64 + len(v.CountPhrase) + len(v.RegionPhrase) + len(s.site.PortalHost))
	intro.WriteString("hier ist Ihr ")
	intro.WriteString(v.CadenceName)
	intro.WriteString(": ")
	intro.WriteString(v.CountPhrase)
	if v.RegionPhrase != "" {
		intro.WriteString(" ")
		intro.WriteString(v.RegionPhrase)
	}
	intro.WriteString(".")
	if d.More > 0 {
		intro.WriteString(" Unten finden Sie die ")
		intro.WriteString(strconv.Itoa(len(d.Articles)))
		intro.WriteString(" neuesten, alle weiteren auf ")
		intro.WriteString(s.site.PortalHost)
		intro.WriteString(".")
	}
	v.Intro = intro.String()
	v.Why = "Sie erhalten diese E-Mail, weil Sie den " + v.CadenceName + " für " +
		w.choice + " abonniert haben."
	return v
}

// preheader is the hidden preview line: the first three headlines.
func preheader(items []itemView) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return truncateRunes(items[0].Headline, 150)
	case 2:
		return truncateRunes(items[0].Headline+" · "+items[1].Headline, 150)
	}
	return truncateRunes(items[0].Headline+" · "+items[1].Headline+" · "+items[2].Headline, 150)
}

// editionWords is how a digest names its cadence and edition, the same for
// every digest of a run.
type editionWords struct {
	cadenceName  string // "Wochenüberblick", "Tagesüberblick"
	editionShort string // "KW 8", "19. Februar 2026"
	editionLabel string // "Wochenüberblick · KW 8 · 19. Februar 2026"
}

// editionKey is every input of editionWords.
type editionKey struct {
	cadence, edition string
	atSec            int64
	atNsec           int
	atSet            bool
}

// editionCache holds the editionWords of the last few editions (a run has
// one): safe for concurrent use, emptied when it holds 64.
type editionCache struct {
	mu sync.RWMutex
	m  map[editionKey]editionWords
}

// editionWords returns the words for d's cadence, edition and run date;
// ed is the parsed edition.
func (s *Set) editionWords(d Digest, ed editionInfo) editionWords {
	k := editionKey{cadence: d.Cadence, edition: d.Edition}
	if !d.At.IsZero() {
		k.atSet, k.atSec, k.atNsec = true, d.At.Unix(), d.At.Nanosecond()
	}
	s.editions.mu.RLock()
	e, ok := s.editions.m[k]
	s.editions.mu.RUnlock()
	if ok {
		return e
	}
	if d.Cadence == "weekly" {
		e.cadenceName = "Wochenüberblick"
		e.editionShort = "KW " + strconv.Itoa(ed.week)
		at := "" // the run date, when known
		if !d.At.IsZero() {
			at = " · " + GermanDate(d.At)
		}
		e.editionLabel = e.cadenceName + " · " + e.editionShort + at
	} else {
		e.cadenceName = "Tagesüberblick"
		e.editionShort = GermanDate(ed.day)
		e.editionLabel = e.cadenceName + " · " + e.editionShort
	}
	s.editions.mu.Lock()
	if s.editions.m == nil || len(s.editions.m) >= 64 {
		s.editions.m = map[editionKey]editionWords{}
	}
	s.editions.m[k] = e
	s.editions.mu.Unlock()
	return e
}

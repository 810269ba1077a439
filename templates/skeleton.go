package templates

import (
	"bytes"
	"encoding/hex"
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	"sync"
)

// A skeleton is the output of one digest template (digest.html, digest.txt
// or subject.txt) for one shape of digest, run once with markers in place of
// every per-digest value. Prepare assembles a digest from it without running
// a template: the literal pieces are shared, and only the values (escaped
// the way html/template would), the article fragments and the recipient
// slots are put in between.
//
// The shape is what changes the template's control flow: a browser link or
// not, "und N weitere" or not, the number of topic groups, a region phrase
// or not (subject). Everything else is a value.
type skeleton []skelPiece

type skelPiece struct {
	lit  string // literal text (kind skelLit)
	kind skelKind
	idx  int    // value index, fragment run index or recipient slot
	arg  string // the underline character(s) for skelUnderline
}

type skelKind uint8

const (
	skelLit       skelKind = iota
	skelValue              // a value, HTML-escaped in the HTML part, as is in text
	skelURL                // a value in an HTML attribute holding a URL
	skelWrap               // a value wrapped at textWidth ({{wrap}})
	skelUnderline          // a line of arg as long as the value ({{underline}})
	skelRun                // a fragment run (contents, a group's items, the footer)
	skelRecipient          // a per-recipient slot
)

// Value indices: the per-digest fields of digestView the templates show.
const (
	valSubject = iota
	valPreheader
	valArchiveURL
	valCadenceName
	valEditionShort
	valEditionLabel
	valCountPhrase
	valRegionPhrase
	valIntro
	valWhy
	valMoreText
	valGroup0 // the name of group g is valGroup0+g
)

type skelShape struct {
	name            string // template
	archive, more   bool
	groups          int
	region, textual bool
}

// skeletons caches the skeletons of a Set by shape. A Set has few shapes
// (the number of topic groups times four), so it is not bounded.
type skeletons struct {
	mu sync.RWMutex
	m  map[skelShape]skeleton
}

// valueMarker is the marker for value i: sentinel, "v", the index, "_".
func (s *Set) valueMarker(i int) string { return s.sentinel + "v" + strconv.Itoa(i) + "_" }

// valueIndex returns i when str is exactly value marker i.
func (s *Set) valueIndex(str string) (int, bool) {
	rest, ok := strings.CutPrefix(str, s.sentinel+"v")
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, "_")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(num)
	return i, err == nil && i >= 0
}

// wrapFunc is {{wrap}}: a value marker becomes a wrap marker for the skeleton.
func (s *Set) wrapFunc(str string) string {
	if i, ok := s.valueIndex(str); ok {
		return s.sentinel + "w" + strconv.Itoa(i) + "_"
	}
	return wrapText(str, textWidth)
}

// underlineFunc is {{underline}}: a value marker becomes an underline marker.
func (s *Set) underlineFunc(str, c string) string {
	if i, ok := s.valueIndex(str); ok {
		return s.sentinel + "u" + strconv.Itoa(i) + "." + hex.EncodeToString([]byte(c)) + "_"
	}
	return underline(str, c)
}

// skeleton returns the skeleton of shape sh, building it on first use.
func (s *Set) skeleton(sh skelShape) (skeleton, error) {
	s.skels.mu.RLock()
	sk, ok := s.skels.m[sh]
	s.skels.mu.RUnlock()
	if ok {
		return sk, nil
	}
	sk, err := s.buildSkeleton(sh)
	if err != nil {
		return nil, err
	}
	s.skels.mu.Lock()
	if s.skels.m == nil {
		s.skels.m = map[skelShape]skeleton{}
	}
	s.skels.m[sh] = sk
	s.skels.mu.Unlock()
	return sk, nil
}

func (s *Set) buildSkeleton(sh skelShape) (skeleton, error) {
	v := &digestView{siteView: s.site}
	v.Subject = s.valueMarker(valSubject)
	v.Preheader = s.valueMarker(valPreheader)
	if sh.archive {
		v.ArchiveURL = s.valueMarker(valArchiveURL)
	}
	v.CadenceName = s.valueMarker(valCadenceName)
	v.EditionShort = s.valueMarker(valEditionShort)
	v.EditionLabel = s.valueMarker(valEditionLabel)
	v.CountPhrase = s.valueMarker(valCountPhrase)
	if sh.region {
		v.RegionPhrase = s.valueMarker(valRegionPhrase)
	}
	v.Intro = s.valueMarker(valIntro)
	v.Why = s.valueMarker(valWhy)
	if sh.more {
		v.More = 1
		v.MoreText = s.valueMarker(valMoreText)
	}
	v.TocHTML, v.TocText = s.fragmentMarker(0), s.fragmentMarker(0)
	for g := range sh.groups {
		v.Groups = append(v.Groups, groupView{Name: s.valueMarker(valGroup0 + g),
			ItemsHTML: s.fragmentMarker(1 + g), ItemsText: s.fragmentMarker(1 + g)})
	}
	v.FooterHTML, v.FooterText = s.fragmentMarker(1+sh.groups), s.fragmentMarker(1+sh.groups)
	v.R = s.markers()
	var buf bytes.Buffer
	var err error
	if sh.textual {
		err = s.text.ExecuteTemplate(&buf, sh.name, v)
	} else {
		err = s.html.ExecuteTemplate(&buf, sh.name, v)
	}
	if err != nil {
		return nil, fmt.Errorf("templates: render %s: %w", sh.name, err)
	}
	return s.parseSkeleton(buf.String(), sh.textual)
}

// parseSkeleton cuts a rendered skeleton at its markers.
func (s *Set) parseSkeleton(out string, textual bool) (skeleton, error) {
	var sk skeleton
	for {
		i := strings.Index(out, s.sentinel)
		if i < 0 {
			break
		}
		if i > 0 {
			sk = append(sk, skelPiece{lit: out[:i]})
		}
		rest := out[i+len(s.sentinel):]
		if rest == "" {
			return nil, fmt.Errorf("templates: broken skeleton marker at %q", out[i:])
		}
		c := rest[0]
		if c >= '0' && c < '0'+byte(numSlots) {
			sk = append(sk, skelPiece{kind: skelRecipient, idx: int(c - '0')})
			out = rest[1:]
			continue
		}
		end := strings.IndexByte(rest, '_')
		if end < 0 {
			return nil, fmt.Errorf("templates: broken skeleton marker at %q", out[i:])
		}
		body := rest[1:end]
		p := skelPiece{}
		switch c {
		case 'v':
			p.kind = skelValue
			if textual {
				break
			}
			// The only value in an attribute is the browser link's URL:
			// anything else in an attribute or a URL would need its own
			// escaping, and is refused rather than escaped wrongly.
			if strings.HasSuffix(out[:i], `href="`) {
				if body != strconv.Itoa(valArchiveURL) {
					return nil, fmt.Errorf("templates: value %s stands in a URL attribute", body)
				}
				p.kind = skelURL
			}
		case 'w':
			p.kind = skelWrap
		case 'u':
			p.kind = skelUnderline
			num, arg, ok := strings.Cut(body, ".")
			ch, err := hex.DecodeString(arg)
			if !ok || err != nil {
				return nil, fmt.Errorf("templates: broken underline marker %q", body)
			}
			body, p.arg = num, string(ch)
		case 'f':
			p.kind = skelRun
		default:
			return nil, fmt.Errorf("templates: broken skeleton marker at %q", out[i:])
		}
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("templates: broken skeleton marker at %q", out[i:])
		}
		p.idx = n
		sk = append(sk, p)
		out = rest[end+1:]
	}
	if out != "" {
		sk = append(sk, skelPiece{lit: out})
	}
	return sk, nil
}

// digestValues are one digest's values by value index, cleaned as the
// templates see them (not yet escaped).
func digestValues(v *digestView) []string {
	vals := make([]string, valGroup0+len(v.Groups))
	vals[valSubject] = v.Subject
	vals[valPreheader] = v.Preheader
	vals[valArchiveURL] = v.ArchiveURL
	vals[valCadenceName] = v.CadenceName
	vals[valEditionShort] = v.EditionShort
	vals[valEditionLabel] = v.EditionLabel
	vals[valCountPhrase] = v.CountPhrase
	vals[valRegionPhrase] = v.RegionPhrase
	vals[valIntro] = v.Intro
	vals[valWhy] = v.Why
	vals[valMoreText] = v.MoreText
	for g := range v.Groups {
		vals[valGroup0+g] = v.Groups[g].Name
	}
	return vals
}

// assemble puts h.sk together with vals and runs into a filled part; html
// selects HTML escaping of the values.
//
// With h.static set, the values of h.sk with a non-dynamic index are taken
// from it in order (already escaped): only the dynamic ones come from vals.
func (s *Set) assemble(h headPart, vals []string, runs fragmentRuns, html bool) (filled, error) {
	sk, static := h.sk, h.static
	var f filled
	f.pieces = make([]string, 0, len(sk)+runs.count())
	f.slots = make([]slotAt, 0, 4)
	lit := func(str string) {
		if str != "" {
			f.pieces = append(f.pieces, str)
			f.size += len(str)
		}
	}
	for _, p := range sk {
		switch p.kind {
		case skelLit:
			lit(p.lit)
			continue
		case skelRecipient:
			f.slots = append(f.slots, slotAt{at: len(f.pieces), slot: slot(p.idx)})
			continue
		case skelRun:
			if p.idx >= len(runs) {
				return filled{}, fmt.Errorf("templates: fragment run %d of %d", p.idx, len(runs))
			}
			for _, part := range runs[p.idx].parts {
				lit(part)
			}
			continue
		}
		if h.static != nil && !dynamicValue(p.idx) {
			if len(static) == 0 {
				return filled{}, fmt.Errorf("templates: head has too few static values")
			}
			lit(static[0])
			static = static[1:]
			continue
		}
		val, err := s.value(p, vals, html)
		if err != nil {
			return filled{}, err
		}
		lit(val)
	}
	return f, nil
}

// value is the value piece p of a skeleton, with vals, escaped or wrapped
// for where it stands.
func (s *Set) value(p skelPiece, vals []string, html bool) (string, error) {
	if p.idx >= len(vals) {
		return "", fmt.Errorf("templates: value %d of %d", p.idx, len(vals))
	}
	val := vals[p.idx]
	switch p.kind {
	case skelValue:
		if html {
			val = htmlEscape(val)
		}
	case skelURL:
		return s.escapeURLAttr(val)
	case skelWrap:
		val = wrapText(val, textWidth)
	case skelUnderline:
		val = underline(val, p.arg)
	}
	return val, nil
}

// count is the number of parts of the runs.
func (runs fragmentRuns) count() int {
	n := 0
	for _, r := range runs {
		n += len(r.parts)
	}
	return n
}

// htmlEscape escapes s exactly as html/template escapes a string in element
// text or a quoted attribute (its htmlEscaper): NUL, quotes, "&", "+", "<"
// and ">". TestHTMLEscape_MatchesHTMLTemplate and its fuzz target hold it to
// that.
func htmlEscape(s string) string {
	i := strings.IndexAny(s, "\x00\"&'+<>")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for j := i; j < len(s); j++ {
		switch c := s[j]; c {
		case 0:
			b.WriteString("\uFFFD")
		case '"':
			b.WriteString("&#34;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// urlAttrPrefix and urlAttrSuffix frame the URL in the small template with
// which escapeURLAttr lets html/template itself escape a URL for a
// double-quoted href attribute (filter, normalisation, attribute escaping).
const urlAttrPrefix, urlAttrSuffix = `<a href="`, `">`

func (s *Set) escapeURLAttr(u string) (string, error) {
	var b strings.Builder
	if err := s.urlAttr.Execute(&b, u); err != nil {
		return "", fmt.Errorf("templates: escape URL: %w", err)
	}
	out, ok := strings.CutPrefix(b.String(), urlAttrPrefix)
	if out, ok2 := strings.CutSuffix(out, urlAttrSuffix); ok && ok2 {
		return out, nil
	}
	return "", fmt.Errorf("templates: escape URL: unexpected output %q", b.String())
}

func newURLAttrTemplate() (*htmltemplate.Template, error) {
	return htmltemplate.New("url").Parse(urlAttrPrefix + "{{.}}" + urlAttrSuffix)
}

package templates

import (
	"bytes"
	"strings"
	"sync"
)

// maxCachedHeads bounds the head cache like the fragment cache: when full
// it is emptied.
const maxCachedHeads = 20000

// A digest is its head (everything but its articles: header, edition,
// intro, contents heading, footer, for one shape) with the articles'
// cached fragments, a few per-digest values and the recipient slots in
// between. The head is the skeleton of the digest's shape with every value
// that headKey determines written in and the shared footer too, adjacent
// literals joined: what is left are the fragment runs, the values that
// differ between digests of one key (preheader, browser link, group
// headings) and the recipient slots. A digest is then a list of references
// to shared strings; Prepare copies no text but the few per-digest values.
//
// headKey is every input of a head besides the Set: the wording (a
// pointer into the wording cache, which is keyed by every region and topic
// code and name: equal pointers mean equal choices; a wording made anew
// after that cache was emptied is a new key, never a wrong one), the
// cadence and edition, the run instant (the header's date), the number of
// articles shown and cut, whether there is a browser link, and the number
// of topic groups (the shape).
type headKey struct {
	w                *wording
	cadence, edition string
	atSec            int64
	atNsec           int
	atSet            bool
	n, more, groups  int
	archive          bool
}

type head struct {
	subject    string
	html, text skeleton
}

// heads caches heads by key. It is safe for concurrent use; two goroutines
// missing the same key both build it and store equal values.
type heads struct {
	mu sync.RWMutex
	m  map[headKey]*head
}

// dynamicValue reports whether value index i differs between digests of
// one head key (so it stays a value in the head).
func dynamicValue(i int) bool {
	return i == valPreheader || i == valArchiveURL || i >= valGroup0
}

// head returns the head of key k, building it from d on a miss. It
// returns d's edition or cadence error.
func (s *Set) head(k headKey, d Digest, w *wording, buf *bytes.Buffer) (*head, error) {
	s.heads.mu.RLock()
	h, ok := s.heads.m[k]
	s.heads.mu.RUnlock()
	if ok {
		return h, nil
	}
	h, err := s.buildHead(k, d, w, buf)
	if err != nil {
		return nil, err
	}
	s.heads.mu.Lock()
	if s.heads.m == nil || len(s.heads.m) >= maxCachedHeads {
		s.heads.m = map[headKey]*head{}
	}
	s.heads.m[k] = h
	s.heads.mu.Unlock()
	return h, nil
}

func (s *Set) buildHead(k headKey, d Digest, w *wording, buf *bytes.Buffer) (*head, error) {
	ed, err := parseEdition(d.Cadence, d.Edition)
	if err != nil {
		return nil, err
	}
	v := s.headView(d, w, ed)
	region := v.RegionPhrase != ""
	vals := digestValues(v)
	sk, err := s.skeleton(skelShape{name: "subject.txt", region: region, textual: true})
	if err != nil {
		return nil, err
	}
	subj, err := s.assemble(sk, vals, nil, false)
	if err != nil {
		return nil, err
	}
	h := &head{subject: cleanLine(string(subj.bytes()), 250)}
	vals[valSubject] = h.subject
	sh := skelShape{archive: k.archive, more: d.More > 0, groups: k.groups, region: region}
	for _, part := range []struct {
		name   string
		footer fragmentKind
		dst    *skeleton
	}{{"digest.html", fragFooterHTML, &h.html}, {"digest.txt", fragFooterText, &h.text}} {
		sh.name, sh.textual = part.name, part.name == "digest.txt"
		if sk, err = s.skeleton(sh); err != nil {
			return nil, err
		}
		footer, err := s.footer(buf, s.site, part.footer)
		if err != nil {
			return nil, err
		}
		if *part.dst, err = s.resolve(sk, vals, footer, 1+k.groups, !sh.textual); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// resolve writes into sk every value that is not dynamic and the footer
// run (index footerRun), joining adjacent literals.
func (s *Set) resolve(sk skeleton, vals []string, footer string, footerRun int, html bool) (skeleton, error) {
	var out skeleton
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, skelPiece{lit: lit.String()})
			lit.Reset()
		}
	}
	for _, p := range sk {
		switch {
		case p.kind == skelLit:
			lit.WriteString(p.lit)
		case p.kind == skelRun && p.idx == footerRun:
			lit.WriteString(footer)
		case p.kind == skelRun || p.kind == skelRecipient || dynamicValue(p.idx):
			flush()
			out = append(out, p)
		default:
			val, err := s.value(p, vals, html)
			if err != nil {
				return nil, err
			}
			lit.WriteString(val)
		}
	}
	flush()
	return out, nil
}

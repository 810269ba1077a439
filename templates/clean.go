package templates

import (
	"html"
	"math"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits keep a hostile or broken feed from blowing up a digest past
// Gmail's 102 KB clipping limit.
const (
	maxNameRunes   = 100
	maxKickerRunes = 120
	maxTitleRunes  = 300
	maxTeaserRunes = 600
	maxURLBytes    = 2000
)

// cleanLine makes one line of display text from untrusted input: control and
// bidi-override characters are dropped, any run of whitespace (CR, LF, tabs)
// becomes one space, and the result is cut at max runes on a word boundary.
// It does not escape: html/template or the Render fill does that for HTML.
func cleanLine(s string, max int) string {
	if lineIsClean(s) {
		return truncateRunes(s, max) // nothing to drop: no copy
	}
	return cleanLineSlow(s, max)
}

// lineIsClean reports whether cleanLineSlow would return s unchanged
// before truncation: valid UTF-8 without U+FFFD, no control, bidi or
// invisible character, no whitespace but single spaces between words.
func lineIsClean(s string) bool {
	space := true // a leading space is dropped
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			// The rest rune by rune: s[i] starts a rune that is not ' ',
			// so the space state before it does not matter.
			return lineIsCleanRunes(s[i:])
		case c == ' ':
			if space {
				return false
			}
			space = true
		case c < ' ' || c == 0x7f: // controls, and every ASCII space but ' '
			return false
		default:
			space = false
		}
	}
	return !space || s == "" // a trailing space is dropped
}

// lineIsCleanRunes is lineIsClean rune by rune.
func lineIsCleanRunes(s string) bool {
	space := true // a leading space is dropped
	for _, r := range s {
		switch {
		case r == ' ':
			if space {
				return false
			}
			space = true
			continue
		case r == utf8.RuneError || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' ||
			unicode.IsControl(r) || isBidiControl(r) || r == '\ufeff':
			return false
		}
		space = false
	}
	return !space || s == "" // a trailing space is dropped
}

// cleanLineSlow is cleanLine by copying rune by rune.
func cleanLineSlow(s string, max int) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			continue
		case unicode.IsControl(r) || isBidiControl(r) || r == '\ufeff':
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return truncateRunes(b.String(), max)
}

// CleanLine is cleanLine without a length limit, for other places that show
// untrusted text on one line (the command line's tables): control,
// bidi-override and invisible characters dropped, whitespace runs made one
// space — the same cleaning the emails get.
func CleanLine(s string) string { return cleanLine(s, math.MaxInt) }

func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f'
}

// truncateRunes cuts s to at most max runes, preferring the last word boundary,
// and marks the cut with "…".
func truncateRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	cut := len(s)
	for i := range s {
		if n == max-1 {
			cut = i
			break
		}
		n++
	}
	s = s[:cut]
	if sp := strings.LastIndexByte(s, ' '); sp > len(s)*2/3 {
		s = s[:sp]
	}
	return strings.TrimRight(s, " ,;:-") + "…"
}

// feedText cleans a feed value: feeds often leave entities (&amp;, &#8211;)
// in their text, so they are decoded once before cleaning; the HTML part
// escapes again, the text part shows the characters.
func feedText(s string, max int) string {
	return cleanLine(html.UnescapeString(s), max)
}

// portalMoreSuffixes are the portal's own "mehr..." links at the end of a
// teaser, lower case; the digest adds its own link.
var portalMoreSuffixes = []string{"[mehr...]", "[mehr…]", "[mehr]", "mehr...", "mehr…", "[weiterlesen]", "weiterlesen...", "weiterlesen…"}

func feedTeaser(s string) string {
	s = cleanLine(html.UnescapeString(s), 4*maxTeaserRunes)
	tail := strings.ToLower(s[max(0, len(s)-20):])
	for _, suf := range portalMoreSuffixes {
		if strings.HasSuffix(tail, suf) && (len(s) == len(suf) || s[len(s)-len(suf)-1] == ' ') {
			s = strings.TrimRight(s[:len(s)-len(suf)], " ")
			break
		}
	}
	return truncateRunes(s, maxTeaserRunes)
}

// webURL returns u cleaned of whitespace and control characters when it is an
// absolute http or https URL, else "" (javascript:, data:, relative, garbage):
// such a value is never rendered as a link.
func webURL(u string) string {
	if urlIsPlain(u) {
		return u // what webURLSlow returns for it, without parsing
	}
	return webURLSlow(u)
}

// urlIsPlain reports whether u is "http://" or "https://", a host of
// letters, digits, dots and hyphens, and then only bytes that url.Parse
// accepts anywhere after the host without a check that can fail (no "%",
// no brackets, no quotes or angle brackets, no space or control byte): for
// such a u webURLSlow returns u itself.
func urlIsPlain(u string) bool {
	if len(u) > maxURLBytes {
		return false
	}
	rest, ok := strings.CutPrefix(u, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(u, "http://"); !ok {
			return false
		}
	}
	host := true
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '-':
			continue
		case host && (c == '/' || c == '?' || c == '#'):
			if i == 0 {
				return false // no host
			}
			host = false
			continue
		case host:
			return false
		case strings.IndexByte("_~!$&()*+,;=:@/?#", c) >= 0:
			continue
		}
		return false
	}
	return rest != ""
}

// webURLSlow is webURL by cleaning and parsing.
func webURLSlow(u string) string {
	u = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) || isBidiControl(r) {
			return -1
		}
		return r
	}, u)
	if len(u) > maxURLBytes {
		return ""
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (!strings.EqualFold(p.Scheme, "https") && !strings.EqualFold(p.Scheme, "http")) {
		return ""
	}
	return urlEscaper.Replace(u)
}

// urlEscaper percent-encodes what url.Parse lets through but what would end a
// URL written in angle brackets in the plain-text part or confuse a mail client.
var urlEscaper = strings.NewReplacer("<", "%3C", ">", "%3E", `"`, "%22", "`", "%60", "'", "%27")

// wrapText breaks s into lines of at most width columns at spaces; a word
// longer than width (a URL) stays whole on its own line.
func wrapText(s string, width int) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/width + 1)
	col := 0
	for rest := s; ; {
		// The next word, as strings.Fields would cut it.
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		if rest == "" {
			break
		}
		end := strings.IndexFunc(rest, unicode.IsSpace)
		if end < 0 {
			end = len(rest)
		}
		w := rest[:end]
		rest = rest[end:]
		n := utf8.RuneCountInString(w)
		switch {
		case col == 0:
		case col+1+n > width:
			b.WriteByte('\n')
			col = 0
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += n
	}
	return b.String()
}

// underline returns a line of c as wide as s, for plain-text headings.
func underline(s string, c string) string {
	return strings.Repeat(c, utf8.RuneCountInString(s))
}

// hangText wraps s like wrapText with prefix before the first line and the
// following lines indented to line up under the text after the prefix.
func hangText(prefix, s string, width int) string {
	indent := utf8.RuneCountInString(prefix)
	w := wrapText(s, width-indent)
	return prefix + strings.ReplaceAll(w, "\n", "\n"+strings.Repeat(" ", indent))
}

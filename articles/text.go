package articles

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// PlainText reduces an HTML or text fragment from a feed to one line of plain
// text: tags are dropped, the content of script, style and similar elements is
// dropped entirely, entities are decoded, control characters and runs of
// whitespace (including CR and LF) become one space.
func PlainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return oneLine(s)
	}
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := 0 // depth inside elements whose text is not content
	for {
		switch z.Next() {
		case html.ErrorToken:
			return oneLine(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			if hiddenElement(string(name)) {
				skip++
			} else if blockElement(string(name)) {
				b.WriteByte(' ')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if hiddenElement(string(name)) && skip > 0 {
				skip--
			} else if blockElement(string(name)) {
				b.WriteByte(' ')
			}
		case html.SelfClosingTagToken:
			name, _ := z.TagName()
			if blockElement(string(name)) {
				b.WriteByte(' ')
			}
		}
	}
}

func hiddenElement(name string) bool {
	switch name {
	case "script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head", "title", "textarea", "select":
		return true
	}
	return false
}

func blockElement(name string) bool {
	switch name {
	case "p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "blockquote", "section", "article", "hr", "figure", "figcaption":
		return true
	}
	return false
}

// oneLine replaces invalid UTF-8, control characters and whitespace runs by
// single spaces and trims the result.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\uFEFF' || r == '\u200B' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// SplitKicker splits a portal title "Kicker: Titel" at the first ": " into the
// kicker and the title. A title without ": ", or whose part before it is too
// long to be a kicker, has no kicker.
func SplitKicker(title string) (kicker, rest string) {
	k, r, ok := strings.Cut(title, ": ")
	k, r = strings.TrimSpace(k), strings.TrimSpace(r)
	if !ok || k == "" || r == "" || utf8.RuneCountInString(k) > maxKickerRunes {
		return "", title
	}
	return k, r
}

const maxKickerRunes = 60

// truncate shortens s to at most n runes, at a word boundary, with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	runes := []rune(s)[:n]
	cut := string(runes)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.-") + " …"
}

// trimMore removes the portal's "mehr..." link text from the end of a teaser.
func trimMore(s string) string {
	for _, suffix := range []string{"mehr...", "mehr…", "mehr ...", "Mehr...", "Mehr…", "[mehr]", "weiterlesen", "Weiterlesen"} {
		if strings.HasSuffix(s, suffix) {
			return strings.TrimSpace(strings.TrimSuffix(s, suffix))
		}
	}
	return s
}

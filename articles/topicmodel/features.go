package topicmodel

import (
	"strings"
	"unicode"
)

// Features returns the distinct features of a text, sorted by first
// occurrence: stemmed words ("w:foerderbescheid"), acronyms as written
// ("A:OZG"), the parts of hyphenated words, and character 4- and 5-grams of
// each longer word ("g:regi", "g:ster"), which let compounds such as
// "Registerdaten" or "Prozessmodellierungssoftware" share features with their
// parts.
func Features(text string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, w := range words(text) {
		if IsAcronym(w) {
			add("A:" + w)
		}
		parts := strings.Split(w, "-")
		if len(parts) > 1 {
			joined := fold(strings.Join(parts, ""))
			addWord(add, joined)
		}
		for _, p := range parts {
			if p == "" {
				continue
			}
			addWord(add, fold(p))
		}
	}
	return out
}

func addWord(add func(string), w string) {
	if len([]rune(w)) < 2 || isStop(w) {
		return
	}
	s := Stem(w)
	add("w:" + s)
	r := []rune("<" + s + ">")
	if len(r) < 7 {
		return
	}
	for n := 4; n <= 5; n++ {
		for i := 0; i+n <= len(r); i++ {
			add("g:" + string(r[i:i+n]))
		}
	}
}

// words splits text into words of letters and digits; inner hyphens are kept.
func words(s string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		w := strings.Trim(b.String(), "-")
		if w != "" {
			out = append(out, w)
		}
		b.Reset()
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case r == '-' && b.Len() > 0:
			b.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// IsAcronym reports whether w has two or more letters, all of them capitals
// ("OZG", "IT-NRW"); the keyword rules use it too.
func IsAcronym(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			letters++
		}
	}
	return letters >= 2
}

// fold lower-cases w and writes umlauts and ß as ae, oe, ue and ss.
func fold(w string) string {
	w = strings.ToLower(w)
	if !strings.ContainsAny(w, "äöüß") {
		return w
	}
	return strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss").Replace(w)
}

// Stem strips common German inflection endings from a folded word, keeping at
// least four letters: "foerderbescheide" → "foerderbescheid", "onlinediensten"
// → "onlinedienst", "verwaltungen" → "verwaltung".
func Stem(w string) string {
	for _, suf := range []string{"ungen", "innen", "heiten", "keiten", "ern", "en", "er", "es", "em", "e", "n", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 4 {
			if suf == "s" && (strings.HasSuffix(w, "ss") || len(w) < 6) {
				return w // "kreis", "prozess" keep their s
			}
			w = w[:len(w)-len(suf)]
			switch suf {
			case "ungen":
				w += "ung"
			case "innen":
				w += "in"
			case "heiten":
				w += "heit"
			case "keiten":
				w += "keit"
			}
			return w
		}
	}
	return w
}

// isStop reports whether a folded word is a German (or English) function word.
func isStop(w string) bool {
	switch w {
	case "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer",
		"eines", "und", "oder", "aber", "auch", "mit", "von", "vom", "zu", "zum", "zur", "im",
		"in", "ins", "am", "an", "auf", "aus", "bei", "fuer", "ueber", "unter", "nach", "vor",
		"durch", "um", "als", "wie", "so", "sich", "sie", "er", "es", "wir", "ihr", "ist",
		"sind", "war", "waren", "wird", "werden", "wurde", "wurden", "hat", "haben", "hatte",
		"kann", "koennen", "soll", "sollen", "muss", "muessen", "nicht", "noch", "nur", "mehr",
		"sehr", "schon", "jetzt", "neue", "neuen", "neuer", "neues", "erste", "ersten", "dass",
		"damit", "dabei", "dazu", "bis", "seit", "gegen", "ohne", "zwischen", "sowie", "alle",
		"allen", "dieser", "diese", "dieses", "diesem", "diesen", "ihre", "ihren", "ihrem",
		"sein", "seine", "seinen", "man", "was", "wer", "wo", "hier", "dort", "heute", "jahr",
		"jahren", "jahre", "the", "of", "for":
		return true
	}
	return false
}

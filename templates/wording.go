package templates

import (
	"strconv"
	"sync"
)

// maxCachedWordings bounds the wording cache like the fragment cache: when
// full it is emptied.
const maxCachedWordings = 20000

// wording is what a digest's choices of regions and topics say, the same
// for every digest with those choices: computed once per distinct choice.
type wording struct {
	regionPhrase string   // "aus Thüringen" (intro, subject)
	choice       string   // "Thüringen zum Thema IT-Sicherheit" (the footer's "für …")
	topicNames   []string // the chosen topics' names, cleaned (group headings)
}

// wordings caches wording by the choices. It is safe for concurrent use.
type wordings struct {
	mu sync.RWMutex
	m  map[string]*wording
}

// choiceKey is every input of a wording: codes and names, length-prefixed.
func choiceKey(regions, topics []Named) string {
	n := 2
	for _, r := range regions {
		n += len(r.Code) + len(r.Name) + 8
	}
	for _, t := range topics {
		n += len(t.Code) + len(t.Name) + 8
	}
	b := make([]byte, 0, n)
	for _, list := range [2][]Named{regions, topics} {
		for _, x := range list {
			b = strconv.AppendInt(b, int64(len(x.Code)), 10)
			b = append(b, ':')
			b = append(b, x.Code...)
			b = strconv.AppendInt(b, int64(len(x.Name)), 10)
			b = append(b, ':')
			b = append(b, x.Name...)
		}
		b = append(b, '|')
	}
	return string(b)
}

// wordingOf returns the wording of regions and topics, from the cache when
// it is there.
func (s *Set) wordingOf(regions, topics []Named) *wording {
	k := choiceKey(regions, topics)
	s.words.mu.RLock()
	w, ok := s.words.m[k]
	s.words.mu.RUnlock()
	if ok {
		return w
	}
	w = &wording{regionPhrase: regionPhrase(regions), choice: regionChoice(regions) + " " + topicChoice(topics)}
	for _, t := range topics {
		w.topicNames = append(w.topicNames, cleanLine(t.Name, maxNameRunes))
	}
	s.words.mu.Lock()
	if s.words.m == nil || len(s.words.m) >= maxCachedWordings {
		s.words.m = map[string]*wording{}
	}
	s.words.m[k] = w
	s.words.mu.Unlock()
	return w
}

package templates

// A digest is its head (everything but its articles: header, edition,
// intro, contents heading, footer sentence) with the articles' cached
// fragments, a few per-digest values and the recipient slots in between.
// The head is the shared skeleton of the digest's shape plus the values
// that do not differ between digests with the same choices, counts and
// edition, escaped or wrapped for where they stand (static); the preheader,
// browser link and group headings are escaped while the digest is
// assembled.
//
// Heads are not cached. A cache by choice, counts and edition was built
// and measured: in the listmonk profile (20,000 subscribers, 13,497
// selections) 98 of 23,000 lookups hit (almost every selection has a choice
// of its own), while the cache held 200 MB (27 MB when the head kept only
// its values). It only looked good in the Go benchmark, whose 4,096
// selections share 5 choices and one count.
type head struct {
	subject    string
	html, text headPart
}

// headPart is one part's skeleton (shared by every head of its shape) and
// its static values, in the order the skeleton's value pieces with a
// non-dynamic index come.
type headPart struct {
	sk     skeleton
	static []string
}

// dynamicValue reports whether value index i is a per-digest value filled
// in by assemble rather than part of the head.
func dynamicValue(i int) bool {
	return i == valPreheader || i == valArchiveURL || i >= valGroup0
}

// buildHead returns the head of d (its choices' wording w, a browser link
// or not, groups topic groups). It returns d's edition or cadence error.
func (s *Set) buildHead(d Digest, w *wording, archive bool, groups int) (*head, error) {
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
	subj, err := s.assemble(headPart{sk: sk}, vals, nil, false)
	if err != nil {
		return nil, err
	}
	h := &head{subject: cleanLine(string(subj.bytes()), 250)}
	vals[valSubject] = h.subject
	sh := skelShape{archive: archive, more: d.More > 0, groups: groups, region: region}
	for _, part := range []struct {
		name string
		dst  *headPart
	}{{"digest.html", &h.html}, {"digest.txt", &h.text}} {
		sh.name, sh.textual = part.name, part.name == "digest.txt"
		if sk, err = s.skeleton(sh); err != nil {
			return nil, err
		}
		if *part.dst, err = s.headPart(sk, vals, !sh.textual); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// headPart computes the static values of sk with vals.
func (s *Set) headPart(sk skeleton, vals []string, html bool) (headPart, error) {
	n := 0
	for _, p := range sk {
		if p.kind != skelLit && p.kind != skelRun && p.kind != skelRecipient && !dynamicValue(p.idx) {
			n++
		}
	}
	hp := headPart{sk: sk, static: make([]string, 0, n)} // non-nil: assemble takes static values from it
	for _, p := range sk {
		switch p.kind {
		case skelLit, skelRun, skelRecipient:
			continue
		}
		if dynamicValue(p.idx) {
			continue
		}
		val, err := s.value(p, vals, html)
		if err != nil {
			return headPart{}, err
		}
		hp.static = append(hp.static, val)
	}
	return hp, nil
}

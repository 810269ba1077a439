package digest

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

// TestLibrary_ChoiceOf holds choiceOf to what digestOf did before: split
// the key, look each code up, sort with sortNamed (unknown codes, empty
// and repeated codes, long lists included).
func TestLibrary_ChoiceOf(t *testing.T) {
	var regions []taxonomy.Region
	for _, c := range benchRegions {
		regions = append(regions, taxonomy.Region{Code: c, Name: "Land " + c})
	}
	var topics []taxonomy.Topic
	for _, s := range benchTopics {
		topics = append(topics, taxonomy.Topic{Slug: s, Name: "Thema " + s})
	}
	lib := &library{tax: taxonomy.NewSet(regions, topics)}
	want := func(key string) (rs, ts []templates.Named) {
		r, tp, _ := strings.Cut(key, "|")
		for _, c := range splitKey(r) {
			rs = append(rs, lib.region(c))
		}
		for _, c := range splitKey(tp) {
			ts = append(ts, lib.topic(c))
		}
		sortNamed(rs, lib.tax.Regions, func(r taxonomy.Region) string { return r.Code })
		sortNamed(ts, lib.tax.Topics, func(t taxonomy.Topic) string { return t.Slug })
		return rs, ts
	}
	codes := append(append([]string{"", "XX", "unknown-topic"}, benchRegions...), benchTopics...)
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		var b []string
		for range r.IntN(30) {
			b = append(b, codes[r.IntN(len(codes))])
		}
		return strings.Join(b, ",")
	}
	for range 5000 {
		key := pick() + "|" + pick()
		gr, gt := lib.choiceOf(key)
		wr, wt := want(key)
		if !slices.Equal(gr, wr) || !slices.Equal(gt, wt) {
			t.Fatalf("choiceOf(%q) = %v | %v, want %v | %v", key, gr, gt, wr, wt)
		}
	}
}

// Package tageval reads the labelled tagging corpora in articles/testdata and
// scores a tagger against them: Land exact-set accuracy, topic precision,
// recall and F1 (micro and per topic), articles left without a topic, and the
// most frequent Land errors. It is used by `make eval` (articles/internal/evaltag)
// and by the articles tests; it knows nothing of how tagging works.
package tageval

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
)

// Item is one labelled news item.
type Item struct {
	ID, Source, URL, Date string
	Kicker, Title, Teaser string
	Regions, Topics       []string // the labels
	Line                  int      // line in the corpus file
}

// Columns of a corpus file, in order. Lines starting with '#' are comments.
var Columns = []string{"id", "source", "url", "date", "kicker", "title", "teaser", "regions", "topics"}

// ReadCorpus reads a corpus file (see Columns).
func ReadCorpus(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var items []Item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != len(Columns) {
			return nil, fmt.Errorf("%s line %d: %d tab-separated fields, want %d (%s)", path, n, len(c), len(Columns), strings.Join(Columns, ", "))
		}
		it := Item{ID: c[0], Source: c[1], URL: c[2], Date: c[3], Kicker: c[4], Title: c[5], Teaser: c[6],
			Regions: splitList(c[7]), Topics: splitList(c[8]), Line: n}
		if len(it.Regions) == 0 {
			return nil, fmt.Errorf("%s line %d: field regions is empty; every item has at least one region (DE for nationwide)", path, n)
		}
		items = append(items, it)
	}
	return items, sc.Err()
}

// ReadTaggingTSV reads the older five-column set (kicker, title, teaser, regions,
// topics), testdata/tagging.tsv.
func ReadTaggingTSV(path string) ([]Item, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var items []Item
	for n, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if len(c) != 5 {
			return nil, fmt.Errorf("%s line %d: %d tab-separated fields, want 5", path, n+1, len(c))
		}
		items = append(items, Item{ID: fmt.Sprintf("L%d", n+1), Kicker: c[0], Title: c[1], Teaser: c[2],
			Regions: splitList(c[3]), Topics: splitList(c[4]), Line: n + 1})
	}
	return items, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Tags is what a tagger said of an item.
type Tags struct {
	Regions, Topics []string
}

// Counts are true positives, false positives and false negatives.
type Counts struct{ TP, FP, FN int }

// Precision is TP/(TP+FP), 0 when nothing was predicted.
func (c Counts) Precision() float64 { return ratio(c.TP, c.TP+c.FP) }

// Recall is TP/(TP+FN), 0 when nothing was expected.
func (c Counts) Recall() float64 { return ratio(c.TP, c.TP+c.FN) }

// F1 is the harmonic mean of precision and recall.
func (c Counts) F1() float64 {
	p, r := c.Precision(), c.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Miss is an item whose regions or topics differ from its labels.
type Miss struct {
	Item Item
	Got  Tags
}

// Report is the score of one set.
type Report struct {
	Name        string
	Items       int
	LandOK      int
	Topics      Counts
	PerTopic    map[string]*Counts
	Support     map[string]int // labelled items per topic
	NoTopic     int            // items the tagger gave no topic
	LandErrors  map[string]int // "want → got" counts
	RegionMiss  []Miss
	TopicMisses []Miss
}

// LandAccuracy is the share of items whose region set equals the label's.
func (r *Report) LandAccuracy() float64 { return ratio(r.LandOK, r.Items) }

// Score tags every item with tag and compares with the labels.
func Score(name string, items []Item, tag func(Item) Tags) *Report {
	r := &Report{Name: name, PerTopic: map[string]*Counts{}, Support: map[string]int{}, LandErrors: map[string]int{}}
	per := func(s string) *Counts {
		if r.PerTopic[s] == nil {
			r.PerTopic[s] = &Counts{}
		}
		return r.PerTopic[s]
	}
	for _, it := range items {
		got := tag(it)
		r.Items++
		if sameSet(got.Regions, it.Regions) {
			r.LandOK++
		} else {
			r.LandErrors[strings.Join(sorted(it.Regions), ",")+" → "+strings.Join(sorted(got.Regions), ",")]++
			r.RegionMiss = append(r.RegionMiss, Miss{it, got})
		}
		if len(got.Topics) == 0 {
			r.NoTopic++
		}
		miss := false
		for _, s := range got.Topics {
			if slices.Contains(it.Topics, s) {
				r.Topics.TP++
				per(s).TP++
			} else {
				r.Topics.FP++
				per(s).FP++
				miss = true
			}
		}
		for _, s := range it.Topics {
			r.Support[s]++
			if !slices.Contains(got.Topics, s) {
				r.Topics.FN++
				per(s).FN++
				miss = true
			}
		}
		if miss {
			r.TopicMisses = append(r.TopicMisses, Miss{it, got})
		}
	}
	return r
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func sameSet(a, b []string) bool { return slices.Equal(sorted(a), sorted(b)) }

// Summary is one line: items, Land accuracy, topic micro P/R/F1, no-topic count.
func (r *Report) Summary() string {
	return fmt.Sprintf("%-12s %4d items  Land %.3f (%d/%d)  topics P %.3f R %.3f F1 %.3f  no topic %d",
		r.Name, r.Items, r.LandAccuracy(), r.LandOK, r.Items, r.Topics.Precision(), r.Topics.Recall(), r.Topics.F1(), r.NoTopic)
}

// Print writes the summary, per-topic figures and the top Land errors.
func (r *Report) Print(w io.Writer, topics []string, topErrors int) {
	fmt.Fprintln(w, r.Summary())
	fmt.Fprintf(w, "  %-26s %5s %6s %6s %6s\n", "topic", "items", "P", "R", "F1")
	for _, s := range topics {
		c := r.PerTopic[s]
		if c == nil {
			c = &Counts{}
		}
		fmt.Fprintf(w, "  %-26s %5d %6.3f %6.3f %6.3f\n", s, r.Support[s], c.Precision(), c.Recall(), c.F1())
	}
	type kv struct {
		k string
		v int
	}
	var errs []kv
	for k, v := range r.LandErrors {
		errs = append(errs, kv{k, v})
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].v > errs[j].v || errs[i].v == errs[j].v && errs[i].k < errs[j].k })
	if len(errs) > topErrors {
		errs = errs[:topErrors]
	}
	if len(errs) > 0 {
		fmt.Fprintln(w, "  top Land errors (label → tagger):")
		for _, e := range errs {
			fmt.Fprintf(w, "    %3d  %s\n", e.v, e.k)
		}
	}
}

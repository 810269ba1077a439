// Command evaltag prints the tagger's figures on the labelled corpora (`make eval`):
// the frozen test split, the dev split, the train split and the older
// testdata/tagging.tsv, each with Land exact-set accuracy, topic precision,
// recall and F1 (micro and per topic) and the most frequent Land errors.
//
//	go run ./articles/internal/evaltag -commit "$(git rev-parse --short HEAD)"
//	go run ./articles/internal/evaltag -sets dev -misses   # while tuning: dev only, with every miss
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/articles/internal/tageval"
	"github.com/kommune21/digest/taxonomy"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "evaltag:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("evaltag", flag.ContinueOnError)
	dir := fs.String("dir", "articles/testdata", "folder holding corpus/{test,dev,train}.tsv and tagging.tsv")
	sets := fs.String("sets", "test,dev,train,tagging", "sets to score, in order")
	commit := fs.String("commit", "", "commit the figures were measured on (printed)")
	misses := fs.Bool("misses", false, "print every miss")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := taxonomy.Default()
	tg, err := articles.DefaultTagger(set)
	if err != nil {
		return err
	}
	var topics []string
	for _, t := range set.Topics {
		topics = append(topics, t.Slug)
	}
	tag := func(it tageval.Item) tageval.Tags {
		got := tg.Tag(articles.Text{Kicker: it.Kicker, Title: it.Title, Teaser: it.Teaser})
		return tageval.Tags{Regions: got.Regions, Topics: got.Topics}
	}
	if *commit != "" {
		fmt.Fprintf(out, "tagging figures at commit %s\n\n", *commit)
	}
	var reports []*tageval.Report
	for _, name := range strings.Split(*sets, ",") {
		var items []tageval.Item
		if name == "tagging" {
			items, err = tageval.ReadTaggingTSV(filepath.Join(*dir, "tagging.tsv"))
		} else {
			items, err = tageval.ReadCorpus(filepath.Join(*dir, "corpus", name+".tsv"))
		}
		if err != nil {
			return err
		}
		r := tageval.Score(name, items, tag)
		reports = append(reports, r)
		r.Print(out, topics, 8)
		if *misses {
			for _, m := range r.RegionMiss {
				fmt.Fprintf(out, "  region %s line %d %q: got %v, want %v\n", m.Item.ID, m.Item.Line, m.Item.Kicker+": "+m.Item.Title, m.Got.Regions, m.Item.Regions)
			}
			for _, m := range r.TopicMisses {
				fmt.Fprintf(out, "  topics %s line %d %q: got %v, want %v\n", m.Item.ID, m.Item.Line, m.Item.Kicker+": "+m.Item.Title, m.Got.Topics, m.Item.Topics)
			}
		}
		fmt.Fprintln(out)
		if name == "dev" {
			// How far a second reader agrees with the labels: the same
			// figures for a second blind labeller's labels of dev.
			r, err := secondReader(filepath.Join(*dir, "corpus", "tools", "dev-second-labels.tsv"), items)
			if err != nil {
				return err
			}
			if r != nil {
				reports = append(reports, r)
				r.Print(out, topics, 8)
				fmt.Fprintln(out)
			}
		}
	}
	fmt.Fprintln(out, "summary:")
	for _, r := range reports {
		fmt.Fprintln(out, "  "+r.Summary())
	}
	return nil
}

// secondReader scores a second labeller's labels of the dev items (file:
// id, regions, topics per line, comma-separated) against the dev labels, as
// if they were a tagger's output, on the dev items it labels; nil when the
// file is not there.
func secondReader(path string, items []tageval.Item) (*tageval.Report, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	second := map[string]tageval.Tags{}
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: want id, regions and topics separated by tabs, got %q", path, i+1, line)
		}
		second[f[0]] = tageval.Tags{Regions: strings.Split(f[1], ","), Topics: strings.Split(f[2], ",")}
	}
	// The dev items the second readers labelled (dev has grown since).
	var read []tageval.Item
	for _, it := range items {
		if _, ok := second[it.ID]; ok {
			read = append(read, it)
		}
	}
	if len(read) != len(second) {
		return nil, fmt.Errorf("%s: %d labels, but only %d of them for dev items", path, len(second), len(read))
	}
	return tageval.Score("dev-2nd-reader", read, func(it tageval.Item) tageval.Tags { return second[it.ID] }), nil
}

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/taxonomy"
)

func articleCommands() []command {
	return []command{
		{name: "import", summary: "import RSS, Atom or JSON feeds from files or URLs", run: cmdArticlesImport},
		{name: "list", summary: "list articles with their regions and topics", run: cmdArticlesList},
		{name: "tag", summary: "set an article's regions and topics by hand (kept on re-import), or --auto", run: cmdArticlesTag},
		{name: "review", summary: "list the articles whose automatic tags are uncertain, with the reason", run: cmdArticlesReview},
		{name: "explain", summary: "show which place, term or category decided each region and topic", run: cmdArticlesExplain},
		{name: "retag", summary: "tag again after a rules or gazetteer update (manual tags are kept)", run: cmdArticlesRetag},
	}
}

func cmdArticlesImport(a *app, args []string) error {
	fs := a.flags("articles import", "FILE|URL... [--at TIME]",
		"Import feeds (RSS 2.0, Atom, JSON Feed, detected by content) and tag every article with\n"+
			"its Länder and topics. Each feed is stored whole or not at all; re-importing updates\n"+
			"articles and never duplicates them. URLs are fetched with conditional GET.", groupDB)
	at := time.Time{}
	fs.Var(timeFlag{&at}, "at", "the import time (RFC 3339) recorded as ingested_at of new articles (default: now)")
	srcs, err := a.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = time.Now()
	}
	im, _, err := a.importer()
	if err != nil {
		return err
	}
	var failed []string
	for _, src := range srcs {
		res, err := im.Import(a.ctx, src, at)
		if err != nil {
			fmt.Fprintf(a.stderr, "digest: %v\n", err)
			failed = append(failed, articles.SourceName(src))
			continue
		}
		switch {
		case res.NotModified:
			fmt.Fprintf(a.stdout, "%s: not modified since the last import\n", articles.SourceName(src))
		default:
			note := ""
			if res.Transcoded {
				note = " (not UTF-8 and no encoding declared: read as Windows-1252)"
			}
			fmt.Fprintf(a.stdout, "%s: %d new, %d updated, %d unchanged%s\n", articles.SourceName(src), res.New, res.Updated, res.Unchanged, note)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d feeds were not imported: %s", len(failed), len(srcs), strings.Join(failed, ", "))
	}
	return nil
}

func cmdArticlesList(a *app, args []string) error {
	fs := a.flags("articles list", "[--since TIME] [--region R] [--topic T] [--json]",
		"List articles, newest first, with their regions and topics.", groupDB)
	var since time.Time
	fs.Var(timeFlag{&since}, "since", "only articles published at or after this time (RFC 3339)")
	region := fs.String("region", "", "only articles tagged with this region `code` (see `digest regions list`)")
	topic := fs.String("topic", "", "only articles tagged with this topic `slug` (see `digest topics list`)")
	asJSON := fs.Bool("json", false, "print a JSON array of {id, url, title, kicker, teaser, published_at, ingested_at, regions, topics}")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	f := articles.Filter{Since: since}
	if *region != "" || *topic != "" {
		set, err := taxonomy.NewStore(db).Load(a.ctx)
		if err != nil {
			return err
		}
		if *region != "" {
			codes, err := set.RegionCodes([]string{*region})
			if err != nil {
				return &usageError{msg: "--region: " + err.Error()}
			}
			f.Region = codes[0]
		}
		if *topic != "" {
			slugs, err := set.TopicSlugs([]string{*topic})
			if err != nil {
				return &usageError{msg: "--topic: " + err.Error()}
			}
			f.Topic = slugs[0]
		}
	}
	list, err := articles.NewStore(db).List(a.ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(list)
	}
	if err := a.printArticles(list, ""); err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(a.stderr, "no articles match; import some with `digest articles import FILE|URL`")
	}
	return nil
}

func cmdArticlesTag(a *app, args []string) error {
	fs := a.flags("articles tag", "ID [--region R]... [--topic T]... | ID --auto",
		"Set an article's regions and/or topics by hand. The given dimension is replaced;\n"+
			"manual tags are kept when the article is imported again. --auto returns the\n"+
			"article to automatic tagging and shows the tags it gets.", groupDB)
	var regions, topics stringList
	fs.Var(&regions, "region", "region `code` (repeatable or comma-separated), e.g. DE-TH; DE means bundesweit")
	fs.Var(&topics, "topic", "topic `slug` (repeatable or comma-separated), e.g. it-sicherheit")
	auto := fs.Bool("auto", false, "forget the manual tags and tag the article automatically again")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	id, err := articleID(pos[0])
	if err != nil {
		return err
	}
	switch {
	case *auto && (len(regions) > 0 || len(topics) > 0):
		return usagef("--auto cannot be combined with --region or --topic")
	case !*auto && len(regions) == 0 && len(topics) == 0:
		return usagef("give at least one --region or --topic, or --auto")
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	if *auto {
		im, err := articles.NewDefaultImporter(a.ctx, db)
		if err != nil {
			return err
		}
		tags, err := im.SetAuto(a.ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "article %d: regions %s; topics %s (automatic again)\n", id, strings.Join(tags.Regions, ","), orNone(tags.Topics))
		return nil
	}
	set, err := taxonomy.NewStore(db).Load(a.ctx)
	if err != nil {
		return err
	}
	var rs, ts []string
	if len(regions) > 0 {
		if rs, err = set.RegionCodes(regions); err != nil {
			return &usageError{msg: "--region: " + err.Error()}
		}
	}
	if len(topics) > 0 {
		if ts, err = set.TopicSlugs(topics); err != nil {
			return &usageError{msg: "--topic: " + err.Error()}
		}
	}
	st := articles.NewStore(db)
	if err := st.SetTags(a.ctx, id, rs, ts); err != nil {
		return err
	}
	ar, err := st.Get(a.ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "article %d: regions %s; topics %s (manual: kept on re-import)\n", id,
		strings.Join(ar.Regions, ","), orNone(ar.Topics))
	return nil
}

func articleID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef("article ID %q is not a number; `digest articles list` shows the IDs", s)
	}
	return id, nil
}

// reviewItem is one line of `articles review --json`.
type reviewItem struct {
	ID      int64    `json:"id"`
	Title   string   `json:"title"`
	Kicker  string   `json:"kicker"`
	Regions []string `json:"regions"`
	Topics  []string `json:"topics"`
	Doubts  []string `json:"doubts"`
}

func cmdArticlesReview(a *app, args []string) error {
	fs := a.flags("articles review", "[--since TIME] [--json]",
		"List the automatically tagged articles whose tags are uncertain — Land fallen back to\n"+
			"DE, an ambiguous place, several candidate Länder, no topic — each with the reason,\n"+
			"so that staff can fix them with `digest articles tag ID ...`.", groupDB)
	var since time.Time
	fs.Var(timeFlag{&since}, "since", "only articles published at or after this time (RFC 3339)")
	asJSON := fs.Bool("json", false, "print a JSON array of {id, title, kicker, regions, topics, doubts}")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	im, db, err := a.importer()
	if err != nil {
		return err
	}
	list, err := articles.NewStore(db).List(a.ctx, articles.Filter{Since: since})
	if err != nil {
		return err
	}
	out := []reviewItem{}
	for _, ar := range list {
		if ar.TagsManual {
			continue
		}
		if ex := im.Explain(ar); len(ex.Doubts) > 0 {
			out = append(out, reviewItem{ID: ar.ID, Title: ar.Title, Kicker: ar.Kicker, Regions: ar.Regions, Topics: ar.Topics, Doubts: ex.Doubts})
		}
	}
	if *asJSON {
		return a.printJSON(out)
	}
	tw := a.table()
	fmt.Fprintln(tw, "ID\tREGIONS\tTOPICS\tTITLE\tWHY")
	for _, it := range out {
		title := cl(it.Title)
		if it.Kicker != "" {
			title = cl(it.Kicker) + ": " + title
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", it.ID, strings.Join(it.Regions, ","), orNone(it.Topics), title, cl(strings.Join(it.Doubts, "; ")))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "%d of %d articles to review; fix with `digest articles tag ID --region R --topic T`\n", len(out), len(list))
	return nil
}

func cmdArticlesExplain(a *app, args []string) error {
	fs := a.flags("articles explain", "ID [--json]",
		"Show how automatic tagging decides an article: for each region and topic the feed\n"+
			"category, place, organisation or term that decided it, and any doubts.", groupDB)
	asJSON := fs.Bool("json", false, "print a JSON object {tags, region_reasons, topic_reasons, doubts, manual}")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	id, err := articleID(pos[0])
	if err != nil {
		return err
	}
	im, db, err := a.importer()
	if err != nil {
		return err
	}
	ar, err := articles.NewStore(db).Get(a.ctx, id)
	if err != nil {
		return err
	}
	ex := im.Explain(ar)
	if *asJSON {
		return a.printJSON(struct {
			articles.Explanation
			Manual bool `json:"manual"`
		}{ex, ar.TagsManual})
	}
	title := cl(ar.Title)
	if ar.Kicker != "" {
		title = cl(ar.Kicker) + ": " + title
	}
	fmt.Fprintf(a.stdout, "article %d: %s\n", ar.ID, title)
	if ar.TagsManual {
		fmt.Fprintf(a.stdout, "tags set by hand: regions %s; topics %s (automatic tagging would give what follows; `digest articles tag %d --auto` applies it)\n",
			strings.Join(ar.Regions, ","), orNone(ar.Topics), ar.ID)
	}
	tw := a.table()
	fmt.Fprintln(tw, "\tTAG\tFROM\tBECAUSE OF")
	for _, r := range ex.Regions {
		fmt.Fprintf(tw, "region\t%s\t%s\t%s\n", r.Tag, r.From, cl(r.Evidence))
	}
	for _, r := range ex.Topics {
		fmt.Fprintf(tw, "topic\t%s\t%s\t%s\n", r.Tag, r.From, cl(r.Evidence))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, d := range ex.Doubts {
		fmt.Fprintf(a.stdout, "doubt: %s\n", cl(d))
	}
	return nil
}

func cmdArticlesRetag(a *app, args []string) error {
	fs := a.flags("articles retag", "[--since TIME]",
		"Run automatic tagging again over the stored articles, after an update of the rules,\n"+
			"the gazetteer or the model. Articles tagged by hand are never touched.", groupDB)
	var since time.Time
	fs.Var(timeFlag{&since}, "since", "only articles published at or after this time (RFC 3339; default: all)")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	im, _, err := a.importer()
	if err != nil {
		return err
	}
	res, err := im.Retag(a.ctx, since)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d articles tagged again: %d changed, %d unchanged; %d tagged by hand left alone\n",
		res.Checked, res.Changed, res.Checked-res.Changed, res.Manual)
	return nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ",")
}

// printArticles writes an aligned table of articles, each line after indent.
func (a *app) printArticles(list []articles.Article, indent string) error {
	tw := a.table()
	fmt.Fprintln(tw, indent+"ID\tPUBLISHED\tREGIONS\tTOPICS\tTITLE")
	for _, ar := range list {
		title := cl(ar.Title)
		if ar.Kicker != "" {
			title = cl(ar.Kicker) + ": " + title
		}
		manual := ""
		if ar.TagsManual {
			manual = " (manual)"
		}
		fmt.Fprintf(tw, "%s%d\t%s\t%s%s\t%s\t%s\n", indent, ar.ID, ar.PublishedAt.In(digest.Berlin).Format("2006-01-02"),
			strings.Join(ar.Regions, ","), manual, strings.Join(ar.Topics, ","), title)
	}
	return tw.Flush()
}

// importer opens the database and returns the importer (and tagger) the
// articles commands share, with the embedded gazetteer and rules.
func (a *app) importer() (*articles.Importer, *store.DB, error) {
	db, err := a.openDB()
	if err != nil {
		return nil, nil, err
	}
	im, err := articles.NewDefaultImporter(a.ctx, db)
	return im, db, err
}

package main

import (
	"errors"
	"net/url"
	"strings"

	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
	"github.com/kommune21/digest/templates"
)

func cmdForm(a *app, args []string) error {
	fs := a.flags("form", "[--region R]... [--topic T]... [--cadence C]",
		"Print an embeddable signup form: a self-contained HTML snippet (no script, no external\n"+
			"assets) that posts to DIGEST_BASE_URL/subscribe. Paste it into the portal's pages, e.g. with\n"+
			"--region DE-BY on Bavaria's page. Regions and topics given here are sent as hidden fields\n"+
			"(none = all); the snippet links to the full form for choosing others.",
		groupMail)
	var regions, topics stringList
	fs.Var(&regions, "region", "preselected region `code` (repeatable or comma-separated; see `digest regions list`)")
	fs.Var(&regions, "regions", "same as --region")
	fs.Var(&topics, "topic", "preselected topic `slug` (repeatable or comma-separated; see `digest topics list`)")
	fs.Var(&topics, "topics", "same as --topic")
	cadence := fs.String("cadence", "weekly", "`weekly` or daily")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	set, err := taxonomy.NewStore(db).Load(a.ctx)
	if err != nil {
		return err
	}
	// The one validation place: the same checks as the signup and `subscribers add`.
	in := subscribers.Input{Email: "form@example.org", Regions: regions, Topics: topics, Cadence: *cadence}
	sub, fes := in.Validate(set)
	if len(fes) > 0 {
		var errs []error
		for _, fe := range fes {
			errs = append(errs, errors.New("--"+strings.TrimSuffix(fe.Field, "s")+": "+fe.Error()))
		}
		return &usageError{msg: errors.Join(errs...).Error()}
	}
	base := strings.TrimSuffix(a.cfg.BaseURL, "/")
	sn := templates.Snippet{
		Site: a.newsletterName(), Sender: a.cfg.FromAddress().Address, Action: base + "/subscribe",
		PrivacyURL: a.cfg.PrivacyURL, Cadence: string(sub.Cadence), Honeypot: subscribers.HoneypotField,
	}
	q := url.Values{}
	for _, c := range sub.Regions {
		r, _ := set.Region(c)
		sn.Regions = append(sn.Regions, templates.SnippetChoice{Value: c, Label: r.Name})
		q.Add("regions", c)
	}
	for _, s := range sub.Topics {
		t, _ := set.Topic(s)
		sn.Topics = append(sn.Topics, templates.SnippetChoice{Value: s, Label: t.Name})
		q.Add("topics", s)
	}
	if sub.Cadence == subscribers.Daily {
		q.Set("cadence", "daily")
	}
	sn.FullFormURL = base + "/subscribe"
	if len(q) > 0 {
		sn.FullFormURL += "?" + q.Encode()
	}
	return templates.WriteSnippet(a.stdout, sn)
}

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kommune21/digest/articles"
	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
)

// demoSubscribers have deliberately different choices.
var demoSubscribers = []subscribers.Input{
	{Email: "erika.mustermann@example.org", Name: "Erika Mustermann"},
	{Email: "jonas.becker@example.org", Name: "Jonas Becker", Regions: []string{"DE-BY"}},
	{Email: "leyla.yilmaz@example.org", Name: "Leyla Yılmaz", Regions: []string{"DE-ST", "DE-NI"},
		Topics: []string{"registermodernisierung", "prozessmanagement", "buergerbeteiligung"}},
	{Email: "thomas.schaefer@example.org", Name: "Thomas Schäfer", Topics: []string{"cloud-infrastruktur", "it-sicherheit"}},
	{Email: "anna.weiss@example.org", Name: "Anna Weiß", Regions: []string{"DE", "DE-HE"}},
	{Email: "juergen.gross@example.org", Name: "Jürgen Groß", Regions: []string{"DE-SH"}},
}

func cmdDemo(a *app, args []string) error {
	fs := a.flags("demo", "[--dir DIR]",
		"Run the whole job on the embedded default: a fresh SQLite database and a file: outbox in DIR,\n"+
			"the sample feed, a handful of subscribers, and the weekly editions that cover the sample\n"+
			"articles, one after the other. Prints who got how many articles in which .eml file.")
	dir := fs.String("dir", "demo", "a new or empty `folder` for the database and the outbox (a folder an earlier demo made is reused)")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	dbPath, outbox := filepath.Join(*dir, "digest.db"), filepath.Join(*dir, "outbox")
	if err := claimDemoDir(*dir); err != nil {
		return err
	}
	for _, p := range []string{dbPath, dbPath + "-wal", dbPath + "-shm", dbPath + ".send.lock", outbox} {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(outbox, 0o755); err != nil {
		return err
	}
	a.cfg.DB, a.cfg.SMTP = "sqlite:"+dbPath, "file:"+outbox
	a.smtpNoted = true // the demo says where mail goes itself
	if !a.cfg.set["DIGEST_FROM"] {
		a.cfg.From = "Kommune21 Digest <digest@kommune21.example>"
	}
	if !a.cfg.set["DIGEST_BASE_URL"] {
		a.cfg.BaseURL = "https://digest.kommune21.example"
	}
	if !a.cfg.set["DIGEST_LOG_LEVEL"] {
		a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if a.cfg.ReplyTo == "" {
		a.cfg.ReplyTo = "redaktion@kommune21.example"
	}
	if a.cfg.Imprint == "" {
		a.cfg.Imprint = "Demo-Impressum (setzen Sie DIGEST_IMPRINT)\nBeispielverlag GmbH · Musterstraße 1 · 12345 Musterstadt"
	}
	w := a.stdout
	fmt.Fprintf(w, "digest demo in %s/ (database %s, outbox %s)\n\n", *dir, dbPath, outbox)

	db, err := store.Open(a.ctx, a.cfg.DB)
	if err != nil {
		return err
	}
	a.db = db
	if _, err := db.Migrate(a.ctx); err != nil {
		return err
	}
	// The sample articles are from December 2025 to February 2026: import them
	// as if they had arrived just before the first edition.
	first := time.Date(2025, 12, 15, 7, 0, 0, 0, digest.Berlin)
	im, err := articles.NewDefaultImporter(a.ctx, db)
	if err != nil {
		return err
	}
	res, err := im.ImportFeed(a.ctx, "articles/sample/kommune21.xml", "", articles.SampleFeed, first.Add(-14*24*time.Hour))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "imported %d articles from the sample feed (a real Kommune21 news page)\n", res.New)
	list, err := articles.NewStore(db).List(a.ctx, articles.Filter{})
	if err != nil {
		return err
	}
	if err := a.printArticles(list, "  "); err != nil {
		return err
	}

	set, err := taxonomy.NewStore(db).Load(a.ctx)
	if err != nil {
		return err
	}
	subs := subscribers.NewStore(db, func() time.Time { return first.Add(-time.Hour) })
	fmt.Fprintf(w, "\nadded %d subscribers:\n", len(demoSubscribers))
	tw := a.table()
	for _, in := range demoSubscribers {
		sub, problems := in.Validate(set)
		if len(problems) > 0 {
			return fmt.Errorf("demo subscriber %s: %v", in.Email, problems[0])
		}
		sub.Status = subscribers.StatusActive
		sub.Consent = subscribers.Consent{At: first.Add(-time.Hour), Method: "staff", Source: "digest demo"}
		if err := subs.Create(a.ctx, &sub); err != nil {
			return err
		}
		fmt.Fprintf(tw, "  %s\t%s\tregions: %s\ttopics: %s\n", cl(sub.Name), sub.Email, orAll(sub.Regions), orAll(sub.Topics))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nweekly editions, each run on Monday 07:00 (Europe/Berlin):\n")
	tw = a.table()
	fmt.Fprintln(tw, "EDITION\tSUBSCRIBER\tARTICLES\tFILE")
	last := time.Date(2026, 2, 23, 7, 0, 0, 0, digest.Berlin)
	var sent, files int64
	// One runner for all editions; its clock is the edition being run.
	var at time.Time
	r, err := a.runner(func() time.Time { return at })
	if err != nil {
		return err
	}
	for at = first; !at.After(last); at = at.AddDate(0, 0, 7) {
		rep, err := r.Run(a.ctx, digest.Weekly, at, false)
		if err != nil {
			return err
		}
		sent += rep.Send.Sent
		rows, err := demoDeliveries(a, db, rep.Plan.Run.ID)
		if err != nil {
			return err
		}
		var quiet []string
		for _, d := range rows {
			switch d.Status {
			case digest.StatusSent:
				files++
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", rep.Plan.Run.Edition, d.Email, d.Articles, filepath.Join(outbox, mailer.FileName(d.MessageID)))
			case digest.StatusSkipped:
				quiet = append(quiet, strings.SplitN(d.Email, "@", 2)[0])
			default:
				fmt.Fprintf(tw, "%s\t%s\t%d\t(%s: %s)\n", rep.Plan.Run.Edition, d.Email, d.Articles, d.Status, d.Error)
			}
		}
		if len(quiet) > 0 {
			fmt.Fprintf(tw, "%s\t%d more\t0\tnothing new, no email: %s\n", rep.Plan.Run.Edition, len(quiet), strings.Join(quiet, ", "))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d digests written as .eml files to %s/. Open one in a mail program, or try:\n", files, outbox)
	fmt.Fprintf(w, "  go run ./cmd/digest runs list --db sqlite:%s\n", dbPath)
	fmt.Fprintf(w, "  go run ./cmd/digest preview erika.mustermann@example.org --db sqlite:%s --at 2026-02-23T07:00:00+01:00 --format html -o erika.html\n", dbPath)
	if sent != files {
		return fmt.Errorf("demo: %d messages sent but %d files found", sent, files)
	}
	return nil
}

type demoDelivery struct {
	Email     string `db:"email"`
	MessageID string `db:"message_id"`
	Status    string `db:"status"`
	Error     string `db:"last_error"`
	Articles  int    `db:"articles"`
}

func demoDeliveries(a *app, db *store.DB, runID int64) ([]demoDelivery, error) {
	var ds []demoDelivery
	err := db.SelectContext(a.ctx, &ds, db.Rebind(`
		SELECT s.email, d.message_id, d.status, d.last_error, COALESCE((SELECT `+db.IDsLen("sel.article_ids")+` FROM selections sel WHERE sel.id = d.selection_id), 0) AS articles
		FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.run_id = ? ORDER BY d.subscriber_id`), runID)
	return ds, err
}

// demoMark marks a folder that `digest demo` made: only such a folder's
// database and outbox are ever replaced.
const demoMark = ".digest-demo"

// claimDemoDir makes dir for the demo, or accepts it when it is empty or an
// earlier demo made it. Any other folder is refused with nothing removed:
// the demo must never delete a database or outbox it did not create.
func claimDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	case err != nil:
		return err
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMark)); err == nil {
			return nil // an earlier demo's folder: its database and outbox are replaced
		}
		var names []string
		for i, e := range entries {
			if i == 3 {
				names = append(names, "…")
				break
			}
			names = append(names, e.Name())
		}
		return &usageError{msg: fmt.Sprintf("--dir %s is not empty (%s) and was not made by `digest demo`; nothing was removed: give a new or empty folder, e.g. --dir demo2",
			dir, strings.Join(names, ", "))}
	}
	return os.WriteFile(filepath.Join(dir, demoMark), []byte("made by `digest demo`: its digest.db and outbox/ are replaced by the next demo\n"), 0o644)
}

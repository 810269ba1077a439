package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kommune21/digest/store"
)

// app carries what every command needs; it is built once per run.
type app struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	cfg Config
	db  *store.DB
	// noSend marks a command that builds messages but never sends them (preview);
	// smtpNoted records that the DIGEST_SMTP note was printed.
	noSend, smtpNoted bool
	// relayWarned records that the warnings about trial settings on a real relay were printed.
	relayWarned bool
	log         *slog.Logger
	closer      []func()
	// taskEvery overrides the period of the daemon's tasks by name (tests only:
	// no flag or variable sets it).
	taskEvery map[string]time.Duration
}

// usageError is bad usage: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// errHelp means --help was asked for and printed: exit code 0.
var errHelp = flag.ErrHelp

func exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

func (a *app) printError(err error) {
	fmt.Fprintf(a.stderr, "digest: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(a.stderr, "Run `digest help` or `digest COMMAND --help` for usage.")
	}
}

func (a *app) close() {
	for i := len(a.closer) - 1; i >= 0; i-- {
		a.closer[i]()
	}
	if a.db != nil {
		a.db.Close()
	}
}

// command is one node of the command tree.
type command struct {
	name    string
	summary string
	run     func(a *app, args []string) error
	sub     []command
}

func commands() []command {
	return []command{
		{name: "migrate", summary: "create or update the database schema", run: cmdMigrate},
		{name: "demo", summary: "run the whole job on a fresh SQLite file and write .eml files", run: cmdDemo},
		{name: "subscribers", summary: "add, import, list, change, export and erase subscribers", sub: subscriberCommands()},
		{name: "articles", summary: "import, list and tag articles", sub: articleCommands()},
		{name: "regions", summary: "list regions", sub: []command{{name: "list", summary: "list DE and the 16 Länder", run: cmdRegionsList}}},
		{name: "topics", summary: "list, add and rename topics", sub: []command{
			{name: "list", summary: "list topics", run: cmdTopicsList},
			{name: "add", summary: "add a topic: SLUG NAME", run: cmdTopicsAdd},
			{name: "rename", summary: "rename a topic: SLUG NAME", run: cmdTopicsRename},
		}},
		{name: "preview", summary: "show a subscriber's next digest without sending", run: cmdPreview},
		{name: "run", summary: "plan and send the digests of one edition (resumes a started one)", run: cmdRun},
		{name: "runs", summary: "list and inspect runs", sub: []command{
			{name: "list", summary: "list runs with their delivery counts", run: cmdRunsList},
			{name: "show", summary: "show one run (default: the latest) with errors grouped by reason", run: cmdRunsShow},
		}},
		{name: "mail", summary: "import and list returned mails (bounces, complaints, unsubscribe mails)", sub: mailCommands()},
		{name: "serve", summary: "run the scheduler and the subscriber web pages", run: cmdServe},
		{name: "form", summary: "print an embeddable HTML signup form for the portal", run: cmdForm},
		{name: "config", summary: "print the effective configuration (secrets redacted)", run: cmdConfig},
	}
}

func (a *app) dispatch(args []string) error {
	cfg, err := LoadConfig(a.getenv)
	if err != nil {
		return err
	}
	a.cfg = cfg
	a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	cmds := commands()
	path := "digest"
	for {
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			if len(args) == 0 && path == "digest" {
				a.usage(a.stderr, path, cmds)
				return usagef("no command given")
			}
			a.usage(a.stdout, path, cmds)
			return errHelp
		}
		var found *command
		for i := range cmds {
			if cmds[i].name == args[0] {
				found = &cmds[i]
			}
		}
		if found == nil {
			a.usage(a.stderr, path, cmds)
			return usagef("unknown command %q for %s", args[0], path)
		}
		path += " " + found.name
		args = args[1:]
		if found.run != nil {
			return found.run(a, args)
		}
		cmds = found.sub
	}
}

func (a *app) usage(w io.Writer, path string, cmds []command) {
	fmt.Fprintf(w, "Usage: %s COMMAND [flags]\n\nCommands:\n", path)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, c := range cmds {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	if path == "digest" {
		fmt.Fprintln(w, "\nConfiguration comes from DIGEST_* environment variables, each overridable by a flag;")
		fmt.Fprintln(w, "`digest config` shows the effective values. Run `digest COMMAND --help` for a command's flags.")
	}
}

// flags returns a FlagSet for a command. usage is the synopsis after the command
// path, e.g. "EMAIL [flags]"; groups choose which configuration flags it takes.
func (a *app) flags(path, synopsis, summary string, groups ...flagGroup) *flag.FlagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: digest %s %s\n\n%s\n\nFlags:\n", path, synopsis, summary)
		fs.PrintDefaults()
	}
	a.cfg.bind(fs, groups...)
	return fs
}

// parse parses flags and positional arguments in any order ("add EMAIL --name N"),
// and checks the number of positional arguments.
func (a *app) parse(fs *flag.FlagSet, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(a.stdout)
				fs.Usage()
				return nil, errHelp
			}
			return nil, &usageError{msg: err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if err := a.cfg.Validate(); err != nil {
		return nil, err
	}
	if len(pos) < minArgs || (maxArgs >= 0 && len(pos) > maxArgs) {
		fs.Usage()
		switch {
		case maxArgs == 0:
			return nil, usagef("digest %s takes no arguments, got %q", fs.Name(), pos)
		case len(pos) < minArgs:
			return nil, usagef("digest %s needs %d argument(s), got %d", fs.Name(), minArgs, len(pos))
		default:
			return nil, usagef("digest %s takes at most %d argument(s), got %d: %q", fs.Name(), maxArgs, len(pos), pos)
		}
	}
	return pos, nil
}

// openDB opens the configured database and refuses an outdated schema.
func (a *app) openDB() (*store.DB, error) {
	if a.db != nil {
		return a.db, nil
	}
	db, err := store.Open(a.ctx, a.cfg.DB)
	if err != nil {
		return nil, err
	}
	if err := db.Check(a.ctx); err != nil {
		db.Close()
		return nil, err
	}
	a.db = db
	return db, nil
}

// printJSON writes v as one indented JSON document on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(jsonWriter{a.stdout})
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table returns an aligned table writer on stdout; call Flush.
//
// It drops control and bidi characters (terminalWriter); cells of stored
// text should still go through cl, which also turns line breaks into spaces.
func (a *app) table() *tabwriter.Writer {
	return tabwriter.NewWriter(terminalWriter{a.stdout}, 2, 4, 2, ' ', 0)
}

// stringList is a repeatable flag ("--region DE-BY --region DE-HE" or "--region DE-BY,DE-HE").
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// timeFlag is an RFC 3339 time flag such as --at.
type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}
func (f timeFlag) Set(v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time such as 2026-02-23T07:00:00+01:00", v)
	}
	*f.t = t
	return nil
}

// isTerminal reports whether w is a terminal (progress bars only go there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/taxonomy"
)

func subscriberCommands() []command {
	return []command{
		{name: "add", summary: "add one subscriber: EMAIL [--name N] [--region R]... [--topic T]... [--confirmed]", run: cmdSubscribersAdd},
		{name: "import", summary: "import a CSV file, all or nothing: FILE.csv [--confirmed] [--dry-run] [--update]", run: cmdSubscribersImport},
		{name: "list", summary: "list subscribers [--status S] [--region R] [--topic T] [--json]", run: cmdSubscribersList},
		{name: "show", summary: "show one subscriber with consent evidence: EMAIL [--json]", run: cmdSubscribersShow},
		{name: "update", summary: "change name, regions, topics or cadence: EMAIL [flags]", run: cmdSubscribersUpdate},
		{name: "unsubscribe", summary: "unsubscribe EMAIL (they receive nothing more)", run: cmdSubscribersUnsubscribe},
		{name: "delete", summary: "erase EMAIL: address, name and choices are deleted", run: cmdSubscribersDelete},
		{name: "resend-confirmation", summary: "send the double opt-in email again to a pending EMAIL", run: cmdSubscribersResend},
		{name: "export", summary: "write subscribers in the import format: [FILE] [--status S]", run: cmdSubscribersExport},
	}
}

// subscriberJSON is the --json shape of a subscriber (DESIGN.md).
type subscriberJSON struct {
	Email     string   `json:"email"`
	Name      string   `json:"name"`
	Status    string   `json:"status"`
	Regions   []string `json:"regions"`
	Topics    []string `json:"topics"`
	Cadence   string   `json:"cadence"`
	CreatedAt string   `json:"created_at"`
}

func toJSON(s subscribers.Subscriber) subscriberJSON {
	nonNil := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return subscriberJSON{Email: s.Email, Name: s.Name, Status: string(s.Status), Regions: nonNil(s.Regions),
		Topics: nonNil(s.Topics), Cadence: string(s.Cadence), CreatedAt: s.CreatedAt.UTC().Format(time.RFC3339)}
}

// subscriberEnv opens the database and loads the taxonomy for a subscriber command.
func (a *app) subscriberEnv() (*subscribers.Store, *taxonomy.Set, error) {
	db, err := a.openDB()
	if err != nil {
		return nil, nil, err
	}
	set, err := taxonomy.NewStore(db).Load(a.ctx)
	if err != nil {
		return nil, nil, err
	}
	return subscribers.NewStore(db, time.Now), set, nil
}

// fieldProblems turns validation problems into one usage error, one line each.
func fieldProblems(errs []*subscribers.FieldError) error {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	if len(lines) == 1 {
		return &usageError{msg: lines[0]}
	}
	return &usageError{msg: "invalid input:\n  " + strings.Join(lines, "\n  ")}
}

func (a *app) findSubscriber(s *subscribers.Store, email string) (subscribers.Subscriber, error) {
	sub, err := s.GetByEmail(a.ctx, email)
	if errors.Is(err, subscribers.ErrNotFound) {
		return sub, fmt.Errorf("no subscriber has the address %q: check the spelling or run `digest subscribers list`", email)
	}
	return sub, err
}

// choiceFlags are the flags shared by add and update.
type choiceFlags struct {
	name, cadence   *string
	regions, topics stringList
}

func addChoiceFlags(fs *flag.FlagSet, cadenceDefault string) *choiceFlags {
	c := &choiceFlags{}
	c.name = fs.String("name", "", "the subscriber's name (at most 200 characters, no line breaks)")
	fs.Var(&c.regions, "region", "region `CODE` such as DE-BY or DE (bundesweit); repeat or separate with commas (`digest regions list`)")
	fs.Var(&c.topics, "topic", "topic `SLUG` such as it-sicherheit; repeat or separate with commas (`digest topics list`)")
	c.cadence = fs.String("cadence", cadenceDefault, "weekly or daily")
	return c
}

func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

func cmdSubscribersAdd(a *app, args []string) error {
	fs := a.flags("subscribers add", "EMAIL [flags]", `Add one subscriber. Without --region every region is chosen, without --topic every topic.
Without --confirmed the subscriber is pending and a double opt-in email goes out; they
become active when they click its link. With --confirmed (you hold their consent, e.g. a
signed form) they are active at once, and the consent evidence records "staff", the time
and the --source note. An address that exists in any case is refused; --update changes it.`, groupMail)
	c := addChoiceFlags(fs, "weekly")
	confirmed := fs.Bool("confirmed", false, "the subscriber has consented: active at once, no confirmation email")
	source := fs.String("source", "cli", "consent evidence `NOTE`, e.g. \"signed form 2026-02-19\"")
	update := fs.Bool("update", false, "if the address exists, change the given fields instead of refusing")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	given := flagsSet(fs)
	s, set, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	sub, errs := subscribers.Input{Email: pos[0], Name: *c.name, Regions: c.regions, Topics: c.topics, Cadence: *c.cadence}.Validate(set)
	if len(errs) > 0 {
		return fieldProblems(errs)
	}
	note, err := subscribers.ValidateName(*source)
	if err != nil {
		return &usageError{msg: strings.Replace(err.Error(), `field "name"`, `flag "--source"`, 1)}
	}

	old, err := s.GetByEmail(a.ctx, sub.Email)
	switch {
	case err == nil && !*update:
		return fmt.Errorf("%s is already a subscriber (%s, added %s): run the command again with --update to change it, or use `digest subscribers update`",
			old.Email, old.Status, old.CreatedAt.Format("2006-01-02"))
	case err == nil:
		return a.addUpdate(s, old, sub, given, *confirmed, note)
	case !errors.Is(err, subscribers.ErrNotFound):
		return err
	}

	if *confirmed {
		sub.Status = subscribers.StatusActive
		sub.Consent = subscribers.Consent{At: time.Now(), Method: "staff", Source: note}
	} else {
		sub.Status = subscribers.StatusPending
		sub.Consent = subscribers.Consent{Source: note}
	}
	if err := s.Create(a.ctx, &sub); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "added %s (%s, %s, regions: %s, topics: %s)\n", sub.Email, sub.Status, sub.Cadence, orAll(sub.Regions), orAll(sub.Topics))
	if *confirmed {
		return nil
	}
	if err := a.sendConfirmation(sub); err != nil {
		return fmt.Errorf("%s stays pending: the confirmation email could not be sent: %w; fix the mail settings (`digest config`) and run `digest subscribers resend-confirmation %s`", sub.Email, err, sub.Email)
	}
	fmt.Fprintf(a.stdout, "sent the confirmation email to %s; they become active when they click its link\n", sub.Email)
	return nil
}

// addUpdate is add --update on an existing subscriber: the given flags change.
func (a *app) addUpdate(s *subscribers.Store, old, sub subscribers.Subscriber, given map[string]bool, confirmed bool, source string) error {
	next := old
	if given["name"] {
		next.Name = sub.Name
	}
	if given["region"] {
		next.Regions = sub.Regions
	}
	if given["topic"] {
		next.Topics = sub.Topics
	}
	if given["cadence"] {
		next.Cadence = sub.Cadence
	}
	changed := changedFields(old, next)
	if len(changed) > 0 {
		if err := s.UpdateChoices(a.ctx, next); err != nil {
			return err
		}
	}
	if confirmed && old.Status != subscribers.StatusActive {
		if _, err := s.Activate(a.ctx, old.ID, subscribers.Consent{Method: "staff", Source: source}); err != nil {
			return err
		}
		changed = append(changed, "status ("+string(old.Status)+" → active)")
	}
	if len(changed) == 0 {
		fmt.Fprintf(a.stdout, "%s is already a subscriber with these choices: nothing changed\n", old.Email)
		return nil
	}
	fmt.Fprintf(a.stdout, "updated %s: %s\n", old.Email, strings.Join(changed, ", "))
	return nil
}

func changedFields(old, next subscribers.Subscriber) []string {
	var out []string
	if old.Name != next.Name {
		out = append(out, "name")
	}
	if strings.Join(old.Regions, ",") != strings.Join(next.Regions, ",") {
		out = append(out, "regions")
	}
	if strings.Join(old.Topics, ",") != strings.Join(next.Topics, ",") {
		out = append(out, "topics")
	}
	if old.Cadence != next.Cadence {
		out = append(out, "cadence")
	}
	return out
}

func orAll(v []string) string {
	if len(v) == 0 {
		return "all"
	}
	return strings.Join(v, ",")
}

func cmdSubscribersImport(a *app, args []string) error {
	fs := a.flags("subscribers import", "FILE.csv [flags]", `Import subscribers from a CSV file, all or nothing.

The first line names the columns, in any order and case: email (required), name,
regions, topics, cadence. Several regions or topics in one cell are separated by ";"
(DE-BY;DE-HE); an empty cell means all. UTF-8 with or without BOM; quote values that
contain commas ("Schmidt, Anna"). `+"`digest subscribers export`"+` writes this format.

Every row is checked first and every problem is reported with its line, field and
value (the first 100, and how many there are); then nothing is imported and the exit
code is 1. FILE "-" reads stdin (copied to a temporary file, as the file is read twice). Otherwise one transaction
writes everything. Importing the same file again changes nothing. An existing address
whose row differs is an error unless --update is given; existing subscribers keep their
status, and a column the file lacks keeps its stored value.

Consent: with --confirmed new subscribers are active and their consent evidence records
"import", the time and the file name (or --source). Without it they are pending and
receive nothing until they confirm. Import never sends emails: mailing a confirmation
request to addresses that never asked for one is itself unsolicited mail. Send it with
`+"`digest subscribers resend-confirmation EMAIL`"+` only to people who asked to subscribe.`)
	confirmed := fs.Bool("confirmed", false, "you hold the consent of everyone in the file: new subscribers are active")
	dryRun := fs.Bool("dry-run", false, "check the file and show what would be added or updated; write nothing")
	update := fs.Bool("update", false, "change existing subscribers whose row differs (name, regions, topics, cadence)")
	source := fs.String("source", "", "consent evidence `NOTE` (default: the file name)")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, set, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	name := pos[0]
	path := name
	if name == "-" {
		name = "stdin"
	}
	// The import reads the file twice (check, then write): stdin and other
	// files that cannot be read again are copied to a temporary file first.
	path, cleanup, err := rereadable(a, path)
	if err != nil {
		return err
	}
	defer cleanup()
	opts := subscribers.ImportOptions{Confirmed: *confirmed, Update: *update, DryRun: *dryRun, Source: *source}
	if *source == "" && pos[0] == "-" {
		opts.Source = "stdin"
	}
	var bar *progressBar
	if !*dryRun && isTerminal(a.stdout) {
		bar = &progressBar{w: a.stdout}
		opts.Progress = func(done, total int) {
			bar.label = fmt.Sprintf("importing %d rows", total)
			bar.update(done, total)
		}
	}
	var tw *tabwriter.Writer
	if *dryRun {
		tw = a.table()
		fmt.Fprintln(tw, "LINE\tACTION\tEMAIL\tCHANGES")
		shown := 0
		opts.OnChange = func(c subscribers.Change) {
			if c.Action == subscribers.ActionUnchanged {
				return
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", c.Line, c.Action, c.Email, strings.Join(c.Fields, ","))
			if shown++; shown%dryRunBlock == 0 {
				tw.Flush() // columns line up per block: the table is not kept in memory
			}
		}
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) }
	res, err := s.ImportFile(a.ctx, set, name, open, opts)
	if bar != nil {
		bar.clear()
	}
	if err != nil {
		return err
	}
	if *dryRun {
		tw.Flush()
		fmt.Fprintf(a.stdout, "dry run of %s: %d rows; would add %d (%s), update %d, leave %d unchanged; nothing was written\n",
			name, res.Rows, res.Added, res.Status, res.Updated, res.Unchanged)
		return nil
	}
	fmt.Fprintf(a.stdout, "imported %s: %d rows; added %d (%s), updated %d, unchanged %d\n",
		name, res.Rows, res.Added, res.Status, res.Updated, res.Unchanged)
	if res.Added > 0 && !*confirmed {
		fmt.Fprintf(a.stdout, "The %d new subscribers are pending and receive nothing until they confirm. No email was sent;\n"+
			"run `digest subscribers resend-confirmation EMAIL` for those who asked to subscribe.\n", res.Added)
	}
	return nil
}

// dryRunBlock is how many rows of a dry run's table are aligned together.
const dryRunBlock = 1000

// rereadable returns a path that can be opened more than once with the bytes
// of path ("-" is stdin): path itself for a regular file, otherwise a copy in
// a temporary file that cleanup removes.
func rereadable(a *app, path string) (string, func(), error) {
	var in io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", nil, fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return "", nil, fmt.Errorf("import: %w", err)
		}
		if st.Mode().IsRegular() {
			return path, func() {}, nil
		}
		in = f // a pipe (<(…), /dev/stdin) can be read only once
	}
	dir := a.getenv("TMPDIR")
	if dir == "" {
		dir = os.TempDir()
	}
	tmp, err := os.CreateTemp(dir, "digest-import-*.csv")
	if err != nil {
		return "", nil, fmt.Errorf("import: copy the input to a temporary file: %w", err)
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("import: copy the input to a temporary file: %w", err)
	}
	return tmp.Name(), cleanup, nil
}

// filterFlags reads --status, --region and --topic into a Filter.
func filterFlags(fs *flag.FlagSet, statusHelp string) (status, region, topic *string) {
	status = fs.String("status", "", statusHelp)
	region = fs.String("region", "", "only subscribers who receive news from region `CODE` (chose it, or all regions)")
	topic = fs.String("topic", "", "only subscribers who receive news on topic `SLUG` (chose it, or all topics)")
	return
}

func buildFilter(set *taxonomy.Set, status, region, topic string) (subscribers.Filter, error) {
	var f subscribers.Filter
	if status != "" {
		st, err := subscribers.ParseStatus(strings.ToLower(strings.TrimSpace(status)))
		if err != nil {
			return f, &usageError{msg: "--status: " + err.Error()}
		}
		f.Status = st
	}
	if region != "" {
		r, errs := subscribers.ValidateRegions(set, []string{region})
		if len(errs) > 0 {
			return f, fieldProblems(errs)
		}
		f.Region = r[0]
	}
	if topic != "" {
		t, errs := subscribers.ValidateTopics(set, []string{topic})
		if len(errs) > 0 {
			return f, fieldProblems(errs)
		}
		f.Topic = t[0]
	}
	return f, nil
}

func cmdSubscribersList(a *app, args []string) error {
	fs := a.flags("subscribers list", "[flags]", "List subscribers of every status, ordered by address, unless --status narrows it.")
	status, region, topic := filterFlags(fs, "only subscribers with this status: pending, active, unsubscribed or bounced")
	asJSON := fs.Bool("json", false, "print a JSON array of {email, name, status, regions, topics, cadence, created_at}")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	s, set, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	f, err := buildFilter(set, *status, *region, *topic)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.streamJSON(s, f)
	}
	return a.streamTable(s, f)
}

// streamJSON writes one JSON array, an element at a time, so that the list
// never has to be held in memory.
func (a *app) streamJSON(s *subscribers.Store, f subscribers.Filter) error {
	n := 0
	err := s.Each(a.ctx, f, func(sub subscribers.Subscriber) error {
		b, err := marshalIndent(toJSON(sub), "  ")
		if err != nil {
			return err
		}
		sep := ",\n  "
		if n == 0 {
			sep = "[\n  "
		}
		n++
		_, err = fmt.Fprintf(a.stdout, "%s%s", sep, b)
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		_, err = fmt.Fprintln(a.stdout, "[]")
		return err
	}
	_, err = fmt.Fprint(a.stdout, "\n]\n")
	return err
}

func marshalIndent(v any, prefix string) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return jsonEscapeUnsafe([]byte(strings.TrimSuffix(b.String(), "\n"))), nil
}

// streamTable prints an aligned table without holding the rows: a first pass
// measures the columns, a second prints.
func (a *app) streamTable(s *subscribers.Store, f subscribers.Filter) error {
	header := []string{"EMAIL", "NAME", "STATUS", "CADENCE", "REGIONS", "TOPICS", "CREATED"}
	cells := func(sub subscribers.Subscriber) []string {
		return []string{cl(sub.Email), cl(sub.Name), string(sub.Status), string(sub.Cadence), orAll(sub.Regions), orAll(sub.Topics), sub.CreatedAt.Format("2006-01-02")}
	}
	widths := make([]int, len(header))
	measure := func(row []string) {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	measure(header)
	if err := s.Each(a.ctx, f, func(sub subscribers.Subscriber) error { measure(cells(sub)); return nil }); err != nil {
		return err
	}
	print := func(row []string) error {
		var b strings.Builder
		for i, c := range row {
			b.WriteString(c)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteByte('\n')
		_, err := io.WriteString(a.stdout, b.String())
		return err
	}
	if err := print(header); err != nil {
		return err
	}
	return s.Each(a.ctx, f, func(sub subscribers.Subscriber) error {
		row := cells(sub)
		for i, c := range row { // a row added between the passes may be wider
			if n := utf8.RuneCountInString(c); n > widths[i] {
				widths[i] = n
			}
		}
		return print(row)
	})
}

func cmdSubscribersShow(a *app, args []string) error {
	fs := a.flags("subscribers show", "EMAIL [--json]", "Show one subscriber with choices, consent evidence and timestamps.")
	asJSON := fs.Bool("json", false, "print a JSON object {email, name, status, regions, topics, cadence, created_at}")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, set, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	sub, err := a.findSubscriber(s, pos[0])
	if err != nil {
		return err
	}
	returned, err := a.returnedMail(sub.ID)
	if err != nil {
		return err
	}
	if *asJSON {
		return a.printJSON(struct {
			subscriberJSON
			returnedMailJSON
		}{toJSON(sub), returned})
	}
	named := func(vals []string, name func(string) string, all string) string {
		if len(vals) == 0 {
			return all
		}
		out := make([]string, len(vals))
		for i, v := range vals {
			out[i] = v + " (" + name(v) + ")"
		}
		return strings.Join(out, ", ")
	}
	regionName := func(c string) string { r, _ := set.Region(c); return r.Name }
	topicName := func(sl string) string { t, _ := set.Topic(sl); return t.Name }
	when := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	consent := "none recorded"
	if sub.Consent.Method != "" {
		consent = fmt.Sprintf("%s at %s", sub.Consent.Method, when(sub.Consent.At))
	}
	if sub.Consent.Source != "" {
		consent += fmt.Sprintf(", source %q", cl(sub.Consent.Source))
	}
	if sub.Consent.IP != "" {
		consent += ", from " + sub.Consent.IP
	}
	tw := a.table()
	for _, kv := range [][2]string{
		{"Email", cl(sub.Email)}, {"Name", cl(sub.Name)}, {"Status", string(sub.Status)}, {"Cadence", string(sub.Cadence)},
		{"Regions", named(sub.Regions, regionName, "all regions")}, {"Topics", named(sub.Topics, topicName, "all topics")},
		{"Consent", consent}, {"Created", when(sub.CreatedAt)}, {"Updated", when(sub.UpdatedAt)},
		{"Confirmed", when(sub.ConfirmedAt)}, {"Unsubscribed", when(sub.UnsubscribedAt)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	for _, kv := range returned.lines() {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], cl(kv[1]))
	}
	return tw.Flush()
}

func cmdSubscribersUpdate(a *app, args []string) error {
	fs := a.flags("subscribers update", "EMAIL [flags]", `Change a subscriber's name, regions, topics or cadence; only the given flags change.
--region and --topic replace the whole set; --clear-regions and --clear-topics choose all.`)
	c := addChoiceFlags(fs, "")
	clearRegions := fs.Bool("clear-regions", false, "choose all regions")
	clearTopics := fs.Bool("clear-topics", false, "choose all topics")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	given := flagsSet(fs)
	if !given["name"] && !given["region"] && !given["topic"] && !given["cadence"] && !*clearRegions && !*clearTopics {
		return usagef("nothing to change: give --name, --region, --topic, --cadence, --clear-regions or --clear-topics")
	}
	if given["region"] && *clearRegions {
		return usagef("--region and --clear-regions contradict each other: give one")
	}
	if given["topic"] && *clearTopics {
		return usagef("--topic and --clear-topics contradict each other: give one")
	}
	s, set, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	old, err := a.findSubscriber(s, pos[0])
	if err != nil {
		return err
	}
	in := subscribers.Input{Email: old.Email, Name: old.Name, Regions: old.Regions, Topics: old.Topics, Cadence: string(old.Cadence)}
	if given["name"] {
		in.Name = *c.name
	}
	if given["region"] {
		in.Regions = c.regions
	}
	if *clearRegions {
		in.Regions = nil
	}
	if given["topic"] {
		in.Topics = c.topics
	}
	if *clearTopics {
		in.Topics = nil
	}
	if given["cadence"] {
		in.Cadence = *c.cadence
	}
	next, errs := in.Validate(set)
	if len(errs) > 0 {
		return fieldProblems(errs)
	}
	next.ID, next.Email = old.ID, old.Email
	changed := changedFields(old, next)
	if len(changed) == 0 {
		fmt.Fprintf(a.stdout, "nothing changed for %s\n", old.Email)
		return nil
	}
	if err := s.UpdateChoices(a.ctx, next); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "updated %s: %s (regions: %s, topics: %s, %s)\n", old.Email, strings.Join(changed, ", "), orAll(next.Regions), orAll(next.Topics), next.Cadence)
	return nil
}

func cmdSubscribersUnsubscribe(a *app, args []string) error {
	fs := a.flags("subscribers unsubscribe", "EMAIL", "Unsubscribe a subscriber: they receive nothing more. The record stays (see delete for erasure).")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, _, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	sub, err := a.findSubscriber(s, pos[0])
	if err != nil {
		return err
	}
	if sub.Status == subscribers.StatusUnsubscribed {
		fmt.Fprintf(a.stdout, "%s was already unsubscribed on %s\n", sub.Email, sub.UnsubscribedAt.UTC().Format(time.RFC3339))
		return nil
	}
	if _, err := s.Unsubscribe(a.ctx, sub.ID); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "unsubscribed %s (was %s)\n", sub.Email, sub.Status)
	return nil
}

func cmdSubscribersDelete(a *app, args []string) error {
	fs := a.flags("subscribers delete", "EMAIL", `Erase a subscriber (GDPR Art. 17): the address, name, consent evidence and choices
are deleted. Past deliveries stay as anonymous counts without any link to the person.
This cannot be undone.`)
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, _, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	sub, err := a.findSubscriber(s, pos[0])
	if err != nil {
		return err
	}
	e, err := s.Delete(a.ctx, sub.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "erased %s: address, name, consent evidence, %d region(s) and %d topic(s) deleted; %d past deliveries kept as anonymous counts\n",
		e.Subscriber.Email, len(e.Subscriber.Regions), len(e.Subscriber.Topics), e.Deliveries)
	return nil
}

func cmdSubscribersResend(a *app, args []string) error {
	fs := a.flags("subscribers resend-confirmation", "EMAIL", "Send the double opt-in email again to a pending subscriber.", groupMail)
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	s, _, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	sub, err := a.findSubscriber(s, pos[0])
	if err != nil {
		return err
	}
	if sub.Status != subscribers.StatusPending {
		return fmt.Errorf("%s is %s, not pending: only pending subscribers get a confirmation email", sub.Email, sub.Status)
	}
	if err := a.sendConfirmation(sub); err != nil {
		return fmt.Errorf("the confirmation email to %s could not be sent: %w; %s stays pending", sub.Email, err, sub.Email)
	}
	fmt.Fprintf(a.stdout, "sent the confirmation email to %s\n", sub.Email)
	return nil
}

func cmdSubscribersExport(a *app, args []string) error {
	fs := a.flags("subscribers export", "[FILE] [flags]", `Write subscribers in the import format (email,name,regions,topics,cadence) to FILE,
or to standard output without FILE. By default only active subscribers are exported, so
that `+"`digest subscribers import --confirmed`"+` of the file never subscribes someone who is
pending, left or bounced; --status exports another status.`)
	status, region, topic := filterFlags(fs, "export subscribers with this status (default active)")
	pos, err := a.parse(fs, args, 0, 1)
	if err != nil {
		return err
	}
	if *status == "" {
		*status = string(subscribers.StatusActive)
	}
	s, set, err := a.subscriberEnv()
	if err != nil {
		return err
	}
	f, err := buildFilter(set, *status, *region, *topic)
	if err != nil {
		return err
	}
	out := a.stdout
	var file *os.File
	if len(pos) == 1 && pos[0] != "-" {
		// Write next to the target and rename, so a failed export leaves no half file.
		file, err = os.CreateTemp(filepath.Dir(pos[0]), ".export-*.csv")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer os.Remove(file.Name())
		defer file.Close()
		out = file
	}
	w, err := subscribers.NewCSVWriter(out)
	if err != nil {
		return err
	}
	n := 0
	if err := s.Each(a.ctx, f, func(sub subscribers.Subscriber) error { n++; return w.Write(sub) }); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if file == nil {
		return nil
	}
	if err := file.Close(); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(file.Name(), pos[0]); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(a.stdout, "exported %d %s subscriber(s) to %s\n", n, f.Status, pos[0])
	return nil
}

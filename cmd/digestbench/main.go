// Command digestbench measures one weekly edition of digest end to end: it
// creates a fresh database, loads generated subscribers and articles (and,
// by default, a previous edition already sent, so that history matters), then
// runs the edition through digest.Runner with the real templates, signed links
// and SMTP transport against a discarding loopback SMTP server in a child
// process, and prints planning time, rendering and sending rates, whole-run
// time, peak memory and the number of SQL statements. With -subscribers-list
// it measures one edition per size and ends with a table of peak memory per
// size. `make bench` runs it;
// BENCHMARKS.md explains the method and records the results.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/mail"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/mailer"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/templates"
)

// listmonkArticles is the number of fresh articles of the listmonk profile:
// chosen so that the mean message is 18–22 KB. 300 gave 39.7 KB; after the
// byte cut of issue 12 (branch i12enc) 70 gives 18.6 KB (19,096 bytes as
// transmitted to the sink, 8bit; BENCHMARKS.md).
const listmonkArticles = 70

// defaultPostgres is a local server with trust authentication.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/?sslmode=disable"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if limit := digest.MemoryLimitFor(os.Getenv); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "digestbench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type options struct {
	db          string
	sqlite      bool
	subscribers int
	articles    int
	history     bool
	workers     int
	batch       int
	sendFor     time.Duration
	render      bool
	reuse       string
	slowest     int
	keep        bool
	seed        uint64
	cpuProfile  string
	memProfile  string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("digestbench", flag.ContinueOnError)
	var o options
	def := getenv("DIGEST_BENCH_POSTGRES")
	if def == "" {
		def = defaultPostgres
	}
	sink := fs.Bool("sink", false, "run only the SMTP sink (used internally: the sink runs in a child process)")
	fs.StringVar(&o.db, "db", def, "PostgreSQL server URL to create the benchmark database on (env DIGEST_BENCH_POSTGRES)")
	fs.BoolVar(&o.sqlite, "sqlite", false, "use a fresh SQLite file in a temporary directory instead of PostgreSQL")
	fs.IntVar(&o.subscribers, "subscribers", 100000, "number of subscribers")
	fs.IntVar(&o.articles, "articles", 2000, "number of articles in the 14-day window")
	fs.BoolVar(&o.history, "history", true, "load a previous edition, already sent, so that history matters")
	fs.IntVar(&o.workers, "workers", 0, "SMTP connections (0: the product default)")
	fs.IntVar(&o.batch, "batch", 0, "deliveries claimed at once (0: the product default)")
	fs.DurationVar(&o.sendFor, "send-for", 0, "stop sending after this long (0: send the whole edition)")
	fs.BoolVar(&o.render, "render", true, "after the run, measure rendering alone (prepare + render + message, no SMTP)")
	fs.BoolVar(&o.keep, "keep", false, "keep the benchmark database (default: drop it)")
	fs.StringVar(&o.reuse, "reuse", "", "measure again on a database kept by -keep (URL): the measured edition is deleted first, nothing is loaded")
	fs.IntVar(&o.slowest, "slowest", 0, "print the N statements that took longest in all (PostgreSQL)")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed of the generated data")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write an allocation profile of the run to this file")
	sizes := fs.String("subscribers-list", "", "measure one edition per number of subscribers, e.g. 10000,100000,1000000 (each on a fresh database), and print a table of peak memory per size")
	profile := fs.String("profile", "default", "data profile: default (the flags above) or listmonk (20,000 subscribers and few fresh articles, so that the mean message is about 20 KB, as in listmonk's published 20,000-subscriber campaign; explicit -subscribers/-articles win)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch *profile {
	case "default":
	case "listmonk":
		if !set["subscribers"] {
			o.subscribers = 20000
		}
		if !set["articles"] {
			o.articles = listmonkArticles
		}
	default:
		return fmt.Errorf("-profile %q: want default or listmonk", *profile)
	}
	if *sink {
		return serveSink(stdin, stdout)
	}
	if *sizes != "" {
		return runSizes(ctx, o, *sizes, stdout)
	}
	b := &bench{o: o, out: stdout}
	return b.run(ctx)
}

// runSizes measures one edition per number of subscribers, each on a fresh
// database, and ends with a table of the memory figures, which should stay
// flat as subscribers grow.
func runSizes(ctx context.Context, o options, list string, stdout io.Writer) error {
	var sizes []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("-subscribers-list %q: %q is not a positive number of subscribers", list, f)
		}
		sizes = append(sizes, n)
	}
	var rows []result
	for _, n := range sizes {
		o.subscribers = n
		fmt.Fprintf(stdout, "\n== %d subscribers\n", n)
		b := &bench{o: o, out: stdout}
		if err := b.run(ctx); err != nil {
			return fmt.Errorf("%d subscribers: %w", n, err)
		}
		rows = append(rows, b.res)
		debug.FreeOSMemory() // what this size left behind does not count for the next
	}
	fmt.Fprintf(stdout, "\nmemory by size (peak RSS and Go heap peak of the run; flat means they do not grow with subscribers)\n")
	fmt.Fprintf(stdout, "%12s %10s %10s %9s %10s %9s %10s %10s %8s\n", "subscribers", "deliveries", "selections", "plan s", "msgs/s", "run s", "peak RSS", "heap peak", "load")
	for _, r := range rows {
		fmt.Fprintf(stdout, "%12d %10d %10d %9.1f %10.0f %9.1f %7.1f MB %7.1f MB %8s\n", r.Subscribers, r.Planned, r.Selections,
			r.Plan.Seconds(), r.RunRate, r.Run.Seconds(), float64(r.PeakRSS)/(1<<20), float64(r.HeapPeak)/(1<<20), r.Load)
	}
	return nil
}

type bench struct {
	o   options
	out io.Writer
	n   statements
	res result // of the last measure
}

// result is what one measured edition gave, for the -subscribers-list table.
type result struct {
	Subscribers, Planned, Selections int
	Plan, Run                        time.Duration
	RunRate                          float64 // messages/s end to end
	PeakRSS, HeapPeak                int64
	Load                             string // 1-minute load average at the end
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// at is the run time of the measured edition: Monday 23 February 2026, 07:00 in Berlin.
var at = time.Date(2026, 2, 23, 6, 0, 0, 0, time.UTC)

func (b *bench) run(ctx context.Context) error {
	o := b.o
	dbName := fmt.Sprintf("digest_bench_%d_%d", time.Now().Unix(), os.Getpid())
	var loadDB, runDB *store.DB
	var err error
	if strings.HasPrefix(o.reuse, "sqlite:") {
		if loadDB, err = store.Open(ctx, o.reuse); err != nil {
			return err
		}
		defer loadDB.Close()
		if _, err := loadDB.Migrate(ctx); err != nil {
			return err
		}
		if _, err := loadDB.ExecContext(ctx, `DELETE FROM runs WHERE cadence = 'weekly' AND edition = ?`, digest.Edition(digest.Weekly, at)); err != nil {
			return err
		}
		if err := loadDB.GetContext(ctx, &b.o.subscribers, `SELECT count(*) FROM subscribers`); err != nil {
			return err
		}
		b.printf("database    %s (reused; edition %s deleted)\n", o.reuse, digest.Edition(digest.Weekly, at))
		runDB = b.countingSQLite(loadDB)
		defer runDB.Close()
		return b.measure(ctx, runDB)
	} else if o.sqlite {
		dir, err := os.MkdirTemp("", "digestbench")
		if err != nil {
			return err
		}
		if !o.keep {
			defer os.RemoveAll(dir)
		}
		u := "sqlite:" + filepath.Join(dir, "bench.db")
		if loadDB, err = store.Open(ctx, u); err != nil {
			return err
		}
		runDB = b.countingSQLite(loadDB)
		defer runDB.Close()
		b.printf("database    SQLite %s\n", u)
	} else if strings.HasPrefix(o.reuse, "postgres") {
		if loadDB, err = store.Open(ctx, o.reuse); err != nil {
			return err
		}
		defer loadDB.Close()
		if runDB, err = b.countingDB(o.reuse); err != nil {
			return err
		}
		defer runDB.Close()
		if _, err := loadDB.Migrate(ctx); err != nil {
			return err
		}
		if _, err := loadDB.ExecContext(ctx, loadDB.Rebind(`DELETE FROM runs WHERE cadence = 'weekly' AND edition = ?`), digest.Edition(digest.Weekly, at)); err != nil {
			return err
		}
		if err := analyze(ctx, loadDB); err != nil {
			return err
		}
		b.printf("database    %s (reused; edition %s deleted)\n", store.Redact(o.reuse), digest.Edition(digest.Weekly, at))
		if err := loadDB.GetContext(ctx, &b.o.subscribers, `SELECT count(*) FROM subscribers`); err != nil {
			return err
		}
		return b.measure(ctx, runDB)
	} else {
		u, drop, err := createPostgres(ctx, o.db, dbName)
		if err != nil {
			return err
		}
		if o.keep {
			b.printf("database    %s (kept)\n", store.Redact(u))
		} else {
			defer drop()
			b.printf("database    %s (dropped at the end)\n", store.Redact(u))
		}
		if loadDB, err = store.Open(ctx, u); err != nil {
			return err
		}
		if runDB, err = b.countingDB(u); err != nil {
			return err
		}
		defer runDB.Close()
	}
	defer loadDB.Close()
	if _, err := loadDB.Migrate(ctx); err != nil {
		return err
	}
	b.printf("machine     %d CPUs (GOMAXPROCS %d), %s, load average %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), memTotal(), loadAvg())

	// Load.
	start := time.Now()
	late := 0.0
	if o.history {
		late = 0.05
	}
	ls, err := load(ctx, loadDB, newGen(o.seed), o.subscribers, o.articles, at, digest.DefaultWindow, late)
	if err != nil {
		return err
	}
	b.printf("load        %6.1f s  %d subscribers (%d choices), %d articles (%d tags); not part of the run\n",
		time.Since(start).Seconds(), ls.Subscribers, ls.SubscriberTags, ls.Articles, ls.ArticleTags)
	if o.history {
		start = time.Now()
		prev, err := previousEdition(ctx, loadDB, at)
		if err != nil {
			return err
		}
		b.printf("history     %6.1f s  edition %s planned (%d deliveries, %d selections) and marked sent; %d subscribers joined since\n",
			time.Since(start).Seconds(), prev.Run.Edition, prev.Planned, prev.Selections, ls.Late)
	}
	return b.measure(ctx, runDB)
}

// countingDB opens the database for the run through a driver that counts statements.
func (b *bench) countingDB(u string) (*store.DB, error) {
	c, err := newCountingConnector(u, &b.n)
	if err != nil {
		return nil, err
	}
	db := sqlx.NewDb(sql.OpenDB(c), "postgres")
	// The same pool settings as store.Open.
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return &store.DB{DB: db, Dialect: store.Postgres}, nil
}

// countingSQLite opens the SQLite database of db a second time, for the
// run, through a driver that counts statements (the same DSN and pool size
// as store.Open).
func (b *bench) countingSQLite(db *store.DB) *store.DB {
	run := *db
	run.DB = sqlx.NewDb(sql.OpenDB(newCountingSQLite(db.Path(), &b.n)), "sqlite")
	run.SetMaxOpenConns(4)
	return &run
}

// planClock notes when the runner logs "planned", to split planning from sending.
type planClock struct {
	slog.Handler
	planned   atomic.Int64 // unix nanoseconds
	onPlanned func()
}

func (h *planClock) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "planned" && h.planned.CompareAndSwap(0, time.Now().UnixNano()) && h.onPlanned != nil {
		h.onPlanned()
	}
	return nil
}

func (h *planClock) Enabled(context.Context, slog.Level) bool { return true }
func (h *planClock) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *planClock) WithGroup(string) slog.Handler            { return h }

func (b *bench) measure(ctx context.Context, db *store.DB) error {
	o := b.o
	tmpl, err := templates.New(templates.Site{Name: "Kommune21 Digest", PortalURL: "https://www.kommune21.de",
		Imprint: "Kommune21 Digest\nBeispielstraße 1, 12345 Beispielstadt", ReplyTo: "redaktion@kommune21.example"})
	if err != nil {
		return err
	}
	signer, err := subscribers.NewSigner("bench-link-signing-key-0123456789")
	if err != nil {
		return err
	}
	sink, err := startSink()
	if err != nil {
		return err
	}
	sinkStopped := false
	defer func() {
		if !sinkStopped {
			_, _ = sink.stop()
		}
	}()
	mc, err := mailer.ParseURL("smtp://" + sink.Addr + "?tls=none")
	if err != nil {
		return err
	}
	tr, err := mailer.New(mc)
	if err != nil {
		return err
	}
	now := func() time.Time { return at }
	sender := &digest.Sender{DB: db, Templates: tmpl, Transport: tr, Links: subscribers.Links{Signer: signer, Base: "https://digest.kommune21.example"},
		Message: digest.MessageOptions{From: mail.Address{Name: "Kommune21 Digest", Address: "digest@kommune21.example"},
			ListID: "Kommune21 Digest <digest.kommune21.example>", Domain: "kommune21.example",
			UnsubscribeMailto: "mailto:redaktion@kommune21.example?subject=Abmelden"},
		Workers: o.workers, Batch: o.batch, Now: now}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	clk := &planClock{}
	if o.sendFor > 0 {
		clk.onPlanned = func() { time.AfterFunc(o.sendFor, cancel) }
	}
	runner := &digest.Runner{Planner: &digest.Planner{DB: db, Now: now}, Sender: sender, Log: slog.New(clk)}

	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if o.memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	runtime.GC()
	hwmReset := resetPeakRSS()
	heap := sampleHeap(50 * time.Millisecond)
	var pg *pgSampler
	if db.Dialect == store.Postgres {
		var name string
		if err := db.GetContext(ctx, &name, `SELECT current_database()`); err != nil {
			return err
		}
		pg = samplePostgres(name, 200*time.Millisecond)
	}
	cpu0, stat0, stmts0 := cpuTime(), readCPUStat(), b.n.total()
	start := time.Now()
	rep, err := runner.Run(runCtx, digest.Weekly, at, false)
	elapsed := time.Since(start)
	if err != nil && !(o.sendFor > 0 && errors.Is(err, context.Canceled) && ctx.Err() == nil) {
		return fmt.Errorf("run: %w", err)
	}
	cpu, busy, stmts := cpuTime()-cpu0, busyShare(stat0, readCPUStat()), b.n.total()-stmts0
	var pgCPU time.Duration
	if pg != nil {
		pgCPU = pg.end()
	}
	maxHeap, maxGo := heap.end()
	peak := peakRSS()
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return err
		}
	}
	sr, err := sink.stop()
	sinkStopped = true
	if err != nil {
		return err
	}

	planned := time.Unix(0, clk.planned.Load())
	planTime := planned.Sub(start)
	sendTime := elapsed - planTime
	p, s := rep.Plan, rep.Send
	b.printf("planning    %6.1f s  %d deliveries, %d selections (%.1f subscribers each), %d skipped (nothing new)\n",
		planTime.Seconds(), p.Planned, p.Selections, float64(p.Planned)/float64(max(1, p.Selections)), p.Skipped)
	bounded := ""
	if o.sendFor > 0 {
		bounded = fmt.Sprintf(" (bounded: stopped after %s, %d of %d due)", o.sendFor, s.Done(), s.Due)
	}
	b.printf("sending     %6.1f s  %d sent, %d retry, %d failed: %.0f messages/s over %d SMTP connections%s\n",
		sendTime.Seconds(), s.Sent, s.Retry, s.Failed, float64(s.Sent)/sendTime.Seconds(), sr.Connections, bounded)
	meanBytes := float64(sr.Bytes) / float64(max(1, sr.Messages))
	b.printf("sink        %d messages to %d distinct recipients, %d duplicates; mean message %.0f bytes (%.1f KB as transmitted)\n",
		sr.Messages, sr.Recipients, sr.Duplicates, meanBytes, meanBytes/1024)
	b.printf("whole run   %6.1f s  (digest.Runner.Run: plan + send): %.0f messages/s end to end\n", elapsed.Seconds(), float64(s.Sent)/elapsed.Seconds())
	hwm := "VmHWM since the run started"
	if !hwmReset {
		hwm = "VmHWM since the process started (could not reset it)"
	}
	b.printf("memory      peak RSS %s (%s); Go heap objects peak %s, Go total peak %s; sink process peak RSS %s (separate, not counted)\n",
		mb(peak), hwm, mb(int64(maxHeap)), mb(int64(maxGo)), mb(sr.PeakRSS))
	b.printf("cpu         run %.1f s (%.2f cores), sink %.1f s, PostgreSQL %.1f s (this database's backends); all CPUs %.0f%% busy during the run (other users included)\n",
		cpu.Seconds(), cpu.Seconds()/elapsed.Seconds(), sr.CPU.Seconds(), pgCPU.Seconds(), busy*100)
	b.printf("sql         %d statements (%d queries, %d execs, %d transactions): %.3f per delivery\n",
		stmts, b.n.queries.Load(), b.n.execs.Load(), b.n.begins.Load(), float64(stmts)/float64(max(1, p.Planned)))
	for _, st := range b.n.slowest(o.slowest) {
		b.printf("  %7.2f s %6dx  %s\n", st.Time.Seconds(), st.Count, oneLine(st.Text, 110))
	}
	if o.render {
		if err := b.renderOnly(ctx, sender, rep.Plan.Run); err != nil {
			return err
		}
	}
	b.printf("summary     subscribers=%d planned=%d selections=%d plan_s=%.2f sent=%d send_s=%.2f msgs_per_s=%.0f run_s=%.2f run_msgs_per_s=%.0f mean_msg_bytes=%.0f peak_rss_mb=%.1f heap_peak_mb=%.1f cpu_s=%.1f sink_cpu_s=%.1f pg_cpu_s=%.1f statements=%d duplicates=%d load=%s\n",
		o.subscribers, p.Planned, p.Selections, planTime.Seconds(), s.Sent, sendTime.Seconds(), float64(s.Sent)/sendTime.Seconds(),
		elapsed.Seconds(), float64(s.Sent)/elapsed.Seconds(), meanBytes, float64(peak)/(1<<20), float64(maxHeap)/(1<<20),
		cpu.Seconds(), sr.CPU.Seconds(), pgCPU.Seconds(), stmts, sr.Duplicates, strings.ReplaceAll(loadAvg(), " ", "/"))
	b.res = result{Subscribers: o.subscribers, Planned: p.Planned, Selections: p.Selections, Plan: planTime, Run: elapsed,
		RunRate: float64(s.Sent) / elapsed.Seconds(), PeakRSS: peak, HeapPeak: int64(maxHeap), Load: strings.Fields(loadAvg())[0]}
	if sr.Duplicates > 0 {
		return fmt.Errorf("the sink received %d duplicate messages", sr.Duplicates)
	}
	return nil
}

// renderOnly measures rendering without SMTP: every message of the edition
// prepared, rendered and built again from a cold cache.
func (b *bench) renderOnly(ctx context.Context, sender *digest.Sender, run digest.Run) error {
	start, cpu0 := time.Now(), cpuTime()
	st, err := sender.Render(ctx, run, func(*mailer.Message) error { return nil })
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	d, cpu := time.Since(start), cpuTime()-cpu0
	b.printf("rendering   %6.1f s  %d messages from %d prepared digests: %.0f digests/s (prepare + render + message, %d goroutines, no SMTP); average %.1f KB HTML+text\n",
		d.Seconds(), st.Messages, st.Prepared, float64(st.Messages)/d.Seconds(), runtime.GOMAXPROCS(0), float64(st.Bytes)/float64(max(1, st.Messages))/1024)
	// CPU time does not depend on the other users of the machine as much as
	// the wall time does (reading the deliveries is included).
	b.printf("rendering   cpu %.1f s: %.1f µs per message, %.0f messages per CPU second\n",
		cpu.Seconds(), float64(cpu.Microseconds())/float64(max(1, st.Messages)), float64(st.Messages)/max(cpu.Seconds(), 1e-9))
	return nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "memory unknown"
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var kb int64
	fmt.Sscanf(strings.TrimPrefix(line, "MemTotal:"), "%d", &kb)
	return fmt.Sprintf("%.1f GB RAM", float64(kb)/(1<<20))
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

package digest_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/internal/smtptest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
)

// The selection policy as data: who gets which article in an edition.
//
// The suite states the rules of README "How it decides what to send" and the
// package doc, and observes them only through public behaviour: a case writes
// articles and subscribers, plays earlier editions through Runner (planned
// only, or sent through a real SMTP server on loopback that can refuse
// chosen recipients), plans and sends the edition under test, and reads each
// recipient's email: which articles it lists (by URL), and how many more it
// counts ("und N weitere Artikel"). It also asks Sender.Preview, before the
// edition is planned, for every subscriber, and expects the same articles. It
// never reads the planner's tables, so a rewrite of planning must pass it
// unchanged.

const pDay = 24 * time.Hour

// pArticle is an article; pub and ing are offsets from the edition's time T.
type pArticle struct {
	key      string
	pub, ing time.Duration
	tags     string // region codes and topic slugs, space separated
}

// pSub is a subscriber; choices are region codes and topic slugs, space
// separated (none: everything). cadence defaults to weekly, status to active.
// A late subscriber joins after the earlier editions.
type pSub struct {
	email, choices, cadence, status string
	late                            bool
}

// pStep is an earlier edition.
type pStep struct {
	cadence digest.Cadence
	at      time.Duration // offset from T
	// planOnly plans the edition and sends nothing: its deliveries stay pending.
	planOnly bool
	// outcome makes a recipient's delivery end otherwise than sent:
	// "retry" (451 4.7.1 once), "failed" (554 5.7.1 once: permanent, no bounce),
	// "skipped" (the subscriber unsubscribes after planning and is active again
	// after the send).
	outcome map[string]string
}

// pCase is one rule. want lists every subscriber: the keys of the articles
// their email lists (in any order: the email groups them by topic or region),
// nil for no email. more is the "und N weitere" count where it is not zero.
type pCase struct {
	name     string
	articles []pArticle
	subs     []pSub
	history  []pStep
	// Between the history and the edition under test:
	switchTo map[string]string        // email → new cadence
	redate   map[string]time.Duration // article key → new publication offset (a feed changed it)
	cadence  digest.Cadence           // of the edition under test; weekly when empty
	cap      int                      // Planner.Cap; the default when zero
	want     map[string][]string
	more     map[string]int
}

func pArts(prefix string, n int, pub time.Duration, tags string) []pArticle {
	var as []pArticle
	for i := range n {
		// One minute apart: the last is the newest.
		as = append(as, pArticle{fmt.Sprintf("%s%02d", prefix, i), pub + time.Duration(i)*time.Minute, -20 * pDay, tags})
	}
	return as
}

func pKeys(as []pArticle) []string {
	var ks []string
	for _, a := range as {
		ks = append(ks, a.key)
	}
	return ks
}

var (
	capArts   = pArts("cap", 35, -10*pDay, "DE-BY")
	cap30Arts = pArts("c30-", 30, -10*pDay, "DE-BY")
	cap31Arts = pArts("c31-", 31, -10*pDay, "DE-BY")
)

var policyCases = []pCase{
	// The freshness window: ingested at or before T, published in (T − 14 days, T].
	{
		name: "WindowEdges",
		articles: []pArticle{
			{"pub-14d-minus-1s", -14*pDay - time.Second, -20 * pDay, "DE-HE"},
			{"pub-14d-exactly", -14 * pDay, -20 * pDay, "DE-HE"},
			{"pub-14d-plus-1s", -14*pDay + time.Second, -20 * pDay, "DE-HE"},
			{"pub-T-minus-1s", -time.Second, -time.Hour, "DE-HE"},
			{"pub-T-exactly", 0, -time.Hour, "DE-HE"},
			{"pub-T-plus-1s", time.Second, -time.Hour, "DE-HE"}, // announced ahead: ingested before T, published after it
			{"ing-T-minus-1s", -pDay, -time.Second, "DE-HE"},
			{"ing-T-exactly", -pDay, 0, "DE-HE"},
			{"ing-T-plus-1s", -pDay, time.Second, "DE-HE"},
		},
		subs: []pSub{{email: "hessen@example.org", choices: "DE-HE"}},
		want: map[string][]string{"hessen@example.org": {
			"pub-14d-plus-1s", "pub-T-minus-1s", "pub-T-exactly", "ing-T-minus-1s", "ing-T-exactly"}},
	},
	{
		name: "IngestedVersusPublished",
		articles: []pArticle{
			{"late-import-in-window", -13 * pDay, -time.Hour, "DE-HE"},  // imported late: still new
			{"late-import-archive", -15 * pDay, -time.Hour, "DE-HE"},    // an archive import does not flood
			{"early-import-fresh", -2 * pDay, -30 * pDay, "DE-HE"},      // known long before its date
			{"imported-after-T", -2 * pDay, time.Minute, "DE-HE"},       // not known at T
			{"imported-after-T-old", -20 * pDay, time.Minute, "DE-HE"},  // neither
			{"published-ahead-known", 2 * pDay, -pDay, "DE-HE"},         // dated after T
			{"in-window-ingest-14d", -13 * pDay, -14 * pDay, "DE-HE"},   // ingestion time has no lower bound
			{"in-window-ingest-100d", -time.Hour, -100 * pDay, "DE-HE"}, // nor here
		},
		subs: []pSub{{email: "hessen@example.org", choices: "DE-HE"}},
		want: map[string][]string{"hessen@example.org": {
			"late-import-in-window", "early-import-fresh", "in-window-ingest-14d", "in-window-ingest-100d"}},
	},
	// Regions: DE (bundesweit) is a region like any other; an empty set is all of them.
	{
		name: "Regions",
		articles: []pArticle{
			{"bund", -pDay, -pDay, "DE"},
			{"bayern", -pDay, -pDay, "DE-BY"},
			{"hessen", -pDay, -pDay, "DE-HE"},
			{"thueringen", -pDay, -pDay, "DE-TH"},
			{"bund-und-bayern", -pDay, -pDay, "DE DE-BY"},
			{"hessen-und-thueringen", -pDay, -pDay, "DE-HE DE-TH"},
		},
		subs: []pSub{
			{email: "bund@example.org", choices: "DE"},
			{email: "bayern@example.org", choices: "DE-BY"},
			{email: "laender@example.org", choices: "DE-BY DE-HE"},
			{email: "bund-thueringen@example.org", choices: "DE DE-TH"},
			{email: "berlin@example.org", choices: "DE-BE"}, // nothing from Berlin
			{email: "alle@example.org"},
		},
		want: map[string][]string{
			"bund@example.org":            {"bund", "bund-und-bayern"},
			"bayern@example.org":          {"bayern", "bund-und-bayern"},
			"laender@example.org":         {"bayern", "hessen", "bund-und-bayern", "hessen-und-thueringen"},
			"bund-thueringen@example.org": {"bund", "thueringen", "bund-und-bayern", "hessen-und-thueringen"},
			"berlin@example.org":          nil,
			"alle@example.org":            {"bund", "bayern", "hessen", "thueringen", "bund-und-bayern", "hessen-und-thueringen"},
		},
	},
	// Topics: at least one shared; an empty set is all; regions and topics both must match.
	{
		name: "Topics",
		articles: []pArticle{
			{"ki", -pDay, -pDay, "DE-NW kuenstliche-intelligenz"},
			{"ki-und-sicherheit", -pDay, -pDay, "DE-NW kuenstliche-intelligenz it-sicherheit"},
			{"sicherheit-und-cloud", -pDay, -pDay, "DE-NW it-sicherheit cloud-infrastruktur"},
			{"cloud", -pDay, -pDay, "DE-NW cloud-infrastruktur"},
			{"ohne-thema", -pDay, -pDay, "DE-NW"},
			{"ki-in-sachsen", -pDay, -pDay, "DE-SN kuenstliche-intelligenz"},
		},
		subs: []pSub{
			{email: "ki@example.org", choices: "kuenstliche-intelligenz"},
			{email: "ki-cloud@example.org", choices: "kuenstliche-intelligenz cloud-infrastruktur"},
			{email: "nrw-sicherheit@example.org", choices: "DE-NW it-sicherheit"},
			{email: "nrw@example.org", choices: "DE-NW"},
			{email: "sachsen-cloud@example.org", choices: "DE-SN cloud-infrastruktur"},
			{email: "bildung@example.org", choices: "schule-bildung"},
		},
		want: map[string][]string{
			"ki@example.org":             {"ki", "ki-und-sicherheit", "ki-in-sachsen"},
			"ki-cloud@example.org":       {"ki", "ki-und-sicherheit", "sicherheit-und-cloud", "cloud", "ki-in-sachsen"},
			"nrw-sicherheit@example.org": {"ki-und-sicherheit", "sicherheit-und-cloud"},
			"nrw@example.org":            {"ki", "ki-und-sicherheit", "sicherheit-und-cloud", "cloud", "ohne-thema"},
			"sachsen-cloud@example.org":  nil,
			"bildung@example.org":        nil,
		},
	},
	{
		name: "NoArticles",
		articles: []pArticle{
			{"zu-alt", -15 * pDay, -15 * pDay, "DE"},
			{"zu-neu", -pDay, pDay, "DE"},
		},
		subs: []pSub{{email: "a@example.org"}, {email: "b@example.org", choices: "DE"}},
		want: map[string][]string{"a@example.org": nil, "b@example.org": nil},
	},
	{
		name:     "NoSubscribers",
		articles: []pArticle{{"bund", -pDay, -pDay, "DE"}},
		want:     map[string][]string{},
	},
	// Only active subscribers of the edition's cadence.
	{
		name:     "StatusAndCadenceInTheWeeklyEdition",
		articles: []pArticle{{"bund", -pDay, -pDay, "DE"}},
		subs: []pSub{
			{email: "weekly@example.org"},
			{email: "daily@example.org", cadence: "daily"},
			{email: "pending@example.org", status: "pending"},
			{email: "unsubscribed@example.org", status: "unsubscribed"},
			{email: "bounced@example.org", status: "bounced"},
		},
		want: map[string][]string{
			"weekly@example.org": {"bund"}, "daily@example.org": nil,
			"pending@example.org": nil, "unsubscribed@example.org": nil, "bounced@example.org": nil,
		},
	},
	{
		name:     "StatusAndCadenceInTheDailyEdition",
		cadence:  digest.Daily,
		articles: []pArticle{{"bund", -pDay, -pDay, "DE"}, {"alt", -13 * pDay, -13 * pDay, "DE"}},
		subs: []pSub{
			{email: "weekly@example.org"},
			{email: "daily@example.org", cadence: "daily"},
			{email: "daily-pending@example.org", cadence: "daily", status: "pending"},
			{email: "daily-bounced@example.org", cadence: "daily", status: "bounced"},
		},
		// The daily edition has the same 14-day window: a new daily subscriber gets both.
		want: map[string][]string{
			"weekly@example.org": nil, "daily@example.org": {"bund", "alt"},
			"daily-pending@example.org": nil, "daily-bounced@example.org": nil,
		},
	},
	// The cap: the 30 newest, and the count of the rest.
	{
		name:     "Cap",
		articles: append(append(slices.Clone(capArts), cap30Arts...), cap31Arts...),
		subs: []pSub{
			{email: "bayern@example.org", choices: "DE-BY"},
		},
		want: map[string][]string{"bayern@example.org": newest(append(append(slices.Clone(capArts), cap30Arts...), cap31Arts...), 30)},
		more: map[string]int{"bayern@example.org": 35 + 30 + 31 - 30},
	},
	{
		name:     "CapExactly30",
		articles: cap30Arts,
		subs:     []pSub{{email: "bayern@example.org", choices: "DE-BY"}},
		want:     map[string][]string{"bayern@example.org": pKeys(cap30Arts)},
	},
	{
		name:     "Cap31",
		articles: cap31Arts,
		subs:     []pSub{{email: "bayern@example.org", choices: "DE-BY"}},
		want:     map[string][]string{"bayern@example.org": pKeys(cap31Arts[1:])},
		more:     map[string]int{"bayern@example.org": 1},
	},
	{
		name:     "CapIsAfterTheChoices",
		articles: append(slices.Clone(capArts), pArticle{"hessen-oldest", -12 * pDay, -12 * pDay, "DE-HE"}),
		cap:      3,
		subs: []pSub{
			{email: "hessen@example.org", choices: "DE-HE"},
			{email: "bayern@example.org", choices: "DE-BY"},
		},
		want: map[string][]string{
			"hessen@example.org": {"hessen-oldest"},
			"bayern@example.org": {"cap34", "cap33", "cap32"},
		},
		more: map[string]int{"bayern@example.org": 32},
	},

	// History: an article counts as received when a sent, pending or retrying
	// delivery of another edition within the window holds it.
	{
		name:     "HistorySentLastWeek",
		articles: []pArticle{{"old", -9 * pDay, -9 * pDay, "DE"}, {"new", -pDay, -pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}, {email: "new@example.org", late: true}},
		history:  []pStep{{cadence: digest.Weekly, at: -7 * pDay}},
		want:     map[string][]string{"a@example.org": {"new"}, "new@example.org": {"old", "new"}},
	},
	{
		// Planned, never sent: the new weekly edition gives it up (failed,
		// superseded) and its articles go out in the new one instead.
		name:     "HistoryPendingSameCadenceIsSuperseded",
		articles: []pArticle{{"old", -9 * pDay, -9 * pDay, "DE"}, {"new", -pDay, -pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -7 * pDay, planOnly: true}},
		want:     map[string][]string{"a@example.org": {"old", "new"}},
	},
	{
		name:     "HistoryRetrySameCadenceIsSuperseded",
		articles: []pArticle{{"old", -9 * pDay, -9 * pDay, "DE"}, {"new", -pDay, -pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}, {email: "b@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -7 * pDay, outcome: map[string]string{"a@example.org": "retry"}}},
		want:     map[string][]string{"a@example.org": {"old", "new"}, "b@example.org": {"new"}},
	},
	{
		name:     "HistoryFailedDoesNotHold",
		articles: []pArticle{{"old", -9 * pDay, -9 * pDay, "DE"}, {"new", -pDay, -pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}, {email: "b@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -7 * pDay, outcome: map[string]string{"a@example.org": "failed"}}},
		want:     map[string][]string{"a@example.org": {"old", "new"}, "b@example.org": {"new"}},
	},
	{
		// Unsubscribed after planning (skipped at send time), then back.
		name:     "HistorySkippedDoesNotHold",
		articles: []pArticle{{"old", -9 * pDay, -9 * pDay, "DE"}, {"new", -pDay, -pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}, {email: "b@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -7 * pDay, outcome: map[string]string{"a@example.org": "skipped"}}},
		want:     map[string][]string{"a@example.org": {"old", "new"}, "b@example.org": {"new"}},
	},
	{
		name:     "HistoryOfSeveralEditions",
		articles: []pArticle{{"w7", -14*pDay + time.Second, -14*pDay + time.Second, "DE"}, {"w8", -8 * pDay, -8 * pDay, "DE"}, {"w9", -pDay, -pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -14*pDay + time.Second}, {cadence: digest.Weekly, at: -7 * pDay}},
		want:     map[string][]string{"a@example.org": {"w9"}},
	},
	{
		// An article sent in an edition at or before T − 14 days is no longer
		// history: when its feed re-dates it into the window it is new again.
		name:     "HistoryOutsideTheWindow",
		articles: []pArticle{{"redated", -15 * pDay, -15 * pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -14 * pDay}},
		redate:   map[string]time.Duration{"redated": -pDay},
		want:     map[string][]string{"a@example.org": {"redated"}},
	},
	{
		name:     "HistoryJustInsideTheWindow",
		articles: []pArticle{{"redated", -15 * pDay, -15 * pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -14*pDay + time.Second}},
		redate:   map[string]time.Duration{"redated": -pDay},
		want:     map[string][]string{"a@example.org": nil},
	},

	// A cadence switch between editions: what the other cadence sent, or is
	// still sending or retrying, is never repeated.
	{
		name:     "SwitchWeeklyToDailyAfterSent",
		articles: []pArticle{{"old", -3 * pDay, -3 * pDay, "DE"}, {"new", -10 * time.Hour, -10 * time.Hour, "DE"}},
		subs:     []pSub{{email: "a@example.org"}, {email: "stays@example.org", cadence: "daily"}},
		history:  []pStep{{cadence: digest.Weekly, at: -2 * pDay}},
		switchTo: map[string]string{"a@example.org": "daily"},
		cadence:  digest.Daily,
		want:     map[string][]string{"a@example.org": {"new"}, "stays@example.org": {"old", "new"}},
	},
	{
		name:     "SwitchWeeklyToDailyWhilePending",
		articles: []pArticle{{"old", -3 * pDay, -3 * pDay, "DE"}, {"new", -10 * time.Hour, -10 * time.Hour, "DE"}},
		subs:     []pSub{{email: "a@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -2 * pDay, planOnly: true}},
		switchTo: map[string]string{"a@example.org": "daily"},
		cadence:  digest.Daily,
		want:     map[string][]string{"a@example.org": {"new"}},
	},
	{
		name:     "SwitchWeeklyToDailyWhileRetrying",
		articles: []pArticle{{"old", -3 * pDay, -3 * pDay, "DE"}, {"new", -10 * time.Hour, -10 * time.Hour, "DE"}},
		subs:     []pSub{{email: "a@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -2 * pDay, outcome: map[string]string{"a@example.org": "retry"}}},
		switchTo: map[string]string{"a@example.org": "daily"},
		cadence:  digest.Daily,
		want:     map[string][]string{"a@example.org": {"new"}},
	},
	{
		name:     "SwitchWeeklyToDailyAfterFailed",
		articles: []pArticle{{"old", -3 * pDay, -3 * pDay, "DE"}, {"new", -10 * time.Hour, -10 * time.Hour, "DE"}},
		subs:     []pSub{{email: "a@example.org"}},
		history:  []pStep{{cadence: digest.Weekly, at: -2 * pDay, outcome: map[string]string{"a@example.org": "failed"}}},
		switchTo: map[string]string{"a@example.org": "daily"},
		cadence:  digest.Daily,
		want:     map[string][]string{"a@example.org": {"old", "new"}},
	},
	{
		name:     "SwitchDailyToWeekly",
		articles: []pArticle{{"mon", -6 * pDay, -6 * pDay, "DE"}, {"fri", -3 * pDay, -3 * pDay, "DE"}, {"sun", -pDay, -pDay, "DE"}},
		subs:     []pSub{{email: "a@example.org", cadence: "daily"}, {email: "pend@example.org", cadence: "daily"}},
		history: []pStep{
			{cadence: digest.Daily, at: -6 * pDay},
			{cadence: digest.Daily, at: -3 * pDay, outcome: map[string]string{"pend@example.org": "retry"}},
		},
		switchTo: map[string]string{"a@example.org": "weekly", "pend@example.org": "weekly"},
		want:     map[string][]string{"a@example.org": {"sun"}, "pend@example.org": {"sun"}},
	},
	{
		// Daily editions among themselves: yesterday's retry is superseded by today's.
		name:     "DailyRetrySuperseded",
		articles: []pArticle{{"y", -30 * time.Hour, -30 * time.Hour, "DE"}, {"t", -2 * time.Hour, -2 * time.Hour, "DE"}},
		subs:     []pSub{{email: "a@example.org", cadence: "daily"}, {email: "b@example.org", cadence: "daily"}},
		history:  []pStep{{cadence: digest.Daily, at: -pDay, outcome: map[string]string{"a@example.org": "retry"}}},
		cadence:  digest.Daily,
		want:     map[string][]string{"a@example.org": {"y", "t"}, "b@example.org": {"t"}},
	},
}

// newest returns the keys of the n newest articles.
func newest(as []pArticle, n int) []string {
	s := slices.Clone(as)
	slices.SortStableFunc(s, func(a, b pArticle) int { return int(b.pub - a.pub) })
	return pKeys(s[:n])
}

func TestPolicy_Selection(t *testing.T) {
	for _, tc := range policyCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) { runPolicyCase(t, db, tc) })
		})
	}
}

func runPolicyCase(t *testing.T, db *store.DB, tc pCase) {
	ctx := context.Background()
	f := fixture{t, db}
	T := T0
	srv := smtptest.Start(t)
	now := T
	r := newRunner(t, db, srv, &now)
	r.Planner.Cap = tc.cap

	byURL := map[string]string{}
	for i, a := range tc.articles {
		url := fmt.Sprintf("https://www.kommune21.de/meldung_%d_%s.html", 1000+i, a.key)
		byURL[url] = a.key
		id := f.id(`INSERT INTO articles (key, url, title, kicker, teaser, published_at, ingested_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.key, url, "Meldung "+a.key, "Ort", "Teaser "+a.key,
			store.T(T.Add(a.pub)), store.T(T.Add(a.ing)), store.T(T.Add(a.ing)))
		for _, tag := range strings.Fields(a.tags) {
			if strings.HasPrefix(tag, "DE") {
				f.exec(`INSERT INTO article_regions (article_id, region_code) VALUES (?, ?)`, id, tag)
			} else {
				f.exec(`INSERT INTO article_topics (article_id, topic_slug) VALUES (?, ?)`, id, tag)
			}
		}
	}
	addSubs := func(late bool) {
		for _, s := range tc.subs {
			if s.late != late {
				continue
			}
			cadence, status := cmpOr(s.cadence, "weekly"), cmpOr(s.status, "active")
			created := store.T(T.Add(-60 * pDay))
			id := f.id(`INSERT INTO subscribers (email, email_key, name, status, cadence, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, s.email, s.email, "Name", status, cadence, created, created)
			for _, c := range strings.Fields(s.choices) {
				if strings.HasPrefix(c, "DE") {
					f.exec(`INSERT INTO subscriber_regions (subscriber_id, region_code) VALUES (?, ?)`, id, c)
				} else {
					f.exec(`INSERT INTO subscriber_topics (subscriber_id, topic_slug) VALUES (?, ?)`, id, c)
				}
			}
			if _, ok := tc.want[s.email]; !ok {
				t.Fatalf("want does not say what %s gets", s.email)
			}
		}
	}
	addSubs(false)

	for i, st := range tc.history {
		now = T.Add(st.at)
		what := fmt.Sprintf("history step %d (%s at T%s)", i, st.cadence, st.at)
		if st.planOnly {
			if _, err := r.Planner.Plan(ctx, st.cadence, now, false); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			continue
		}
		for email, o := range st.outcome {
			switch o {
			case "retry":
				srv.FailRcpt(email, smtptest.Temporary(1))
			case "failed":
				srv.FailRcpt(email, smtptest.Reject(554, "5.7.1", "rejected by policy").Times(1))
			case "skipped":
			default:
				t.Fatalf("%s: unknown outcome %q", what, o)
			}
		}
		plan, err := r.Planner.Plan(ctx, st.cadence, now, false)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for email, o := range st.outcome {
			if o == "skipped" {
				f.exec(`UPDATE subscribers SET status = 'unsubscribed' WHERE email = ?`, email)
			}
		}
		prog, err := r.Sender.Send(ctx, plan.Run)
		if err != nil {
			t.Fatalf("%s: send: %v", what, err)
		}
		for email, o := range st.outcome {
			if o == "skipped" {
				f.exec(`UPDATE subscribers SET status = 'active' WHERE email = ?`, email)
			}
		}
		// The step did what it says, so the case tests what it claims.
		var want digest.Progress
		for _, o := range st.outcome {
			switch o {
			case "retry":
				want.Retry++
			case "failed":
				want.Failed++
			case "skipped":
				want.Skipped++
			}
		}
		if prog.Retry != want.Retry || prog.Failed != want.Failed || prog.Skipped != want.Skipped || prog.Sent == 0 && len(st.outcome) == 0 {
			t.Fatalf("%s: sent %+v, want retry %d, failed %d, skipped %d and some sent", what, prog, want.Retry, want.Failed, want.Skipped)
		}
	}
	addSubs(true)
	for email, c := range tc.switchTo {
		f.exec(`UPDATE subscribers SET cadence = ? WHERE email = ?`, c, email)
	}
	for key, pub := range tc.redate {
		f.exec(`UPDATE articles SET published_at = ? WHERE key = ?`, store.T(T.Add(pub)), key)
	}

	cadence := digest.Cadence(cmpOr(string(tc.cadence), string(digest.Weekly)))
	now = T
	// Preview first (it must not change what the edition then does).
	previews := map[string]policyDigest{}
	for _, s := range tc.subs {
		pv, err := r.Sender.Preview(ctx, r.Planner, s.email, T)
		if err != nil {
			t.Fatalf("preview %s: %v", s.email, err)
		}
		if pv.Message != nil {
			previews[s.email] = parseDigest(t, byURL, pv.Message.Subject, string(pv.Message.Text))
		}
	}
	before := len(srv.Messages())
	rep, err := r.Run(ctx, cadence, T, false)
	if err != nil {
		t.Fatalf("edition: %v", err)
	}
	got := map[string]policyDigest{}
	for _, m := range srv.Messages()[before:] {
		if len(m.To) != 1 {
			t.Fatalf("message to %q", m.To)
		}
		if _, dup := got[m.To[0]]; dup {
			t.Errorf("%s got two emails in one edition", m.To[0])
		}
		got[m.To[0]] = parseDigest(t, byURL, decodeHeader(m.Header.Get("Subject")), textPart(t, m.Data))
	}
	emails := 0
	for email, want := range tc.want {
		g, ok := got[email]
		if len(want) == 0 {
			if ok {
				t.Errorf("%s got an email with %q, want none", email, g.keys)
			}
			continue
		}
		emails++
		slices.Sort(want)
		if !ok {
			t.Errorf("%s got no email, want %q", email, want)
			continue
		}
		if !slices.Equal(g.keys, want) || g.more != tc.more[email] {
			t.Errorf("%s got %q and %d more, want %q and %d more", email, g.keys, g.more, want, tc.more[email])
		}
		if g.total != len(want)+tc.more[email] {
			t.Errorf("%s: subject counts %d new articles, want %d", email, g.total, len(want)+tc.more[email])
		}
	}
	if len(got) != emails {
		t.Errorf("%d emails, want %d", len(got), emails)
	}
	if rep.Send.Sent != int64(emails) {
		t.Errorf("edition sent %d, want %d", rep.Send.Sent, emails)
	}
	// Preview planned each subscriber alone and saw what the edition then
	// gave them; for subscribers outside the edition (other cadence or
	// status) it shows what they would get in it.
	for _, s := range tc.subs {
		if cmpOr(s.status, "active") != "active" || cmpOr(tc.switchTo[s.email], cmpOr(s.cadence, "weekly")) != string(cadence) {
			continue
		}
		pv, ok := previews[s.email]
		g := got[s.email]
		if ok != (len(g.keys) > 0) || !slices.Equal(pv.keys, g.keys) || pv.more != g.more {
			t.Errorf("preview of %s showed %q and %d more, the edition sent %q and %d more", s.email, pv.keys, pv.more, g.keys, g.more)
		}
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// policyDigest is what a digest email lists.
type policyDigest struct {
	keys  []string // sorted
	more  int      // "und N weitere Artikel"
	total int      // "N neue Artikel" in the subject
}

var (
	moreRe  = regexp.MustCompile(`(?m)^Und (\d+) weiterer? Artikel auf`)
	totalRe = regexp.MustCompile(`(\d+) neuer? Artikel`)
	linkRe  = regexp.MustCompile(`mehr… <([^>]+)>`)
)

func parseDigest(t *testing.T, byURL map[string]string, subject, text string) policyDigest {
	t.Helper()
	var d policyDigest
	for _, m := range linkRe.FindAllStringSubmatch(text, -1) {
		key, ok := byURL[m[1]]
		if !ok {
			t.Fatalf("digest links to an unknown article %s", m[1])
		}
		d.keys = append(d.keys, key)
	}
	slices.Sort(d.keys)
	if m := moreRe.FindStringSubmatch(text); m != nil {
		d.more, _ = strconv.Atoi(m[1])
	}
	m := totalRe.FindStringSubmatch(subject)
	if m == nil {
		t.Fatalf("subject %q does not say how many articles are new", subject)
	}
	d.total, _ = strconv.Atoi(m[1])
	return d
}

// textPart returns the decoded text/plain part of a received message.
func textPart(t *testing.T, data []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(ct string, enc string, r io.Reader) (string, bool)
	walk = func(ct, enc string, r io.Reader) (string, bool) {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(r, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err != nil {
					return "", false
				}
				if s, ok := walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); ok {
					return s, true
				}
			}
		}
		if mt != "text/plain" {
			return "", false
		}
		if strings.EqualFold(enc, "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), true
	}
	s, ok := walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body)
	if !ok {
		t.Fatal("message has no text/plain part")
	}
	return s
}

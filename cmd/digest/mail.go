package main

import (
	"fmt"
	"time"

	"github.com/kommune21/digest/feedback"
	"github.com/kommune21/digest/mailbox"
)

func mailCommands() []command {
	return []command{
		{name: "import", summary: "read bounces, complaints and unsubscribe mails from .eml, mbox or Maildir", run: cmdMailImport},
		{name: "list", summary: "list returned mails and what was done about them", run: cmdMailList},
	}
}

type mailResultJSON struct {
	Source       string `json:"source"`
	ID           int64  `json:"id"`
	Kind         string `json:"kind"`
	Severity     string `json:"severity,omitempty"`
	Outcome      string `json:"outcome"`
	Duplicate    bool   `json:"duplicate,omitempty"`
	MatchedBy    string `json:"matched_by,omitempty"`
	Email        string `json:"email,omitempty"`
	Change       string `json:"status_change,omitempty"`
	RunID        int64  `json:"run_id,omitempty"`
	DeliveryID   int64  `json:"delivery_id,omitempty"`
	SubscriberID int64  `json:"subscriber_id,omitempty"`
	Note         string `json:"note,omitempty"`
}

func cmdMailImport(a *app, args []string) error {
	fs := a.flags("mail import", "FILE|DIR... [--json]",
		"Read returned mails (.eml files, mbox files, Maildir folders; a folder is searched for them)\n"+
			"and apply them: a hard bounce marks the subscriber bounced, 3 soft bounces in a row too,\n"+
			"a complaint or an unsubscribe mail unsubscribes. A report counts only when it names a\n"+
			"delivery by a valid return path tag, or by its Message-ID together with the recipient;\n"+
			"anything else is kept as unmatched for staff (`digest mail list --unmatched`).\n"+
			"Importing the same mails again changes nothing.",
		groupMail)
	asJSON := fs.Bool("json", false, "print a JSON array, one object per mail")
	pos, err := a.parse(fs, args, 1, -1)
	if err != nil {
		return err
	}
	h, err := a.feedbackHandler()
	if err != nil {
		return err
	}
	var out []mailResultJSON
	counts := map[feedback.Outcome]int{}
	dups := 0
	err = mailbox.ReadPaths(pos, func(raw []byte, source string) error {
		r, err := h.Handle(a.ctx, raw, source)
		if err != nil {
			return fmt.Errorf("%s: %w", source, err)
		}
		if r.Duplicate {
			dups++
		} else {
			counts[r.Outcome]++
		}
		out = append(out, mailResultJSON{Source: source, ID: r.ID, Kind: string(r.Kind), Severity: string(r.Severity),
			Outcome: string(r.Outcome), Duplicate: r.Duplicate, MatchedBy: r.MatchedBy, Email: r.Email, Change: r.Change,
			RunID: r.RunID, DeliveryID: r.DeliveryID, SubscriberID: r.SubscriberID, Note: r.Note})
		return nil
	})
	if err != nil {
		// What was read before stays applied: each mail is its own transaction.
		return fmt.Errorf("%w (%d mails before it were handled; run the import again, handled mails are skipped)", err, len(out))
	}
	if *asJSON {
		if out == nil {
			out = []mailResultJSON{}
		}
		return a.printJSON(out)
	}
	tw := a.table()
	fmt.Fprintln(tw, "SOURCE\tKIND\tOUTCOME\tSUBSCRIBER\tNOTE")
	for _, r := range out {
		outcome := r.Outcome
		if r.Change != "" {
			outcome += " → " + r.Change
		}
		if r.Duplicate {
			outcome += " (seen before)"
		}
		kind := r.Kind
		if r.Severity != "" {
			kind += " (" + r.Severity + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cl(r.Source), kind, outcome, dash(cl(r.Email)), cl(r.Note))
	}
	tw.Flush()
	fmt.Fprintf(a.stdout, "%d mails: %d applied, %d recorded, %d ignored, %d unmatched (%d seen before)\n", len(out),
		counts[feedback.Applied], counts[feedback.Recorded], counts[feedback.Ignored], counts[feedback.Unmatched], dups)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func cmdMailList(a *app, args []string) error {
	fs := a.flags("mail list", "[--unmatched] [--limit N] [--json]", "List returned mails, newest first, with what was done about them.")
	unmatched := fs.Bool("unmatched", false, "only the mails that named no delivery or subscriber that could be trusted")
	limit := fs.Int("limit", 100, "show at most `N` mails")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if _, err := a.parse(fs, args, 0, 0); err != nil {
		return err
	}
	if *limit < 1 {
		return usagef("--limit %d: give a number ≥ 1", *limit)
	}
	db, err := a.openDB()
	if err != nil {
		return err
	}
	list, err := feedback.List(a.ctx, db, *unmatched, *limit)
	if err != nil {
		return err
	}
	if *asJSON {
		if list == nil {
			list = []feedback.Record{}
		}
		return a.printJSON(list)
	}
	if len(list) == 0 {
		if *unmatched {
			fmt.Fprintln(a.stdout, "no unmatched mails")
		} else {
			fmt.Fprintln(a.stdout, "no returned mails yet")
		}
		return nil
	}
	tw := a.table()
	fmt.Fprintln(tw, "ID\tRECEIVED\tKIND\tOUTCOME\tFROM\tSUBJECT\tRECIPIENT\tNOTE")
	for _, r := range list {
		kind := r.Kind
		if r.Severity != "" {
			kind += " (" + r.Severity + " " + r.Status + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.ReceivedAt.In(time.Local).Format(time.RFC3339), kind, r.Outcome,
			dash(cl(r.Sender)), dash(shorten(cl(r.Subject), 50)), dash(cl(r.Recipient)), cl(r.Note))
	}
	return tw.Flush()
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// percent formats a rate such as 0.0031 as "0.31 %".
func percent(r float64) string { return fmt.Sprintf("%.2f %%", r*100) }

// returnedMailJSON is what `subscribers show` adds about returned mail.
type returnedMailJSON struct {
	StatusReason string           `json:"status_reason,omitempty"`
	SoftBounces  int              `json:"soft_bounces,omitempty"`
	LastReport   *feedback.Record `json:"last_bounce_or_complaint,omitempty"`
}

func (a *app) returnedMail(subscriberID int64) (returnedMailJSON, error) {
	db, err := a.openDB()
	if err != nil {
		return returnedMailJSON{}, err
	}
	st, err := feedback.StatusOf(a.ctx, db, subscriberID)
	if err != nil {
		return returnedMailJSON{}, err
	}
	last, err := feedback.Latest(a.ctx, db, subscriberID)
	if err != nil {
		return returnedMailJSON{}, err
	}
	return returnedMailJSON{StatusReason: st.Reason, SoftBounces: st.SoftBounces, LastReport: last}, nil
}

func (r returnedMailJSON) lines() [][2]string {
	var out [][2]string
	if r.StatusReason != "" {
		out = append(out, [2]string{"Status reason", r.StatusReason})
	}
	if r.SoftBounces > 0 {
		out = append(out, [2]string{"Soft bounces", fmt.Sprintf("%d in a row (bounced at %d)", r.SoftBounces, feedback.SoftBounceLimit)})
	}
	if l := r.LastReport; l != nil {
		what := l.Kind
		if l.Severity != "" {
			what = l.Severity + " " + what
		}
		if l.Status != "" {
			what += " " + l.Status
		}
		desc := fmt.Sprintf("%s at %s (mail %d", what, l.ReceivedAt.UTC().Format(time.RFC3339), l.ID)
		if l.RunID != 0 {
			desc += fmt.Sprintf(", run %d delivery %d", l.RunID, l.DeliveryID)
		}
		desc += ", " + l.Outcome + ")"
		if l.Diagnostic != "" {
			desc += ": " + shorten(l.Diagnostic, 100)
		}
		out = append(out, [2]string{"Last bounce/complaint", desc})
	}
	return out
}

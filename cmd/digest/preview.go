package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kommune21/digest/mailer"
)

func cmdPreview(a *app, args []string) error {
	fs := a.flags("preview", "EMAIL [--at TIME] [--format html|text|eml] [-o FILE]",
		"Show exactly what EMAIL would get in a run at TIME (default now), without sending or recording anything.",
		groupMail)
	var at time.Time
	fs.Var(timeFlag{&at}, "at", "run time (RFC 3339), default now")
	format := fs.String("format", "text", "html, text or eml (the whole message)")
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	pos, err := a.parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *format != "html" && *format != "text" && *format != "eml" {
		return usagef("--format %q: use html, text or eml", *format)
	}
	a.noSend = true
	now := a.now(at)
	r, err := a.runner(now)
	if err != nil {
		return err
	}
	pv, err := r.Sender.Preview(a.ctx, r.Planner, pos[0], now())
	if err != nil {
		return err
	}
	sub := pv.Subscriber
	note := ""
	if sub.Status != "active" {
		note = fmt.Sprintf(" (status %s: a run sends nothing until the subscriber is active)", sub.Status)
	}
	if pv.Message == nil {
		fmt.Fprintf(a.stdout, "nothing new for %s in %s edition %s%s: no email would be sent\n", sub.Email, sub.Cadence, pv.Edition, note)
		return nil
	}
	var body []byte
	switch *format {
	case "html":
		body = pv.Message.HTML
	case "text":
		body = pv.Message.Text
	case "eml":
		var buf bytes.Buffer
		if err := mailer.Write(&buf, pv.Message); err != nil {
			return err
		}
		body = buf.Bytes()
	}
	var w io.Writer = a.stdout
	if *out != "" {
		if err := os.WriteFile(*out, body, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "%s edition %s for %s: %d articles%s, subject %q, written to %s%s\n",
			sub.Cadence, pv.Edition, sub.Email, pv.Articles, more(pv.More), pv.Message.Subject, *out, note)
		return nil
	}
	if *format == "text" {
		fmt.Fprintf(w, "Subject: %s\n\n", pv.Message.Subject)
	}
	_, err = w.Write(body)
	if note != "" {
		fmt.Fprintln(a.stderr, "note:"+note)
	}
	return err
}

func more(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (+%d more)", n)
}

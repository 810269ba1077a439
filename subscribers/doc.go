// Package subscribers owns the people who receive digests: their address, name,
// status, choices (regions, topics, cadence) and consent evidence; the store that
// keeps them; CSV import and export; signed links; and the HTTP handlers behind
// those links (confirm, unsubscribe, preferences).
//
// Invariants:
//   - An address exists once, however it is typed: email_key is its identity
//     (EmailKey: lower-cased NFC local part, A-label domain; see internal/emailaddr).
//     It is shown as normalised by ValidateEmail (NFC, UTS #46 domain).
//   - Status moves pending → active → unsubscribed | bounced; unsubscribed and bounced
//     subscribers receive nothing. Only a new confirmation makes them active again:
//     Confirm activates pending subscribers only, and an unsubscribed or bounced
//     one becomes pending again only through RequestSignup, which mails a fresh
//     /confirm link to the address. No page ever shows a confirm token (the
//     unsubscribe link travels in every forwarded digest and gateway log).
//   - consent_events keeps each step of the consent as it happened: the request
//     (time, IP, page, choices), the confirmation through the mailed link.
//   - An empty region set means all regions, an empty topic set all topics.
//   - Erasure (Delete) removes address and name; delivery counts stay anonymous.
//
// # Validation
//
// Input.Validate checks everything staff or a file can give: the address is a
// bare RFC 5322 address (net/mail, no display name or comment) of at most 254
// bytes (64 before the @) whose domain has a dot and is a valid (possibly
// internationalised) domain name; UTF-8 local parts are accepted. The name is
// trimmed, has no control characters (CR, LF, NUL, tab …) and at most 200
// characters. Region codes and topic slugs are normalised against the taxonomy.
// Every problem is a *FieldError naming the field, the value (shortened when
// long) and what to do.
//
// # Public signup
//
// With a Mailer, Handler also serves the public pages: GET/POST /subscribe,
// GET/POST /manage and POST /resubscribe ("wieder anmelden" on the unsubscribe
// page). Their rules:
//   - Every valid address gets the same answer page; Store.RequestSignup does
//     the state change and picks the mail after the answer, in the handler's
//     queue worker, so neither wording nor response time depends on the state.
//     Close drains the queue; Wait waits for it (tests).
//   - Validation is Input.Validate / ValidateEmail, the same as for staff.
//   - Per address: NoticeMaxPerDay mails a day of all kinds, NoticeMinSpacing
//     between two of the same kind, booked in the transaction that changes the
//     state; a request held back changes nothing. Per client IP: a token
//     bucket (HandlerDeps.SignupPerHour, SignupBurst).
//   - The client IP is the connection's peer unless that peer is in
//     HandlerDeps.TrustedProxies; then X-Forwarded-For is read right to left
//     past the trusted hops.
//   - Cross-origin form posts are accepted (the embeddable form lives on the
//     portal): a post can only cause a limited number of mails to the address
//     in it, and only the link in such a mail makes anyone active.
//
// # CSV format
//
// The import and export format is one header line and one subscriber per line:
//
//	email,name,regions,topics,cadence
//	anna@example.org,"Schmidt, Anna",DE-BY;DE-HE,it-sicherheit;open-source,weekly
//
// Header names are matched in any case and order; email is required, the others
// are optional, and any other column is an error naming it and the allowed ones.
// Several regions or topics in one cell are separated by ";" ("," works too); an
// empty cell means all. Cadence is weekly (also when empty) or daily. The file is
// UTF-8 with or without byte order mark (invalid UTF-8 is an error with line and
// column); fields may be quoted as in RFC 4180. Export writes all five columns,
// ordered by address, so that an export imports again unchanged. Export does not
// defuse spreadsheet formulas (a name starting with "="): the file is meant for
// import, and changing values would break the round trip.
//
// # Import decisions
//
//   - All or nothing: every row is checked before anything is written, and the
//     problems (file:line: field "regions" value "DE-XX": …) come back in one
//     *ImportError: the first MaxReportedProblems of them and their number
//     ("… and 199,900 more errors"); then nothing is written. Broken quoting
//     stops the reading at that line, because the rest of the file cannot be
//     trusted. Problems of the file's form (field counts, UTF-8) are reported
//     on their own, before those of the values.
//   - Bounded memory (ImportFile, used by the CLI): the file is read twice, row
//     by row with CSVReader. Pass 1 validates every row and keeps, per
//     address, only a 128-bit prefix of the SHA-256 of its identity key and
//     its line (~20 bytes plus map overhead) to find duplicates, and the first
//     problems. Pass 2 reads the file again and, in one transaction, looks up,
//     classifies and writes 2,000 rows at a time; a row that differs from a
//     stored subscriber without Update (found only here) rolls the whole
//     transaction back, so the import stays all or nothing. A SHA-256 of the
//     bytes of both passes must match (ErrFileChanged otherwise). The CLI
//     copies stdin and pipes to a temporary file first and removes it after,
//     also on error. Memory does not grow with the file beyond the key set:
//     1,000,000 rows take ~100 MB of RSS instead of 1.4–1.6 GB
//     (BENCHMARKS.md, "CSV import"; BenchmarkImportMemory). Import (a file
//     already read with ReadCSV) is the same two passes over rows in memory.
//   - A dry run's changes go to ImportOptions.OnChange one by one (the CLI
//     prints them as they come, aligned per 1,000 lines) once the whole file
//     has passed every check; ImportResult.Changes is filled only for a dry
//     run without OnChange.
//   - An address twice in one file (in any case) is an error naming both lines.
//   - An existing address whose row equals the stored values is "unchanged", so
//     importing the same file again changes nothing. A row that differs is an
//     error unless Update is set. A column the file lacks keeps the stored value.
//   - Import never changes the status or consent evidence of existing subscribers:
//     an unsubscribed or bounced address is not re-subscribed by an import.
//   - New subscribers are active with consent method "import" and the file name
//     (or Source) as evidence when Confirmed is set; otherwise they are pending.
//     Import never sends confirmation emails: a confirmation request to an address
//     that never asked for one is itself unsolicited mail. Staff send them one by
//     one with `digest subscribers resend-confirmation`.
//   - Writing is one transaction with multi-row INSERTs (500 subscribers, 2,000
//     choice rows per statement) and one UPDATE … FROM (VALUES …) per 500 changed
//     subscribers, batch by batch; PostgreSQL statistics are refreshed after
//     large imports. Progress counts rows of the file.
//     100,000 rows take about 2.5 s on SQLite and 7 s on PostgreSQL on the 2-core
//     development machine (BenchmarkImport100k).
//   - Export writes only active subscribers unless told otherwise, so that
//     `import --confirmed` of an export never subscribes someone who is pending,
//     left or bounced.
//
// The package never imports digest: the digest job reads subscribers through SQL
// on the shared schema and through this package's types.
package subscribers

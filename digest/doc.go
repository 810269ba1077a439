// Package digest makes and sends the editions: it selects each subscriber's new
// articles, renders the digests and delivers them through an outbox.
//
// A run is one edition of one cadence ("weekly", "2026-W08"). Planning creates the
// run, its selections and one delivery per active subscriber in one transaction,
// set-based and streamed through Go (group.go, select.go): one query streams the
// members with their choice and history keys, Go groups them in a map, computes
// each new group's articles from bitsets over the fresh window, and writes the
// selections (multi-row INSERTs, ids read back with RETURNING and matched by key)
// and the deliveries (PostgreSQL: arrays, 20,000 rows per INSERT; SQLite:
// multi-row INSERTs). Memory grows with the members (one id each) and groups
// (their keys), not with their article lists, which are written as computed.
// On PostgreSQL deliveries.selection_id has no foreign key (migration 00013):
// the planner is the only writer of deliveries and takes the ids from its own
// inserts or reads in the same transaction; a selection is only deleted with
// its run, which deletes that run's deliveries too.
//
//   - Subscribers are grouped by their choices (regions|topics) and their recent
//     history (the selections they were sent, or are about to be sent, within the
//     freshness window). A group shares one selection: the same articles, rendered
//     once. Members of a group have by construction the same choices and the same
//     history, so sharing never changes what anyone gets.
//   - A selection holds the articles that match the choices (an empty set matches
//     everything), were ingested at or before the run time T, were published in
//     (T − window, T], and are not in the group's history; newest first, capped.
//   - A delivery with an empty selection is "skipped": no articles, no email.
//
// The sent log is the deliveries themselves: a subscriber has received an article
// when one of their sent deliveries' selections holds it. A selection holds its
// articles as one id list column, selections.article_ids (PostgreSQL BIGINT[],
// SQLite a JSON array; store.IDs), newest first and capped, written with the
// selection's row (migration 00011; the earlier table of (selection, article) rows cost 1.5
// million foreign-key-checked inserts per edition at 100,000 subscribers). The
// list has no foreign key to articles: articles are never deleted, and a
// reader skips an id it does not find. Pruning (PruneSentLog) sets the list to
// NULL; a NULL list is an empty one. Open deliveries (pending,
// retry) count as history too, so a later edition never repeats what an earlier
// one is still sending; when a new edition of a cadence is planned, open deliveries
// of older editions of that cadence expire (failed, "superseded") and their
// articles become eligible again.
//
// Sending claims deliveries in batches. Each accepted message is handed to one
// recorder per Send, which writes every accepted outcome waiting at that moment
// in one statement (UPDATE … WHERE id IN (…); recorder.go) while the worker
// renders and transmits its next message; the worker holds that next message
// before the final "." of DATA (mailer.Message.Hold) until the previous record
// is committed. So a crash (kill -9) still repeats at most one message per SMTP
// connection — the one whose acceptance was being written — and the records
// cost a fraction of the statements (BENCHMARKS.md "Issue 12: group-committed
// records"). A group the database refuses is written again row by row, so the
// error (a RecordError, which stops sending) names the one delivery that could
// not be recorded and the others are kept. Failures, retries and skips are
// recorded on the worker's own connection before its next message (a failure
// may bounce the subscriber in the same transaction). Each message carries a
// Message-ID derived from run and delivery. On
// PostgreSQL a claim is committed at once (FOR UPDATE SKIP LOCKED, claimed_by =
// the worker connection's backend id) and every worker connection holds an
// advisory lock while it sends, and keeps it until its last accepted message is
// recorded; a sender starting up gives back the claims whose
// owner no longer holds its lock. Outcomes are committed with
// synchronous_commit = off (worker and recorder connections): a crash of digest
// loses nothing committed; a crash of the database server could lose the last
// fraction of a second of outcomes (those messages would be sent again). SQLite
// has one sending process, guarded by a lock file; a worker's last accepted
// delivery of a batch is recorded before the batch's in-memory claims go.
//
// # Open runs
//
// No index of deliveries mentions a column that sending changes (status,
// claimed_by, sent_at, message_id, attempts, next_attempt_at), so on
// PostgreSQL the claim and the record of every delivery are heap-only (HOT)
// updates that write no index entry (migration 00014, BENCHMARKS.md "Issue
// 12: heap-only delivery updates"). Claims walk a run's deliveries through
// the (run_id, id) index from the claim cursor. What looks for open
// (pending or retry) deliveries across runs — OpenRuns (Resume), the expiry
// of older editions in planning, the metrics queue depth — looks only into
// runs with finished_at IS NULL, and relies on this invariant: a run with an
// open delivery is not finished. It holds because deliveries become open
// only when planning inserts them (pending; retry is reached only from
// pending), and
//   - planning clears finished_at in its last statement whenever it inserted
//     a pending delivery (a finished edition planned again for new
//     subscribers is unfinished again);
//   - finish (send.go) sets it only when the run has no open delivery, and
//     on PostgreSQL locks the run's row before it looks, so that it never
//     misses the deliveries of a planning transaction that commits meanwhile;
//   - planning finishes the older runs whose open deliveries it expired, and
//     a failure or retry answered afterwards for a message that was in
//     flight is recorded only on an open delivery (outbox.record), so the
//     expired one stays failed in that finished run: the edition was
//     superseded.
//
// Migration 00014 made the runs of older versions agree with it. Counting
// within one run (the due count at the start of Send, finish, `digest runs
// show`) reads that run's deliveries only.
package digest

// Package inbound reads the mails that come back to a newsletter sender and
// says what each one is: a bounce (a delivery status notification), a spam
// complaint (a feedback report), an unsubscribe request, an auto-reply, or
// something else. It is pure parsing: it never decides whom a mail concerns
// (package feedback matches it to a delivery) and never touches a database.
//
// What it recognises:
//
//   - DSN, RFC 3464: multipart/report; report-type=delivery-status with a
//     message/delivery-status part (also message/global-delivery-status, RFC
//     6533). Per recipient: Final-Recipient (or Original-Recipient), Action,
//     Status and Diagnostic-Code; the returned message or its headers
//     (message/rfc822, text/rfc822-headers) give the original Message-ID,
//     To and Return-Path. Field names in any case, "rfc822;addr" with or
//     without a space (Exchange writes "Final-recipient: rfc822;…").
//   - Bounces that are not DSNs: the classic Exim and qmail failure notices
//     (plain text, X-Failed-Recipients, "This is a permanent error", the
//     original message appended after a separator line), and other
//     mailer-daemon mails. The status comes from the first enhanced status
//     code (RFC 3463) or SMTP reply in the text.
//   - Complaints, ARF (RFC 5965): multipart/report; report-type=feedback-report
//     with a message/feedback-report part (Feedback-Type, Original-Mail-From,
//     Original-Rcpt-To) and the reported message or its headers.
//   - Auto-replies: Auto-Submitted other than "no" (RFC 3834) without a
//     report, X-Autoreply, X-Autorespond, Precedence: auto_reply, and
//     subjects such as "Abwesenheitsnotiz", "Automatische Antwort" or "Out of
//     Office". They are ignored, never taken for an unsubscribe.
//   - Unsubscribe mails: subject "Abmelden" or "unsubscribe" (after Re:/AW:
//     prefixes), as the List-Unsubscribe mailto sends it; link tokens
//     (KEYID.BASE64URL) in subject or text are collected for the caller to
//     verify.
//
// Severity: Action "failed" or a 5.x.x status is Hard; "delayed" or 4.x.x is
// Soft; "delivered", "relayed" and "expanded" are not failures (None).
//
// Invariants (hostile input):
//   - Parse reads at most MaxRead bytes of a mail, decodes at most MaxText
//     bytes of text, walks at most MaxParts MIME parts MaxDepth deep, and
//     keeps at most MaxRecipients recipients: a 10 MB mail costs no more
//     than a small one. A mail cut at MaxRead is parsed as far as it goes
//     (Truncated is set).
//   - Broken MIME (missing boundaries, bad encodings, unknown charsets)
//     yields what could be read and a Problem, never a panic; only a mail
//     whose header cannot be read at all is KindOther with a Problem.
//   - Every string in a Mail is valid UTF-8 without control characters and
//     capped in length, so it can be stored and printed as it is.
package inbound

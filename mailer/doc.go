// Package mailer builds one email from a Message and transports it: over
// SMTP with github.com/wneessen/go-mail, or into a directory of .eml files
// (file:DIR, the default when no SMTP server is configured).
//
// Transports come from a URL (ParseURL, then New):
//
//	smtp://user:pass@host:587   STARTTLS, mandatory
//	smtps://user:pass@host:465  implicit TLS
//	smtp://127.0.0.1:1025?tls=none   plaintext, loopback hosts only
//	file:outbox                 DIR/<message-id>.eml, written atomically
//
// Invariants:
//   - The password never appears in an error, in Config.String, in %v/%#v
//     output or in slog output; logs show "xxxxx".
//   - Every Send builds a fresh go-mail Msg (Msg.Reset keeps the previous
//     recipient's List-Unsubscribe). One Message is one recipient.
//   - No field can add a header line: display names, Subject and List-Id
//     have control characters replaced by spaces and are RFC 2047-encoded
//     by go-mail/net/mail; addresses, Message-ID and unsubscribe URIs are
//     checked and refused (MessageError, classified Failed) when malformed.
//   - The body is multipart/alternative, text/plain first, then text/html,
//     UTF-8. Over SMTP without DKIM the message is written by wire.go: 8bit
//     when the server announces 8BITMIME (lines of at most 998 octets, CRLF),
//     else quoted-printable from a table-driven encoder whose output needs
//     no dot-stuffing; both go into the connection in one write (no
//     byte-at-a-time dot writer). With DKIM, go-mail's Msg (quoted-printable)
//     is signed and sent. The file transport writes go-mail's bytes
//     (Msg.WriteTo, DKIM signature included).
//   - An SMTP Conn is one go-mail Client and one TCP connection, dialed in
//     Open and reused for every Send, one message per Send (go-mail renews
//     its timeout per Send call). After a network error the connection is
//     closed and the next Send dials again. A failure before any of the
//     message was transmitted on a reused connection (the server closed an
//     idle connection) is retried once at once on a new connection; a
//     failure during or after the body is never retried here, because the
//     server may have accepted the message.
//   - When the server announces PIPELINING (RFC 2920), Send without DKIM
//     writes MAIL FROM, RCPT TO and DATA in one write and reads the three
//     replies in order: two round trips per message (envelope, then body and
//     dot) instead of four. The first refusal names the stage (MAIL FROM,
//     RCPT TO, DATA) and classifies exactly as without pipelining; the
//     transaction is then reset (RSET), or the connection dropped when the
//     server answered DATA with 354 anyway or closed it (a 421). Without
//     PIPELINING each command waits for its reply. The next message's
//     envelope is not written before this message's final reply is read:
//     Send returns the server's verdict on its own message. With DKIM,
//     go-mail's Send does not pipeline.
//   - Message.Hold, when set, runs once per Send before the message can be
//     accepted: over SMTP without DKIM after the body and before the final
//     "." (the body and the dot are then two writes), with DKIM before
//     go-mail's Send, in the file transport before the file is written. A
//     Hold error abandons the message (SMTP: the connection is closed
//     without the dot, so the server discards it) and Send returns a
//     *HoldError. digest uses it to overlap a message's transfer with the
//     record of the previous one without widening the crash window.
//   - Classify maps errors for the outbox: 4xx and network errors Retry, 5xx
//     Failed, and 5.1.1, 5.1.10, 5.4.1, 5.4.4 also Bounce. Reasons are short,
//     carry no addresses or secrets, and group well in reports.
//   - DKIM (optional) signs From, To, Subject, Date, Message-ID,
//     List-Unsubscribe and List-Unsubscribe-Post, relaxed/relaxed. The list
//     is kept that short on purpose: go-mail v0.8.1 folds a longer h= tag in
//     a way that breaks the signature. Each Conn has its own signer, because
//     go-mail's signer is not safe for concurrent first use.
//
// A Conn is used by one goroutine; open one per worker.
package mailer

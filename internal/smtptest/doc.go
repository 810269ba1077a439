// Package smtptest runs a real SMTP server on the loopback interface for tests,
// end-to-end checks and benchmarks of the mail path.
//
// The server is github.com/emersion/go-smtp speaking the real protocol over
// TCP, so clients are exercised exactly as against a production relay:
// EHLO, optional STARTTLS or implicit TLS, MAIL, RCPT, DATA, RSET, QUIT.
//
// Invariants:
//   - It only ever listens on a loopback address (127.0.0.0/8 or ::1); Listen
//     refuses anything else, because the server accepts mail from anyone
//     without authentication.
//   - Every accepted message is counted; its envelope, raw bytes and parsed
//     header are kept unless the Discard option is given (benchmarks).
//   - Faults are injected per recipient address, at RCPT or at DATA (or per
//     sender, at MAIL): a temporary 451 4.7.1 for the first N attempts, a
//     permanent 5xx with an enhanced code, a dropped TCP connection or a
//     delayed answer. A fault
//     with a limit (Times) applies to that many attempts and then the address
//     is accepted again. Rejected and dropped attempts are never counted as
//     received messages.
//   - Server.Connections counts accepted connections. WithoutPipelining hides
//     PIPELINING from the EHLO reply and WithReadLog records what arrived in
//     each read (Server.Reads); both only without TLS.
//
// Start is the test constructor (stops in tb.Cleanup); Listen and Close serve
// benchmark tools and end-to-end helpers that live outside a testing.TB.
package smtptest

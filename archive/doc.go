// Package archive serves the browser view of each sent digest ("Im Browser
// ansehen"): GET /archive?t=TOKEN shows the articles of one selection as its
// recipients got them, with nothing that identifies a reader (no name, no
// address, no preferences or unsubscribe link; see templates.Set.WebView).
//
// The token is made by the link signer (subscribers.Signer) with the purpose
// "archive" and the selection id: a selection shared by everyone with the
// same choices and history is one page, and without the key nobody can make
// the link of another selection, so nobody can enumerate what other people
// chose. Answers: 200 with the page; 400 without a token; 404 for a forged,
// garbled or unknown-key token and for a selection that was never sent or
// whose article list was pruned (digest.PruneSentLog, after 8 weeks); 403 for
// a genuine token of another purpose (an unsubscribe link pasted here).
//
// The handler is mounted on the subscriber pages' mux (subscribers.HandlerDeps
// .Routes), so it gets their security headers (no referrer: the token is in
// the URL), body limit and rate limit.
package archive

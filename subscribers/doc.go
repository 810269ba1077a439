// Package subscribers owns the people who receive digests: their address, name,
// status, choices (regions, topics, cadence) and consent evidence; the store that
// keeps them; CSV import and export; signed links; and the HTTP handlers behind
// those links (confirm, unsubscribe, preferences).
//
// Invariants:
//   - An address exists once, whatever its case (email_key is the lowercased address).
//     It is shown as entered.
//   - Status moves pending → active → unsubscribed | bounced; unsubscribed and bounced
//     subscribers receive nothing. Only a new confirmation makes them active again.
//   - An empty region set means all regions, an empty topic set all topics.
//   - Erasure (Delete) removes address and name; delivery counts stay anonymous.
//
// The package never imports digest: the digest job reads subscribers through SQL
// on the shared schema and through this package's types.
package subscribers

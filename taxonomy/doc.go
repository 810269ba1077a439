// Package taxonomy owns the regions (DE for "bundesweit" and the 16 Länder by
// ISO 3166-2 code) and the topics (slug and German name) that articles are tagged
// with and subscribers choose from.
//
// Regions are fixed by the schema's seed migration; topics are seeded with the
// default list and staff may add and rename them. A topic's slug never changes
// once subscribers or articles refer to it; its name may.
package taxonomy

// Package templates owns the embedded email templates (email/*.html,
// email/*.txt, email/style.css) and their rendering: the weekly or daily
// digest (subject, HTML part, plain-text part), its browser view and the
// double opt-in mail.
//
// # Use
//
//	set, err := templates.New(site)      // once at start; fails on a broken template
//	p, err := set.Prepare(digest)          // once per distinct digest
//	p.Subject()
//	p.Render(recipient, &html, &text)      // per recipient: concatenation only
//
// # Invariants
//
//   - Parse once: New parses every template once (html/template for HTML,
//     text/template for subject and text) and runs all of them on a built-in
//     sample digest, so a broken template, an unknown field or a style name
//     the stylesheet cannot resolve stops the program at start. Tests break
//     copies of the templates through parseSet(fs.FS, Site).
//   - Inline once: templates mark styled elements with {{css "name"}}. New
//     renders the sample with class markers and the whole stylesheet, runs
//     go-premailer on it once, and keeps per name the attributes premailer
//     added (style, width, height). From then on {{css "name"}} writes those
//     attributes directly; only :root and @media rules (dark mode, phones)
//     stay in <head>, with their class names kept on the elements that need
//     them. premailer never sees Go template source (it would move
//     {{range}} out of tables) and never runs per digest or per recipient.
//     A name must come out the same wherever it is used (New checks), and a
//     template must not write style attributes of its own (New checks).
//   - Per-recipient fill only: Prepare executes the templates once with
//     random, unguessable markers in place of the greeting name, email
//     address and the unsubscribe and preferences links, and splits the
//     output at the markers. Render writes the segments with the recipient's
//     values in between: control characters and line breaks stripped, URLs
//     that are not absolute http(s) replaced by a dead "#" link, and
//     HTML-escaped in the HTML part. Render runs no template and allocates
//     only the recipient's few escaped strings.
//   - Render each article once: the contents line and the item block of an
//     article (email/digest_item.html, email/digest_item.txt: "toc-line",
//     "item", "toc-line.txt", "item.txt") are executed once and kept in the
//     Set's fragment cache (fragments.go), together with the article's
//     cleaned view (each cached view holds its own fragments). The cache key holds every input of a fragment: the article's raw ID, URL,
//     kicker, title, teaser, publication instant and region names, plus
//     ShowKicker for the HTML item and the number N for the text fragments
//     (the HTML fragments do not depend on the position); a
//     corrected article is a new key, never a stale hit. The cache is safe
//     for concurrent Prepare calls and is emptied when it reaches 20,000
//     entries, so memory stays flat in a long-running daemon. Fragments
//     are rendered with the styles inlined at New (nothing is cached while
//     they are collected). The shared footer ("footer", "footer.txt")
//     depends on the Site alone and is cached the same way.
//   - No template pass per digest (skeleton.go): digest.html, digest.txt
//     and subject.txt run once per shape of digest (browser link or not,
//     "und N weitere" or not, region phrase or not, number of topic
//     groups) with markers in place of every per-digest value, and are cut
//     at the markers into a skeleton. Prepare assembles a digest from the
//     skeleton, its values (HTML-escaped exactly as html/template does,
//     the browser link's URL by html/template itself), the cached article
//     fragments and the recipient slots; the pieces are shared, not copied.
//     The wording of a choice of regions and topics is cached per choice
//     (wording.go), the edition's words (KW, date) per edition. A digest
//     is its head (heads.go: the shape's shared skeleton and the escaped
//     or wrapped values of header, intro and footer sentence) plus its
//     preheader, browser link, group headings and the article fragments:
//     a list of references to shared strings and the recipient slots
//     between them (about 60 pieces for 20 articles: fragments are cached
//     with their run separator). Heads are built per digest, not cached:
//     nearly every selection of a real edition has a choice and counts of
//     its own (measured: 98 hits in 23,000 lookups). Articles are items by
//     pointer to their cached view; an article's four fragments sit in
//     fixed places under one lock. The template pass stays as the reference
//     (prepareByTemplate): New's self-test and an equivalence test over
//     thousands of random, hostile digests hold the assembled bytes to it.
//   - Untrusted feed text (kicker, title, teaser, URL) is decoded once
//     (feeds leave entities like &amp; behind), cleaned of control and
//     bidi characters and line breaks, length-limited (teasers to 600
//     characters at a word) and then escaped by html/template. Article URLs
//     that are not absolute http(s) (javascript:, data:, relative) are shown
//     without a link. The portal's own trailing "mehr..." is dropped.
//   - Nothing external: no images, no tracking pixel, no redirect links, no
//     web fonts; a table layout with inline styles, lang="de", color-scheme
//     meta and dark-mode rules. A 30-article digest stays well under Gmail's
//     102 KB clipping limit (tested).
//   - Browser view: WebView renders a digest as the page behind "Im Browser
//     ansehen" (Digest.ArchiveURL, served by the archive package): the same
//     template and fragments with Web set, so no preheader, greeting name,
//     address, preferences or unsubscribe link, and no link to itself.
//
// # Mail clients
//
// The layout is made for what mail clients support (caniemail data, as
// scored by mailpit's html-check: `make mailcheck`, at least 92 % supported
// for the digest and the confirmation mail):
//
//   - Spacing from table-cell and <div> padding; the only margins are the
//     0 that resets headings and <body>. Outlook for Windows (Word) ignores
//     padding on <div>: outlook.css, written into <head> inside <!--[if mso]>
//     by {{mso "head"}}, gives it margins instead, names the font on every
//     text element (Word does not inherit it into nested tables) and sets
//     mso-line-height-rule.
//   - The container is fluid (width 100 %, max-width 600 px); Outlook gets a
//     fixed 600 px table around it ({{mso "open"}} / {{mso "close"}}). Buttons
//     are "bulletproof": a VML rounded rectangle for Outlook, a filled table
//     cell with a padded link for everyone else ({{msoButton}}). No
//     background images. html/template drops comments from templates, so
//     conditional comments come only from these functions (mso.go).
//   - The contents list links to each article's own page (local anchors work
//     in few clients), so the item cells carry no id.
//   - Bytes per article (issue 12): html/template's "&#43;" for "+" is
//     written back as "+" in the article fragments (same meaning in text
//     and quoted attributes; portal URLs have several, each link appears
//     three times), and the head rules are minified (minifyCSS). Inline
//     styles stay on every element that needs them (clients that strip
//     <style> show the same light layout).
//   - Bold comes from <b> and headings, not font-weight; links keep the
//     browser's underline (only the button, a filled box, has none), so
//     they are told apart without colour.
//   - Styles inherit: colour, size and line height are set on the cells and
//     the items table, and an article block carries only what differs, which
//     keeps the per-article bytes small.
//   - The preheader is hidden by display:none and, for clients that ignore
//     that, by max-height 0, overflow hidden, 1 px text in the background
//     colour and opacity 0: it degrades to invisible.
//   - Dark mode: prefers-color-scheme rules in <head> (by class, kept on the
//     elements that need them). Every text has a contrast of at least 4.5:1
//     in both schemes (clients_test.go computes it from the rendered mails).
//     The base layout needs no <style> rule: clients that drop <head>
//     styles show the light scheme.
//   - A Set and a Prepared are read-only after construction and safe for
//     concurrent use.
//
// # German wording
//
// Sie-form, correct umlauts, dates as "19. Februar 2026" in Europe/Berlin
// (GermanDate; tzdata is embedded).
//
//   - Subject: "Wochenüberblick KW 8: 7 neue Artikel aus Thüringen" (the
//     week is the ISO week of the edition), daily "Tagesüberblick
//     19. Februar 2026: …". The count includes the articles cut by the cap;
//     "1 neuer Artikel" in the singular.
//   - Region phrase: one Land "aus Thüringen", two "aus Hessen und
//     Thüringen", three "aus Bayern, Hessen und Thüringen", more than three
//     "aus 5 Ländern", all sixteen "aus allen Ländern"; DE alone
//     "bundesweit", DE with Länder "… sowie bundesweit"; no regions chosen
//     (= all) gives no phrase. Länder are sorted by name, umlauts filed under
//     their base letter.
//   - Greeting: "Guten Tag, Erika Mustermann," or, without a name,
//     "Guten Tag," (no gender is known, so no "Frau/Herr").
//   - Footer: "Sie erhalten diese E-Mail, weil Sie den Wochenüberblick für
//     Hessen und Thüringen zu den Themen IT-Sicherheit und Smart City
//     abonniert haben." with every chosen Land named, "bundesweite
//     Meldungen" for DE, "alle Länder" and "zu allen Themen" for empty
//     choices, "zum Thema X" for one topic.
//   - Items are grouped by topic: an article appears once, under the first
//     of the subscriber's chosen topics it has, else under its own first
//     topic, else under "Weitere Meldungen"; chosen topics first in the
//     subscriber's order, then others in order of appearance. Contents
//     ("Inhalt") and items share one numbering; "und 3 weitere Artikel auf
//     kommune21.de" ("1 weiterer Artikel") links to the portal.
//   - The plain-text part wraps at 72 columns, underlines headings, numbers
//     the contents and the items alike, and puts every URL in angle brackets
//     on a line of its own (such a line may be longer than 72 columns).
//   - Browser view: "Diese Ausgabe enthält 30 neue Artikel …" instead of the
//     greeting and "hier ist Ihr …", and "Diese Ausgabe des Wochenüberblicks
//     ging an alle, die ihn für … abonniert haben." in the footer.
package templates

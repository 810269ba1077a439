package templates

import (
	"bytes"
	"html"
)

// Render appends r's complete HTML and text parts to html and text. It runs
// no template and no CSS inlining: it writes the prepared segments with r's
// values, cleaned and escaped for where they stand, in between.
func (p *Prepared) Render(r Recipient, htmlOut, textOut *bytes.Buffer) {
	v := recipientValues(r)
	p.html.write(htmlOut, &v.html)
	p.text.write(textOut, &v.text)
}

// slotValues holds one recipient's values for one part, indexed by slot.
type slotValues [numSlots]string

type recipientSlots struct{ html, text slotValues }

// recipientValues cleans r once: names lose control characters and line
// breaks (no header or layout injection), URLs that are not http(s) become
// harmless, and the HTML part gets everything HTML-escaped (text and
// attribute contexts alike: the values only stand in element text and in
// double-quoted href attributes).
func recipientValues(r Recipient) recipientSlots {
	var v recipientSlots
	if name := cleanLine(r.Name, maxNameRunes); name != "" {
		v.text[slotGreeting] = ", " + name
	}
	v.text[slotEmail] = cleanLine(r.Email, 254)
	v.text[slotUnsubscribe] = webURL(r.UnsubscribeURL)
	v.text[slotPreferences] = webURL(r.PreferencesURL)
	for i, s := range v.text {
		v.html[i] = html.EscapeString(s)
	}
	for _, k := range []slot{slotUnsubscribe, slotPreferences} {
		if v.html[k] == "" {
			v.html[k] = "#"
		}
	}
	return v
}

func (f *filled) write(out *bytes.Buffer, vals *slotValues) {
	out.Grow(f.size + 512)
	slots := f.slots
	for i, p := range f.pieces {
		for len(slots) > 0 && slots[0].at == i {
			out.WriteString(vals[slots[0].slot])
			slots = slots[1:]
		}
		out.WriteString(p)
	}
	for _, s := range slots {
		out.WriteString(vals[s.slot])
	}
}

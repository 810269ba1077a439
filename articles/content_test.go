package articles

import (
	"slices"
	"strings"
	"testing"
)

// TestParseFeed_Content keeps a feed's full text beside its teaser, and the
// tagger falls back to it only when kicker, title and teaser name no place and
// no topic.
func TestParseFeed_Content(t *testing.T) {
	const rss = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>t</title>
<item><guid>1</guid><link>https://example.org/1</link><title>Neues Angebot gestartet</title>
<description>Ein neues Angebot ist da.</description>
<content:encoded><![CDATA[<p>Ein neues Angebot ist da.</p><p>Die Stadt Rosenheim stellt ihr <b>Ratsinformationssystem</b> auf die E-Akte um.</p>]]></content:encoded></item>
<item><guid>2</guid><link>https://example.org/2</link><title>Jena: Neues Angebot</title>
<description>Die E-Akte kommt.</description>
<content:encoded><![CDATA[<p>Auch Rosenheim und die Cloud.</p>]]></content:encoded></item>
</channel></rss>`
	feed, err := ParseFeed("t.xml", "", []byte(rss))
	if err != nil {
		t.Fatal(err)
	}
	it := feed.Items[0]
	if it.Teaser != "Ein neues Angebot ist da." || !strings.Contains(it.Content, "Die Stadt Rosenheim stellt ihr Ratsinformationssystem auf die E-Akte um.") {
		t.Fatalf("teaser %q, content %q", it.Teaser, it.Content)
	}
	tg := mustTagger(t)
	ex := tg.Explain(Text{Kicker: it.Kicker, Title: it.Title, Teaser: it.Teaser, Content: it.Content})
	if !slices.Equal(ex.Regions[0:1], []Reason{{Tag: "DE-BY", From: "content", Evidence: "Rosenheim"}}) || !slices.Contains(ex.Doubts, "Land only from the full text") {
		t.Errorf("place only in the full text: regions %+v, doubts %v", ex.Regions, ex.Doubts)
	}
	if !slices.Contains(ex.Tags.Topics, "e-akte-dokumente") || ex.Topics[0].From != "content" {
		t.Errorf("topic only in the full text: %+v", ex.Topics)
	}
	// the second names its place and topic up front: the full text adds nothing
	it = feed.Items[1]
	got := tg.Tag(Text{Kicker: it.Kicker, Title: it.Title, Teaser: it.Teaser, Content: it.Content})
	if !slices.Equal(got.Regions, []string{"DE-TH"}) || slices.Contains(got.Topics, "cloud-infrastruktur") {
		t.Errorf("full text overrode the kicker and teaser: %+v", got)
	}
}

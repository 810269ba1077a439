package templates

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// sampleDigest exercises every branch of the digest templates (kicker or
// not, link or not, chosen and other topics, no topic, "und N weitere") so
// that collecting the CSS sees every {{css}} name and the self-test at New
// executes every path.
func sampleDigest() Digest {
	at := time.Date(2026, time.February, 19, 7, 0, 0, 0, berlin)
	return Digest{
		Cadence: "weekly", Edition: "2026-W08", At: at, More: 1, ArchiveURL: "https://example.org/archive?t=1",
		Regions: []Named{{"DE", "Bundesweit"}, {"DE-TH", "Thüringen"}},
		Topics:  []Named{{"it-sicherheit", "IT-Sicherheit"}},
		Articles: []Article{
			{ID: 1, URL: "https://example.org/1", Kicker: "Erfurt", Title: "Eins", Teaser: "Text.", PublishedAt: at,
				Regions: []Named{{"DE-TH", "Thüringen"}}, Topics: []Named{{"it-sicherheit", "IT-Sicherheit"}}},
			{ID: 2, Title: "Zwei", PublishedAt: at, Topics: []Named{{"smart-city", "Smart City"}}},
			{ID: 3, URL: "https://example.org/3", Title: "Drei", Teaser: "Text."},
			{ID: 4, Kicker: "Jena", Title: "Vier", Teaser: "Text."},
		},
	}
}

// inlineCSS runs the templates once on samples in collect mode and keeps the
// inlined styles (see styler).
func (s *Set) inlineCSS() error {
	v, err := s.digestView(sampleDigest(), false)
	if err != nil {
		return fmt.Errorf("templates: sample digest: %w", err)
	}
	out, err := s.execute(s.html.ExecuteTemplate, "digest.html", v)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	out.write(&buf, &slotValues{})
	if err := s.styles.collect(buf.String()); err != nil {
		return fmt.Errorf("templates: digest.html: %w", err)
	}
	buf.Reset()
	if err := s.html.ExecuteTemplate(&buf, "confirm.html", s.confirmView("Erika", "e@example.org", "https://example.org/c")); err != nil {
		return fmt.Errorf("templates: render confirmation HTML: %w", err)
	}
	if err := s.styles.collect(buf.String()); err != nil {
		return fmt.Errorf("templates: confirm.html: %w", err)
	}
	s.styles.collecting = false
	return nil
}

// selfTest renders the samples with the inlined styles so that a template
// that cannot execute stops New, not the first send.
func (s *Set) selfTest() error {
	p, err := s.Prepare(sampleDigest())
	if err != nil {
		return err
	}
	ref, err := s.prepareByTemplate(sampleDigest())
	if err != nil {
		return err
	}
	r := Recipient{Name: "Erika", Email: "e@example.org", UnsubscribeURL: "https://example.org/u", PreferencesURL: "https://example.org/p"}
	var h, t, rh, rt bytes.Buffer
	p.Render(r, &h, &t)
	ref.Render(r, &rh, &rt)
	if h.Len() == 0 || t.Len() == 0 {
		return errors.New("templates: sample digest rendered empty")
	}
	if p.Subject() != ref.Subject() || !bytes.Equal(h.Bytes(), rh.Bytes()) || !bytes.Equal(t.Bytes(), rt.Bytes()) {
		return errors.New("templates: sample digest assembled from its skeleton differs from the template's output")
	}
	if _, err := s.WebView(sampleDigest()); err != nil {
		return err
	}
	if _, _, _, err := s.Links("Erika", "e@example.org", "https://example.org/p", "https://example.org/u", true); err != nil {
		return fmt.Errorf("templates: self-test links: %w", err)
	}
	if _, _, _, err := s.Confirmation("Erika", "e@example.org", "https://example.org/c"); err != nil {
		return err
	}
	return nil
}

package templates

import (
	"fmt"
	"strings"
)

// confirmView is what the confirmation templates see.
type confirmView struct {
	siteView
	Subject    string
	Greeting   string // ", Name" or ""
	Email      string
	ConfirmURL string
}

func (s *Set) confirmView(name, email, confirmURL string) confirmView {
	v := confirmView{siteView: s.site, Email: cleanLine(email, 254), ConfirmURL: webURL(confirmURL)}
	if n := cleanLine(name, maxNameRunes); n != "" {
		v.Greeting = ", " + n
	}
	return v
}

// Confirmation renders the double opt-in mail: a plain request to confirm,
// no advertising (UWG § 7). confirmURL must be an absolute http(s) URL.
func (s *Set) Confirmation(name, email, confirmURL string) (subject, text, html string, err error) {
	v := s.confirmView(name, email, confirmURL)
	if v.ConfirmURL == "" {
		return "", "", "", fmt.Errorf("templates: confirmation URL %q: want an absolute https:// URL", confirmURL)
	}
	var b strings.Builder
	if err := s.text.ExecuteTemplate(&b, "confirm_subject.txt", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render confirmation subject: %w", err)
	}
	v.Subject = cleanLine(b.String(), 250)
	b.Reset()
	if err := s.text.ExecuteTemplate(&b, "confirm.txt", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render confirmation text: %w", err)
	}
	text = b.String()
	b.Reset()
	if err := s.html.ExecuteTemplate(&b, "confirm.html", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render confirmation HTML: %w", err)
	}
	return v.Subject, text, b.String(), nil
}

// linksView is what the links templates see.
type linksView struct {
	siteView
	Subject                        string
	Greeting                       string
	Email                          string
	PreferencesURL, UnsubscribeURL string
	Already                        bool // "Sie sind bereits angemeldet" (a signup for an active address)
}

// Links renders the mail with a subscriber's preferences and unsubscribe
// links: the answer to /manage, or with already set the answer to a signup
// of an address that is already active (nothing changed). Both URLs must be
// absolute http(s) URLs.
func (s *Set) Links(name, email, preferencesURL, unsubscribeURL string, already bool) (subject, text, html string, err error) {
	v := linksView{siteView: s.site, Email: cleanLine(email, 254), PreferencesURL: webURL(preferencesURL),
		UnsubscribeURL: webURL(unsubscribeURL), Already: already}
	if v.PreferencesURL == "" || v.UnsubscribeURL == "" {
		return "", "", "", fmt.Errorf("templates: links mail: want absolute https:// URLs, got %q and %q", preferencesURL, unsubscribeURL)
	}
	if n := cleanLine(name, maxNameRunes); n != "" {
		v.Greeting = ", " + n
	}
	var b strings.Builder
	if err := s.text.ExecuteTemplate(&b, "links_subject.txt", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render links subject: %w", err)
	}
	v.Subject = cleanLine(b.String(), 250)
	b.Reset()
	if err := s.text.ExecuteTemplate(&b, "links.txt", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render links text: %w", err)
	}
	text = b.String()
	b.Reset()
	if err := s.html.ExecuteTemplate(&b, "links.html", v); err != nil {
		return "", "", "", fmt.Errorf("templates: render links HTML: %w", err)
	}
	return v.Subject, text, b.String(), nil
}

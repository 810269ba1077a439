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

package subscribers_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

// TestBrowser_SignupForm fills and submits the signup form in headless
// Chromium with the keyboard, as a reader without a mouse would: every
// field has a label, Tab walks the fields in reading order and never into
// the honeypot, a wrong address comes back with the error next to the field
// and the input kept, and the corrected form ends on the "check your inbox"
// page with a pending subscriber. Screenshots at phone and desktop width go
// to DIGEST_SCREENSHOT_DIR when set.
func TestBrowser_SignupForm(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser test skipped: %s not found (Debian: apt-get install -y chromium; CI installs it)", chromiumPath)
	}
	f := newFixtureWith(t, storetest.SQLite(t), subscribers.HandlerDeps{PrivacyURL: "https://www.example.org/datenschutz"})
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	dir := os.Getenv("DIGEST_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	b := startBrowser(t)
	b.setWidth(1280, false)
	b.navigate(srv.URL + "/subscribe?regions=DE-HE")

	if got := b.evalString(`document.documentElement.lang`); got != "de" {
		t.Errorf("lang = %q", got)
	}
	var unlabelled []string
	b.eval(`[...document.querySelectorAll("input")].filter(i => i.type !== "hidden" && i.labels.length === 0).map(i => i.name + "/" + i.id)`, &unlabelled)
	if len(unlabelled) > 0 {
		t.Errorf("inputs without a label: %v", unlabelled)
	}
	if got := b.evalString(`document.querySelector("label[for=email]").textContent`); got != "E-Mail-Adresse" {
		t.Errorf("email label = %q", got)
	}
	var hpVisible bool
	b.eval(`(() => { const r = document.getElementById("website").getBoundingClientRect(); return r.right > 0 && r.bottom > 0 && r.width > 1; })()`, &hpVisible)
	if hpVisible {
		t.Error("the honeypot field is visible")
	}
	b.screenshot(filepath.Join(dir, "signup-desktop.png"), 1280, false)
	b.screenshot(filepath.Join(dir, "signup-phone.png"), 390, true)
	b.screenshotTop(filepath.Join(dir, "signup-phone-top.png"), 390, true, 844)

	// Keyboard order from the top of the page.
	b.eval(`document.activeElement.blur()`, nil)
	var order []string
	for range 60 {
		b.key("Tab")
		order = append(order, b.focused())
	}
	idx := func(id string) int { return slices.Index(order, id) }
	if slices.Contains(order, "website") {
		t.Errorf("Tab reaches the honeypot: %v", order)
	}
	steps := []string{"email", "name", "region-DE", "region-DE-TH", "topic-ozg-onlinedienste", "cadence-weekly", "button:Anmelden"}
	for i := 1; i < len(steps); i++ {
		if a, z := idx(steps[i-1]), idx(steps[i]); a < 0 || z < 0 || a > z {
			t.Fatalf("keyboard order: %s (at %d) should come before %s (at %d); order: %v", steps[i-1], a, steps[i], z, order)
		}
	}

	// Fill in with a wrong address and submit with Enter.
	b.eval(`document.activeElement.blur()`, nil)
	for b.focused() != "email" {
		b.key("Tab")
	}
	b.typeText("clara.example.org")
	b.key("Tab")
	b.typeText("Clara Leserin")
	b.markDocument()
	b.key("Enter")
	b.waitNewDocument()
	if got := b.evalString(`document.querySelector("h1").textContent`); got != "Newsletter abonnieren" {
		t.Fatalf("after a wrong address: h1 %q", got)
	}
	var state struct {
		ErrorBeforeInput bool   `json:"errorBeforeInput"`
		Invalid          string `json:"invalid"`
		DescribedBy      string `json:"describedBy"`
		Error            string `json:"error"`
		Email, Name      string
		Hessen           bool `json:"hessen"`
		Summary          string
	}
	b.eval(`(() => { const i = document.getElementById("email"), e = document.getElementById("email-error");
		return {errorBeforeInput: !!e && i.previousElementSibling === e && e.parentElement.contains(document.querySelector("label[for=email]")),
			invalid: i.getAttribute("aria-invalid"), describedBy: i.getAttribute("aria-describedby"), error: e ? e.textContent : "",
			Email: i.value, Name: document.getElementById("name").value, hessen: document.getElementById("region-DE-HE").checked,
			Summary: document.querySelector(".alert a[href='#email']") ? "link" : ""}; })()`, &state)
	if !state.ErrorBeforeInput || state.Invalid != "true" || state.DescribedBy != "email-error" ||
		!strings.Contains(state.Error, "keine gültige E-Mail-Adresse") || state.Email != "clara.example.org" ||
		state.Name != "Clara Leserin" || !state.Hessen || state.Summary != "link" {
		t.Fatalf("error page: %+v", state)
	}
	b.screenshot(filepath.Join(dir, "signup-error-phone.png"), 390, true)
	b.screenshotTop(filepath.Join(dir, "signup-error-phone-top.png"), 390, true, 844)
	b.screenshot(filepath.Join(dir, "signup-error-desktop.png"), 1280, false)

	// Correct it, tick Thüringen with the space bar, submit.
	b.eval(`document.getElementById("email").focus(); document.getElementById("email").select()`, nil)
	b.typeText("clara@example.org")
	b.eval(`document.getElementById("region-DE-TH").focus()`, nil)
	b.key(" ")
	b.eval(`document.querySelector("button[type=submit]").focus()`, nil)
	b.markDocument()
	b.key("Enter")
	b.waitNewDocument()
	if got := b.evalString(`document.querySelector("h1").textContent`); got != "Bitte prüfen Sie Ihr Postfach" {
		t.Fatalf("after submitting: h1 %q\n%s", got, b.evalString(`document.body.innerText`))
	}
	b.screenshot(filepath.Join(dir, "signup-done-phone.png"), 390, true)
	f.h.Wait()
	sub, ok := f.byEmail("clara@example.org")
	if !ok || sub.Status != subscribers.StatusPending || sub.Name != "Clara Leserin" || strings.Join(sub.Regions, ",") != "DE-HE,DE-TH" {
		t.Fatalf("subscriber after the browser's signup: %v %+v", ok, sub)
	}
	if m := f.mail.to("clara@example.org"); len(m) != 1 || m[0].Kind != subscribers.NoticeConfirm {
		t.Fatalf("mails: %+v", m)
	}
}

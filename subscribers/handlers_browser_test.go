package subscribers_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

const chromiumPath = "/usr/bin/chromium"

// chromium runs headless Chromium with args and returns its stdout.
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--disable-extensions", "--user-data-dir=" + t.TempDir(), "--window-size=1024,1800"}
	cmd := exec.CommandContext(ctx, chromiumPath, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

// TestBrowser_PreferencesPage loads the preferences page in headless
// Chromium, checks the DOM it builds and takes a screenshot (kept in
// DIGEST_SCREENSHOT_DIR when set, for a human to look at).
func TestBrowser_PreferencesPage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("DIGEST_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("%s not found but DIGEST_REQUIRE_CHROMIUM=1: the browser test must run", chromiumPath)
		}
		t.Skipf("browser test skipped: %s not found (Debian: apt-get install -y chromium; CI installs it)", chromiumPath)
	}
	f := newFixture(t, storetest.SQLite(t))
	sub := f.add("anna@example.org", subscribers.StatusActive)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	page := srv.URL + f.path(subscribers.PurposePreferences, sub)

	dom := chromium(t, "--dump-dom", page)
	for _, want := range []string{
		`<html lang="de">`, "<legend>Länder</legend>", "<legend>Themen</legend>",
		"Wie oft möchten Sie den Newsletter erhalten?", "Einstellungen speichern", "Thüringen", "Künstliche Intelligenz",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	checkbox := regexp.MustCompile(`<input type="checkbox" id="region-([A-Z-]+)" name="regions" value="([A-Z-]+)"( checked(="")?)?>`)
	boxes := checkbox.FindAllStringSubmatch(dom, -1)
	if len(boxes) != 17 {
		t.Fatalf("DOM has %d region checkboxes, want 17:\n%s", len(boxes), dom)
	}
	for _, b := range boxes {
		if checked := b[3] != ""; checked != (b[2] == "DE-BY") {
			t.Errorf("region %s checked=%v", b[2], checked)
		}
		if !strings.Contains(dom, `<label for="region-`+b[1]+`">`) {
			t.Errorf("region %s has no label", b[1])
		}
	}
	if !regexp.MustCompile(`<form method="post" action="/preferences\?t=[^"]+">`).MatchString(dom) {
		t.Error("form does not post back to the preferences link")
	}

	dir := os.Getenv("DIGEST_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "preferences.png")
	chromium(t, "--screenshot="+shot, "--hide-scrollbars", page)
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 10_000 {
		t.Fatalf("screenshot %s missing or nearly empty: %v", shot, err)
	}

	// The unsubscribe page on a phone-sized window.
	unsub := srv.URL + f.path(subscribers.PurposeUnsubscribe, sub)
	dom = chromium(t, "--dump-dom", unsub)
	if !strings.Contains(dom, `<button type="submit">Jetzt abmelden</button>`) || !strings.Contains(dom, "anna@example.org") {
		t.Errorf("unsubscribe page DOM lacks the button or the address:\n%s", dom)
	}
	shot = filepath.Join(dir, "unsubscribe-mobile.png")
	chromium(t, "--screenshot="+shot, "--window-size=390,844", "--hide-scrollbars", unsub)
	if st, err := os.Stat(shot); err != nil || st.Size() < 5_000 {
		t.Fatalf("screenshot %s missing or nearly empty: %v", shot, err)
	}
}

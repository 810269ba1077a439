package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kommune21/digest/store/storetest"
	xhtml "golang.org/x/net/html"
)

func TestForm_Snippet(t *testing.T) {
	c := newCLI(t, storetest.SQLiteURL(t))
	c.env["DIGEST_BASE_URL"] = "https://digest.kommune21.example/"
	c.env["DIGEST_FROM"] = "Kommune21 Digest <digest@kommune21.example>"
	c.env["DIGEST_PRIVACY_URL"] = "https://www.kommune21.example/datenschutz"

	out := c.ok("form", "--region", "de-by", "--topic", "it-sicherheit,open-source", "--cadence", "daily")
	for _, want := range []string{
		`<form class="digest-signup" method="post" action="https://digest.kommune21.example/subscribe" accept-charset="utf-8">`,
		`<label for="digest-email">E-Mail-Adresse</label>`, `id="digest-email" name="email"`,
		`<input type="hidden" name="regions" value="DE-BY">`, `<input type="hidden" name="topics" value="it-sicherheit">`,
		`<input type="hidden" name="topics" value="open-source">`, `<input type="hidden" name="cadence" value="daily">`,
		`name="website" value="" tabindex="-1"`, "täglich neue Meldungen aus Bayern zu den Themen IT-Sicherheit, Open Source",
		"Kommune21 Digest (digest@kommune21.example)", `<a href="https://www.kommune21.example/datenschutz">Hinweise zum Datenschutz</a>`,
		`href="https://digest.kommune21.example/subscribe?cadence=daily&amp;regions=DE-BY&amp;topics=it-sicherheit&amp;topics=open-source"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("snippet lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"<script", "<link", "<img", "<style", "<iframe"} {
		if strings.Contains(strings.ToLower(out), bad) {
			t.Errorf("snippet contains %q", bad)
		}
	}
	if regexp.MustCompile(`\son[a-z]+=`).MatchString(out) {
		t.Error("snippet has an event handler attribute")
	}
	if _, err := xhtml.Parse(strings.NewReader(out)); err != nil {
		t.Fatal(err)
	}

	// Plain: no hidden choices, links to the bare form.
	plain := c.ok("form")
	if strings.Contains(plain, `type="hidden"`) || !strings.Contains(plain, `href="https://digest.kommune21.example/subscribe"`) || !strings.Contains(plain, "wöchentlich neue Meldungen per E-Mail") {
		t.Errorf("plain snippet:\n%s", plain)
	}

	// Unknown values are refused with the valid ones named, exit 2.
	if errOut := c.fail(2, "form", "--region", "DE-XX"); !strings.Contains(errOut, `"DE-XX"`) || !strings.Contains(errOut, "DE-BY") {
		t.Errorf("bad region: %s", errOut)
	}
	if errOut := c.fail(2, "form", "--topic", "kochen"); !strings.Contains(errOut, `"kochen"`) {
		t.Errorf("bad topic: %s", errOut)
	}
	if errOut := c.fail(2, "form", "--cadence", "hourly"); !strings.Contains(errOut, `"hourly"`) {
		t.Errorf("bad cadence: %s", errOut)
	}
}

// TestForm_SnippetPostsToTheHandler submits the snippet's fields the way a
// browser does, cross-origin, against the handler `digest serve` runs.
func TestForm_SnippetPostsToTheHandler(t *testing.T) {
	c := newCLI(t, storetest.SQLiteURL(t))
	out := c.ok("form", "--region", "DE-HE")
	doc, err := xhtml.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && n.Data == "input" {
			var name, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			if name == "email" {
				value = "portal@example.org"
			}
			form.Add(name, value)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	a := testApp(t, c.env)
	h, err := a.webHandler()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://www.kommune21.example")
	req.Header.Set("Referer", "https://www.kommune21.example/hessen/")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Bitte prüfen Sie Ihr Postfach") {
		t.Fatalf("POST = %d\n%s", rec.Code, rec.Body)
	}
	h.Wait()
	show := c.ok("subscribers", "list", "--json")
	if !strings.Contains(show, `"portal@example.org"`) || !strings.Contains(show, `"pending"`) || !strings.Contains(show, `"DE-HE"`) {
		t.Fatalf("after the snippet's post: %s", show)
	}
}

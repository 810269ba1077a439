package subscribers_test

import (
	"context"
	"html"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/store/storetest"
	"github.com/kommune21/digest/subscribers"
)

var formAction = regexp.MustCompile(`<form[^>]* action="([^"]+)"`)

// TestHandler_UnsubscribeLinkNeverSubscribes is the regression test for
// finding 2 of issue 16: the page behind an unsubscribe link (which sits in
// every digest, forwarded mail and mail-gateway log) carried a /confirm
// token, and posting it made the person active again, recorded as double
// opt-in, without any mail to the address. Whatever a holder of the
// unsubscribe link does with the pages it reaches, nobody becomes active.
func TestHandler_UnsubscribeLinkNeverSubscribes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, st := range []subscribers.Status{subscribers.StatusActive, subscribers.StatusUnsubscribed, subscribers.StatusBounced} {
			t.Run(string(st), func(t *testing.T) {
				sub := f.add(string(st)+"@example.org", st)
				before := f.get(sub.ID)
				target := f.path(subscribers.PurposeUnsubscribe, sub)
				pages := []response{f.do("POST", target, oneClick), f.do("GET", target, nil)}
				for i := 0; i < len(pages) && i < 10; i++ {
					p := pages[i]
					if strings.Contains(p.body, "/confirm") || strings.Contains(p.body, "confirm?t=") {
						t.Errorf("page %d carries a confirm link:\n%s", i, p.body)
					}
					// Press every button the page offers.
					for _, m := range formAction.FindAllStringSubmatch(p.body, -1) {
						action := html.UnescapeString(m[1])
						if action == target {
							continue // the unsubscribe button itself
						}
						pages = append(pages, f.do("POST", action, url.Values{}))
					}
				}
				f.h.Wait()
				got := f.get(sub.ID)
				if got.Status == subscribers.StatusActive || got.Consent.Method != before.Consent.Method || !got.ConfirmedAt.Equal(before.ConfirmedAt) {
					t.Fatalf("a holder of the unsubscribe link changed the consent: %s %+v → %s %+v", before.Status, before.Consent, got.Status, got.Consent)
				}
			})
		}
	})
}

// TestHandler_Resubscribe: "wieder anmelden" mails a fresh double opt-in to
// the address; only following that mail's link makes the reader active, and
// the consent evidence tells the story as it happened.
func TestHandler_Resubscribe(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		sub := f.add("anna@example.org", subscribers.StatusActive)
		unsub := f.path(subscribers.PurposeUnsubscribe, sub)
		oldConfirm := f.path(subscribers.PurposeConfirm, sub) // e.g. from the first confirmation mail

		r := f.do("POST", unsub, oneClick)
		wantPage(t, r, 200, "Sie sind abgemeldet", "Versehentlich abgemeldet?", "Wieder anmelden", "Wir senden Ihnen eine E-Mail mit einem Bestätigungslink")

		t.Run("OldConfirmLinkDoesNotResubscribe", func(t *testing.T) {
			r := f.do("POST", oldConfirm, url.Values{})
			wantPage(t, r, 200, "Dieser Bestätigungslink gilt nicht mehr", "Es wurde nichts geändert", `href="/subscribe"`)
			if got := f.get(sub.ID); got.Status != subscribers.StatusUnsubscribed {
				t.Fatalf("old confirm link: status %s", got.Status)
			}
		})

		action := html.UnescapeString(formAction.FindAllStringSubmatch(r.body, -1)[0][1])
		if !strings.HasPrefix(action, "/resubscribe?t=") {
			t.Fatalf("resubscribe form posts to %q", action)
		}
		r = f.do("POST", action, url.Values{})
		wantPage(t, r, 200, "Bitte prüfen Sie Ihr Postfach", "anna@example.org", "Erst wenn Sie auf den Link in dieser E-Mail klicken")
		f.h.Wait()
		if got := f.get(sub.ID); got.Status != subscribers.StatusPending {
			t.Fatalf("after asking to come back: %s, want pending until the mail's link is followed", got.Status)
		}
		mails := f.mail.to("anna@example.org")
		if len(mails) != 1 || mails[0].Kind != subscribers.NoticeConfirm || !strings.HasPrefix(mails[0].ConfirmURL, fixtureBaseURL+"/confirm?t=") {
			t.Fatalf("mails to anna: %+v", mails)
		}

		t.Run("LimitsAsTheSignup", func(t *testing.T) {
			for range 5 {
				f.do("POST", action, url.Values{})
			}
			f.h.Wait()
			if n := len(f.mail.to("anna@example.org")); n != 1 {
				t.Fatalf("5 more presses within 10 minutes sent %d mails in all, want 1", n)
			}
		})

		// Anna follows the mailed link.
		link, _ := url.Parse(mails[0].ConfirmURL)
		f.clock.add(3 * time.Minute)
		r = f.do("POST", link.RequestURI(), url.Values{})
		wantPage(t, r, 200, "Anmeldung bestätigt")
		got := f.get(sub.ID)
		if got.Status != subscribers.StatusActive || got.Consent.Method != "double-opt-in" || got.Consent.Source != subscribers.ConsentSourceConfirmLink ||
			got.Consent.IP != "192.0.2.7" || !reflect.DeepEqual(got.Regions, []string{"DE-BY"}) {
			t.Fatalf("after confirming: %+v", got)
		}
		events, err := f.store.ConsentEvents(ctx, sub.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 || events[0].Kind != subscribers.EventResubscribeRequested || events[0].Source != subscribers.SourceUnsubscribePage ||
			events[0].IP != "192.0.2.7" || !strings.Contains(events[0].Details, "previous status unsubscribed") ||
			events[1].Kind != subscribers.EventConfirmed || !events[1].At.After(events[0].At) {
			t.Fatalf("consent events: %+v", events)
		}
	})
}

// TestHandler_BouncedNeedsNewConfirmation: a bounced address is not made
// active by any confirm link it holds; coming back means a fresh mail.
func TestHandler_BouncedNeedsNewConfirmation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		sub := f.add("weg@example.org", subscribers.StatusBounced)
		r := f.do("POST", f.path(subscribers.PurposeConfirm, sub), url.Values{})
		wantPage(t, r, 200, "Dieser Bestätigungslink gilt nicht mehr", "konnten wir zuletzt keine E-Mails zustellen")
		if got := f.get(sub.ID); got.Status != subscribers.StatusBounced {
			t.Fatalf("bounced after POST confirm: %s", got.Status)
		}
		if r := f.do("GET", f.path(subscribers.PurposeConfirm, sub), nil); strings.Contains(r.body, "<form") {
			t.Errorf("confirm page of a bounced address offers a form:\n%s", r.body)
		}
	})
}

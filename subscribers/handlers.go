package subscribers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kommune21/digest/taxonomy"
)

// ConsentSourceConfirmLink is the consent source recorded when a subscriber
// confirms through the link in the confirmation mail.
const ConsentSourceConfirmLink = "confirm-link"

// subscriberFor checks the token in ?t= for purpose p and loads its subscriber.
// On failure it has already answered (400 bad link, 404 erased subscriber).
func (h *Handler) subscriberFor(w http.ResponseWriter, r *http.Request, p Purpose) (Subscriber, bool) {
	tok := r.URL.Query().Get("t")
	if tok == "" {
		h.message(w, r, http.StatusBadRequest, MsgMissingLink)
		return Subscriber{}, false
	}
	c, err := h.d.Signer.Verify(tok, p)
	if err != nil {
		h.d.Log.Info("rejected link", "purpose", string(p), "reason", err.Error(), "client_ip", h.clientIP(r))
		h.message(w, r, http.StatusBadRequest, MsgInvalidLink)
		return Subscriber{}, false
	}
	sub, err := h.d.Store.Get(r.Context(), c.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && !c.Matches(sub.Email)) {
		// Erased, or the id now belongs to another address: nothing to show.
		h.message(w, r, http.StatusNotFound, MsgNotFound)
		return Subscriber{}, false
	}
	if err != nil {
		h.fail(w, r, "load subscriber", err)
		return Subscriber{}, false
	}
	return sub, true
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	h.d.Log.Error(what, "path", r.URL.Path, "err", err)
	h.message(w, r, http.StatusInternalServerError, MsgError)
}

// links fills the cross links between a subscriber's pages (relative URLs).
func (h *Handler) links(sub Subscriber, self Purpose, d *PageData) {
	link := func(p Purpose) string { return "/" + string(p) + "?t=" + h.d.Signer.Token(p, sub.ID, sub.Email) }
	d.Action = link(self)
	d.PreferencesURL = link(PurposePreferences)
	d.UnsubscribeURL = link(PurposeUnsubscribe)
	// "Wieder anmelden" only asks for a fresh confirmation mail; a confirm
	// token never appears on a page (it would make the unsubscribe link,
	// which travels in every forwarded digest, a subscribe link).
	if h.d.Mailer != nil {
		d.SignupURL = "/subscribe"
	}
	if (sub.Status == StatusUnsubscribed || sub.Status == StatusBounced) && h.d.Mailer != nil {
		d.ResubscribeAction = "/resubscribe?t=" + h.d.Signer.Token(PurposeUnsubscribe, sub.ID, sub.Email)
	}
	d.Email, d.Name, d.State = sub.Email, sub.Name, sub.Status
}

func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.subscriberFor(w, r, PurposeUnsubscribe)
	if !ok {
		return
	}
	var d PageData
	h.links(sub, PurposeUnsubscribe, &d)
	h.render(w, r, http.StatusOK, PageUnsubscribe, d)
}

// unsubscribe is the RFC 8058 one-click endpoint and the target of the page's
// button. The body (List-Unsubscribe=One-Click) is not required: the signed
// token alone authorises leaving, and leaving twice is fine.
func (h *Handler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.subscriberFor(w, r, PurposeUnsubscribe)
	if !ok {
		return
	}
	was := sub.Status
	sub, err := h.d.Store.Unsubscribe(r.Context(), sub.ID)
	if errors.Is(err, ErrNotFound) {
		h.message(w, r, http.StatusNotFound, MsgNotFound)
		return
	}
	if err != nil {
		h.fail(w, r, "unsubscribe", err)
		return
	}
	if was != StatusUnsubscribed {
		h.d.Log.Info("unsubscribed", "subscriber_id", sub.ID, "one_click", r.PostFormValue("List-Unsubscribe") == "One-Click")
	}
	d := PageData{Done: true}
	h.links(sub, PurposeUnsubscribe, &d)
	h.render(w, r, http.StatusOK, PageUnsubscribe, d)
}

func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.subscriberFor(w, r, PurposeConfirm)
	if !ok {
		return
	}
	var d PageData
	h.links(sub, PurposeConfirm, &d)
	h.render(w, r, http.StatusOK, PageConfirm, d)
}

func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.subscriberFor(w, r, PurposeConfirm)
	if !ok {
		return
	}
	was := sub.Status
	sub, err := h.d.Store.Confirm(r.Context(), sub.ID, h.clientIP(r), ConsentSourceConfirmLink)
	if errors.Is(err, ErrNotFound) {
		h.message(w, r, http.StatusNotFound, MsgNotFound)
		return
	}
	if err != nil {
		h.fail(w, r, "confirm", err)
		return
	}
	if was != sub.Status {
		h.d.Log.Info("confirmed", "subscriber_id", sub.ID, "previous_status", string(was))
	}
	d := PageData{Done: true}
	h.links(sub, PurposeConfirm, &d)
	h.render(w, r, http.StatusOK, PageConfirm, d)
}

func (h *Handler) preferencesPage(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.subscriberFor(w, r, PurposePreferences)
	if !ok {
		return
	}
	h.showPreferences(w, r, http.StatusOK, sub, sub.Regions, sub.Topics, string(sub.Cadence), nil, false)
}

func (h *Handler) savePreferences(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.subscriberFor(w, r, PurposePreferences)
	if !ok {
		return
	}
	// Only what the page's own form sends: a multipart or JSON body would parse
	// as "nothing chosen" and reset the choices to all.
	form, ok := h.readForm(w, r)
	if !ok {
		return
	}
	// Choices are codes and slugs: bytes that are not UTF-8 never reach the
	// page that names an unknown value; U+FFFD stands in their place.
	for _, k := range []string{"regions", "topics", "cadence"} {
		for i, v := range form[k] {
			form[k][i] = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	regions, topics, cadence := form["regions"], form["topics"], form.Get("cadence")
	set, err := h.d.Taxonomy.Load(r.Context())
	if err != nil {
		h.fail(w, r, "load taxonomy", err)
		return
	}
	var problems []string
	codes, errs := ValidateRegions(set, regions)
	for _, fe := range errs {
		problems = append(problems, "Unbekanntes Bundesland: „"+shorten(fe.Value)+"“")
	}
	slugs, errs := ValidateTopics(set, topics)
	for _, fe := range errs {
		problems = append(problems, "Unbekanntes Thema: „"+shorten(fe.Value)+"“")
	}
	cad, fe := validateCadence(cadence)
	if len(form["cadence"]) == 0 {
		cad, cadence = sub.Cadence, string(sub.Cadence) // not sent: keep it (an empty value would mean weekly)
	}
	if fe != nil || len(form["cadence"]) > 1 {
		problems = append(problems, "Unbekannter Rhythmus: „"+shorten(strings.Join(form["cadence"], ", "))+"“ (möglich sind wöchentlich und täglich)")
	}
	if problems != nil {
		h.d.Log.Info("preferences rejected", "subscriber_id", sub.ID, "problems", len(problems))
		h.showPreferencesSet(w, r, http.StatusBadRequest, sub, set, regions, topics, cadence, problems, false)
		return
	}
	sub.Regions, sub.Topics, sub.Cadence = codes, slugs, cad
	if err := h.d.Store.UpdateChoices(r.Context(), sub); err != nil {
		if errors.Is(err, ErrNotFound) {
			h.message(w, r, http.StatusNotFound, MsgNotFound)
			return
		}
		h.fail(w, r, "save preferences", err)
		return
	}
	sub, err = h.d.Store.Get(r.Context(), sub.ID)
	if err != nil {
		h.fail(w, r, "reload subscriber", err)
		return
	}
	h.d.Log.Info("preferences saved", "subscriber_id", sub.ID, "regions", len(sub.Regions), "topics", len(sub.Topics), "cadence", string(sub.Cadence))
	h.showPreferencesSet(w, r, http.StatusOK, sub, set, sub.Regions, sub.Topics, string(sub.Cadence), nil, true)
}

func (h *Handler) showPreferences(w http.ResponseWriter, r *http.Request, status int, sub Subscriber, regions, topics []string, cadence string, problems []string, done bool) {
	set, err := h.d.Taxonomy.Load(r.Context())
	if err != nil {
		h.fail(w, r, "load taxonomy", err)
		return
	}
	h.showPreferencesSet(w, r, status, sub, set, regions, topics, cadence, problems, done)
}

// showPreferencesSet renders the form with the given (possibly rejected)
// values checked, and on success a summary of what was saved.
func (h *Handler) showPreferencesSet(w http.ResponseWriter, r *http.Request, status int, sub Subscriber, set *taxonomy.Set,
	regions, topics []string, cadence string, problems []string, done bool) {
	in := func(list []string, v string, fold func(string) string) bool {
		for _, x := range list {
			if fold(strings.TrimSpace(x)) == v {
				return true
			}
		}
		return false
	}
	d := PageData{Done: done, Errors: problems}
	h.links(sub, PurposePreferences, &d)
	for _, rg := range set.Regions {
		d.Regions = append(d.Regions, Choice{Value: rg.Code, Label: rg.Name, Checked: in(regions, rg.Code, strings.ToUpper)})
	}
	for _, t := range set.Topics {
		d.Topics = append(d.Topics, Choice{Value: t.Slug, Label: t.Name, Checked: in(topics, t.Slug, strings.ToLower)})
	}
	if c, err := ParseCadence(cadence); err == nil {
		cadence = string(c)
	}
	d.Cadences = []Choice{
		{Value: string(Weekly), Label: "wöchentlich", Checked: cadence == string(Weekly)},
		{Value: string(Daily), Label: "täglich", Checked: cadence == string(Daily)},
	}
	if done {
		d.Summary.Cadence = sub.Cadence
		for _, c := range sub.Regions {
			if rg, ok := set.Region(c); ok {
				d.Summary.Regions = append(d.Summary.Regions, rg.Name)
			}
		}
		for _, sl := range sub.Topics {
			if t, ok := set.Topic(sl); ok {
				d.Summary.Topics = append(d.Summary.Topics, t.Name)
			}
		}
	}
	h.render(w, r, status, PagePreferences, d)
}

// shorten keeps an echoed form value short in a page.
func shorten(s string) string {
	const max = 60
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

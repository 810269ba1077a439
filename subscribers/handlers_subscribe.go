package subscribers

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/kommune21/digest/taxonomy"
)

// readForm parses a form post (signup, manage, preferences). It answers 415 to anything but a plain
// urlencoded form (what a browser sends from a <form>), 413 to a huge body.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			h.message(w, r, http.StatusUnsupportedMediaType, MsgUnsupported)
			return nil, false
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxSignupBodyBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			h.message(w, r, http.StatusRequestEntityTooLarge, MsgTooLarge)
			return nil, false
		}
		h.message(w, r, http.StatusBadRequest, MsgBadForm)
		return nil, false
	}
	return r.PostForm, true
}

// signupSource is the consent source of a form post: the page that held the
// form (the Referer without query or fragment), else our own signup page.
func (h *Handler) signupSource(r *http.Request) string {
	page := strings.TrimSuffix(h.d.BaseURL, "/") + "/subscribe"
	if u, err := url.Parse(r.Referer()); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		u.RawQuery, u.Fragment, u.User = "", "", nil
		page = u.String()
	}
	return clip(SourceSignupForm+" "+page, 300)
}

func (h *Handler) subscribePage(w http.ResponseWriter, r *http.Request) {
	set, err := h.d.Taxonomy.Load(r.Context())
	if err != nil {
		h.fail(w, r, "load taxonomy", err)
		return
	}
	q := r.URL.Query()
	in := Input{Regions: splitValues(q["regions"]), Topics: splitValues(q["topics"]), Cadence: q.Get("cadence")}
	problems := choiceProblems(set, in)
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusBadRequest
	}
	h.showSignup(w, r, status, set, in, problems)
}

// splitValues accepts "DE-BY,DE-HE" as well as repeated parameters in links.
func splitValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	form, ok := h.readForm(w, r)
	if !ok || !h.signupAllowed(w, r) {
		return
	}
	set, err := h.d.Taxonomy.Load(r.Context())
	if err != nil {
		h.fail(w, r, "load taxonomy", err)
		return
	}
	in := Input{Email: form.Get("email"), Name: form.Get("name"), Regions: form["regions"], Topics: form["topics"], Cadence: form.Get("cadence")}
	if len(form["cadence"]) > 1 {
		in.Cadence = strings.Join(form["cadence"], ",")
	}
	sub, errs := in.Validate(set)
	if len(errs) > 0 {
		h.d.Log.Info("signup rejected", "problems", len(errs), "client_ip", h.clientIP(r))
		h.showSignup(w, r, http.StatusBadRequest, set, in, fieldProblems(errs))
		return
	}
	if form.Get(HoneypotField) != "" {
		// A bot filled the invisible field: answer as always, do nothing.
		h.d.Log.Info("signup ignored: honeypot field filled", "client_ip", h.clientIP(r))
	} else {
		h.accept(SignupRequest{Kind: RequestSignup, Subscriber: sub, IP: h.clientIP(r), Source: h.signupSource(r)})
	}
	h.render(w, r, http.StatusOK, PageSubscribe, PageData{Done: true, Email: sub.Email, Sender: h.d.Sender})
}

// choiceProblems validates only the choices (GET /subscribe preselection).
func choiceProblems(set *taxonomy.Set, in Input) map[string]string {
	var errs []*FieldError
	_, fes := ValidateRegions(set, in.Regions)
	errs = append(errs, fes...)
	_, fes = ValidateTopics(set, in.Topics)
	errs = append(errs, fes...)
	if _, fe := validateCadence(in.Cadence); fe != nil {
		errs = append(errs, fe)
	}
	return fieldProblems(errs)
}

// fieldProblems turns the validation errors into German sentences per field,
// naming the rejected values.
func fieldProblems(errs []*FieldError) map[string]string {
	out := map[string]string{}
	var regions, topics []string
	for _, fe := range errs {
		switch fe.Field {
		case "email":
			if strings.TrimSpace(fe.Value) == "" {
				out["email"] = "Bitte geben Sie Ihre E-Mail-Adresse an, z. B. name@example.org."
			} else {
				out["email"] = "„" + shorten(fe.Value) + "“ ist keine gültige E-Mail-Adresse. Bitte geben Sie nur die Adresse an, z. B. name@example.org."
			}
		case "name":
			out["name"] = "Der Name darf höchstens 200 Zeichen haben und keine Zeilenumbrüche oder Steuerzeichen enthalten."
		case "regions":
			regions = append(regions, "„"+shorten(fe.Value)+"“")
		case "topics":
			topics = append(topics, "„"+shorten(fe.Value)+"“")
		case "cadence":
			out["cadence"] = "Unbekannter Rhythmus „" + shorten(fe.Value) + "“: Bitte wählen Sie wöchentlich oder täglich."
		}
	}
	if regions != nil {
		out["regions"] = "Unbekannte Länder: " + strings.Join(regions, ", ") + ". Bitte wählen Sie aus der Liste."
	}
	if topics != nil {
		out["topics"] = "Unbekannte Themen: " + strings.Join(topics, ", ") + ". Bitte wählen Sie aus der Liste."
	}
	return out
}

// showSignup renders the signup form with the reader's input kept.
func (h *Handler) showSignup(w http.ResponseWriter, r *http.Request, status int, set *taxonomy.Set, in Input, problems map[string]string) {
	d := PageData{Form: SignupForm{Email: in.Email, Name: in.Name}, FieldErrors: problems,
		PrivacyURL: h.d.PrivacyURL, Sender: h.d.Sender, Honeypot: HoneypotField}
	d.Regions, d.Topics, d.Cadences = choices(set, in.Regions, in.Topics, in.Cadence)
	for _, f := range []string{"email", "name", "regions", "topics", "cadence"} {
		if msg, ok := problems[f]; ok {
			d.Errors = append(d.Errors, msg)
			d.ErrorFields = append(d.ErrorFields, FieldProblem{Field: f, Msg: msg})
		}
	}
	h.render(w, r, status, PageSubscribe, d)
}

// choices builds the checkboxes and radio buttons with the given values checked.
func choices(set *taxonomy.Set, regions, topics []string, cadence string) (rs, ts, cs []Choice) {
	in := func(list []string, v string, fold func(string) string) bool {
		for _, x := range list {
			if fold(strings.TrimSpace(x)) == v {
				return true
			}
		}
		return false
	}
	for _, rg := range set.Regions {
		rs = append(rs, Choice{Value: rg.Code, Label: rg.Name, Checked: in(regions, rg.Code, strings.ToUpper)})
	}
	for _, t := range set.Topics {
		ts = append(ts, Choice{Value: t.Slug, Label: t.Name, Checked: in(topics, t.Slug, strings.ToLower)})
	}
	if c, err := ParseCadence(cadence); err == nil {
		cadence = string(c)
	}
	cs = []Choice{
		{Value: string(Weekly), Label: "wöchentlich", Checked: cadence != string(Daily)},
		{Value: string(Daily), Label: "täglich", Checked: cadence == string(Daily)},
	}
	return rs, ts, cs
}

func (h *Handler) managePage(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, PageManage, PageData{})
}

func (h *Handler) manage(w http.ResponseWriter, r *http.Request) {
	form, ok := h.readForm(w, r)
	if !ok || !h.signupAllowed(w, r) {
		return
	}
	email, err := ValidateEmail(form.Get("email"))
	if err != nil {
		var fe *FieldError
		errors.As(err, &fe)
		p := fieldProblems([]*FieldError{fe})
		h.render(w, r, http.StatusBadRequest, PageManage, PageData{Form: SignupForm{Email: form.Get("email")}, FieldErrors: p,
			Errors: []string{p["email"]}, ErrorFields: []FieldProblem{{Field: "email", Msg: p["email"]}}})
		return
	}
	if form.Get(HoneypotField) == "" {
		h.accept(SignupRequest{Kind: RequestManage, Subscriber: Subscriber{Email: email}, IP: h.clientIP(r), Source: "manage-page"})
	}
	h.render(w, r, http.StatusOK, PageManage, PageData{Done: true, Email: email})
}

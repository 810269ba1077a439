package subscribers

import "io"

// Pages renders the subscriber-facing HTML pages. templates.Pages implements
// it; the German wording lives in those templates, the handlers only say which
// page and state to show.
type Pages interface {
	Render(w io.Writer, page string, data any) error
}

// Page names passed to Pages.Render.
const (
	PageUnsubscribe = "unsubscribe"
	PageConfirm     = "confirm"
	PagePreferences = "preferences"
	PageMessage     = "message" // errors and notices; PageData.Kind says which
	PageSubscribe   = "subscribe"
	PageManage      = "manage"
)

// Message kinds for PageMessage.
const (
	MsgInvalidLink = "invalid-link" // forged, garbled or other-purpose token (400)
	MsgMissingLink = "missing-link" // no token at all (400)
	MsgNotFound    = "not-found"    // erased or unknown subscriber (404)
	MsgNoPage      = "no-page"      // unknown path (404)
	MsgRateLimited = "rate-limited" // too many requests (429)
	MsgError       = "error"        // server error (500)
	MsgNoEdition   = "no-edition"   // archive: a digest never sent or no longer kept (404)
	MsgUnsupported = "unsupported"  // a form post that is not urlencoded (415)
	MsgTooLarge    = "too-large"    // body over the limit (413)
	MsgBadForm     = "bad-form"     // unreadable form (400)
)

// PageData is what every page template sees. Values are plain text; the
// templates escape them.
type PageData struct {
	Site   string // newsletter name
	Kind   string // PageMessage: one of the Msg* kinds
	Status int    // HTTP status of the response

	Email string // the subscriber's address as entered
	Name  string
	State Status // the subscriber's status after any change
	Done  bool   // the POST action of this page happened just now

	Action            string // form action of this page: path and query with the token
	PreferencesURL    string // relative link to the preferences page ("" = none)
	UnsubscribeURL    string // relative link to the unsubscribe page
	ResubscribeAction string // form action that asks for a fresh confirmation mail (unsubscribe page)
	Resubscribed      bool   // unsubscribe page: that mail was just requested
	SignupURL         string // the public signup form ("" = not served)

	Regions  []Choice // preferences: every region, chosen ones checked
	Topics   []Choice // preferences: every topic
	Cadences []Choice // preferences: weekly, daily
	Errors   []string // preferences: each unknown value, named
	Summary  Summary  // preferences: the saved choices in words

	Form        SignupForm        // subscribe, manage: the reader's input, kept on errors
	FieldErrors map[string]string // subscribe, manage: field name → problem, shown next to the field
	ErrorFields []FieldProblem    // the same in form order, for the summary at the top
	PrivacyURL  string            // link to the privacy notice ("" = none)
	Sender      string            // who sends the newsletter (consent sentence)
	Honeypot    string            // name of the field people never see
}

// SignupForm is what a reader typed into the signup or manage form.
type SignupForm struct{ Email, Name string }

// FieldProblem is one field's problem for the error summary.
type FieldProblem struct{ Field, Msg string }

// Choice is one checkbox or radio button.
type Choice struct {
	Value, Label string
	Checked      bool
}

// Summary is a subscriber's choices in words for the confirmation of a save.
type Summary struct {
	Regions []string // German names; empty = all regions
	Topics  []string // German names; empty = all topics
	Cadence Cadence
}

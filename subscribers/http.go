package subscribers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kommune21/digest/taxonomy"
)

// Pinger checks that the database answers (*store.DB is one).
type Pinger interface {
	PingContext(ctx context.Context) error
}

// HandlerDeps are what the subscriber web pages need.
type HandlerDeps struct {
	Store    *Store
	Taxonomy *taxonomy.Store
	DB       Pinger // for /healthz
	Signer   *Signer
	Pages    Pages
	Log      *slog.Logger
	Now      func() time.Time // clock for the rate limiter; nil = time.Now
	Site     string           // newsletter name shown on the pages

	// Routes are further pages served behind the same headers, body limit
	// and rate limit, by ServeMux pattern (e.g. "GET /archive").
	Routes map[string]http.Handler

	// Rate limit per client address: Rate requests per second on average,
	// Burst at once. Zero values give 2/s and a burst of 20.
	Rate  float64
	Burst int

	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (DIGEST_TRUSTED_PROXIES); empty = the connection's peer is the client.
	TrustedProxies []netip.Prefix

	// Public signup. Without a Mailer, /subscribe, /manage and "wieder
	// anmelden" are not served.
	Mailer     Mailer
	BaseURL    string // absolute base of the links in the mails (DIGEST_BASE_URL)
	Sender     string // the sender named in the consent sentence
	PrivacyURL string // privacy notice (DIGEST_PRIVACY_URL), "" = none
	// Per client address: SignupPerHour form posts an hour on average,
	// SignupBurst at once. Zero values give 20 and 5.
	SignupPerHour float64
	SignupBurst   int
	QueueSize     int // accepted requests waiting for the worker; 0 = 1000
}

// Handler serves the subscriber-facing pages:
//
//	GET  /unsubscribe?t=…   page with a button (changes nothing)
//	POST /unsubscribe?t=…   unsubscribes; RFC 8058 one-click (List-Unsubscribe=One-Click), 200 when already out
//	GET  /confirm?t=…       page with a button
//	POST /confirm?t=…       confirms the double opt-in (time and IP kept as consent evidence)
//	GET  /preferences?t=…   form: Länder, topics, cadence
//	POST /preferences?t=…   saves regions, topics, cadence (repeated fields) and shows the result
//	GET  /healthz           "ok" when the database answers
//	…                       and HandlerDeps.Routes (the archive's browser view)
//
// With a Mailer also the public pages:
//
//	GET  /subscribe         signup form (?regions=DE-BY&topics=… preselect)
//	POST /subscribe         double opt-in request; the same answer for every valid address
//	GET  /manage            asks for an address
//	POST /manage            mails the address its links if it is subscribed; the same answer either way
//	POST /resubscribe?t=…   "wieder anmelden" from the unsubscribe page: mails a fresh confirmation
//
// A GET never changes state (mail scanners follow links). A bad token gets a
// 400 page, an erased subscriber a 404 page; neither changes anything.
type Handler struct {
	d           HandlerDeps
	mux         *http.ServeMux
	limit       *limiter
	signupLimit *limiter

	qmu     sync.Mutex
	closed  bool
	queue   chan noticeJob
	pending sync.WaitGroup
	stopped chan struct{}
}

// MaxBodyBytes caps a request body; the largest legitimate form (every region
// and topic chosen) is well under 4 KB.
const MaxBodyBytes = 64 << 10

// NewHandler builds the handler and renders every page once with sample data,
// so that a broken template stops the program at start.
func NewHandler(d HandlerDeps) (*Handler, error) {
	if d.Store == nil || d.Taxonomy == nil || d.Signer == nil || d.Pages == nil || d.DB == nil {
		return nil, errors.New("subscribers: NewHandler needs Store, Taxonomy, DB, Signer and Pages")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rate <= 0 {
		d.Rate = 2
	}
	if d.Burst <= 0 {
		d.Burst = 20
	}
	if d.SignupPerHour <= 0 {
		d.SignupPerHour = 20
	}
	if d.SignupBurst <= 0 {
		d.SignupBurst = 5
	}
	if d.QueueSize <= 0 {
		d.QueueSize = 1000
	}
	if d.Mailer != nil && !strings.HasPrefix(d.BaseURL, "http") {
		return nil, errors.New("subscribers: NewHandler with a Mailer needs the absolute BaseURL")
	}
	h := &Handler{d: d, mux: http.NewServeMux(), limit: newLimiter(d.Rate, d.Burst, d.Now),
		signupLimit: newLimiter(d.SignupPerHour/3600, d.SignupBurst, d.Now)}
	if err := h.selfTest(); err != nil {
		return nil, err
	}
	if d.Mailer != nil {
		h.queue, h.stopped = make(chan noticeJob, d.QueueSize), make(chan struct{})
		go h.work()
		h.mux.HandleFunc("GET /subscribe", h.subscribePage)
		h.mux.HandleFunc("POST /subscribe", h.subscribe)
		h.mux.HandleFunc("GET /manage", h.managePage)
		h.mux.HandleFunc("POST /manage", h.manage)
		h.mux.HandleFunc("POST /resubscribe", h.resubscribe)
	}
	h.mux.HandleFunc("GET /unsubscribe", h.unsubscribePage)
	h.mux.HandleFunc("POST /unsubscribe", h.unsubscribe)
	h.mux.HandleFunc("GET /confirm", h.confirmPage)
	h.mux.HandleFunc("POST /confirm", h.confirm)
	h.mux.HandleFunc("GET /preferences", h.preferencesPage)
	h.mux.HandleFunc("POST /preferences", h.savePreferences)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	for pattern, route := range d.Routes {
		h.mux.Handle(pattern, route)
	}
	h.mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		h.message(w, r, http.StatusNotFound, MsgNoPage)
	})
	return h, nil
}

// ServeHTTP adds the security headers, the body limit and the rate limit.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer") // the token is in the URL
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cache-Control", "no-store")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	if r.URL.Path != "/healthz" && !h.limit.allow(h.clientIP(r)) {
		hd.Set("Retry-After", "10")
		h.message(w, r, http.StatusTooManyRequests, MsgRateLimited)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// render writes a page with status; a template error becomes a plain 500.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data PageData) {
	data.Site = h.d.Site
	data.Status = status
	var buf bytes.Buffer
	if err := h.d.Pages.Render(&buf, page, data); err != nil {
		h.d.Log.Error("render page", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, "Interner Fehler", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, kind string) {
	h.render(w, r, status, PageMessage, PageData{Kind: kind})
}

func (h *Handler) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.d.DB.PingContext(ctx); err != nil {
		h.d.Log.Error("healthz: database does not answer", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database unavailable")
		return
	}
	fmt.Fprintln(w, "ok")
}

// selfTest renders every page and message with sample data.
func (h *Handler) selfTest() error {
	sample := PageData{
		Site: "Test", Email: "a@example.org", Name: "A", State: StatusActive, Action: "/x?t=1",
		PreferencesURL: "/preferences?t=1", UnsubscribeURL: "/unsubscribe?t=1", ResubscribeAction: "/resubscribe?t=1",
		Form: SignupForm{Email: "a@example.org"}, FieldErrors: map[string]string{"email": "x", "name": "x", "regions": "x", "topics": "x", "cadence": "x"},
		ErrorFields: []FieldProblem{{Field: "email", Msg: "x"}}, PrivacyURL: "https://example.org/datenschutz", Sender: "a@example.org", Honeypot: HoneypotField,
		Regions:  []Choice{{Value: "DE", Label: "Bundesweit", Checked: true}},
		Topics:   []Choice{{Value: "open-source", Label: "Open Source"}},
		Cadences: []Choice{{Value: "weekly", Label: "wöchentlich", Checked: true}},
		Errors:   []string{"x"}, Summary: Summary{Regions: []string{"Bayern"}, Cadence: Weekly},
	}
	for _, st := range Statuses {
		for _, done := range []bool{false, true} {
			d := sample
			d.State, d.Done = st, done
			for _, p := range []string{PageUnsubscribe, PageConfirm, PagePreferences, PageSubscribe, PageManage} {
				if err := h.d.Pages.Render(&bytes.Buffer{}, p, d); err != nil {
					return fmt.Errorf("subscribers: page %s: %w", p, err)
				}
			}
		}
	}
	for _, k := range []string{MsgInvalidLink, MsgMissingLink, MsgNotFound, MsgNoPage, MsgRateLimited, MsgError, MsgUnsupported, MsgTooLarge, MsgBadForm, MsgNoEdition} {
		if err := h.d.Pages.Render(&bytes.Buffer{}, PageMessage, PageData{Site: "Test", Kind: k}); err != nil {
			return fmt.Errorf("subscribers: page %s/%s: %w", PageMessage, k, err)
		}
	}
	return nil
}

// NewServer returns an http.Server for h with timeouts that keep slow or idle
// clients from holding connections.
func NewServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

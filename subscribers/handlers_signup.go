package subscribers

import (
	"context"
	"net/http"
	"time"
)

// Mailer sends the mails the public pages trigger (double opt-in, "already
// subscribed", links). cmd/digest implements it with the mail templates and
// the configured transport.
type Mailer interface {
	SendNotice(ctx context.Context, n Notice) error
}

// Notice is one such mail. The URLs are absolute and signed for the address.
type Notice struct {
	Kind           NoticeKind
	Name, Email    string
	ConfirmURL     string // NoticeConfirm
	PreferencesURL string // every kind
	UnsubscribeURL string // NoticeAlreadySubscribed, NoticeLinks
}

// Consent sources recorded for public requests.
const (
	SourceSignupForm      = "signup-form"      // followed by the page the form was on
	SourceUnsubscribePage = "unsubscribe-page" // "wieder anmelden"
)

// HoneypotField is the form field people never see and bots fill in.
const HoneypotField = "website"

// MaxSignupBodyBytes caps a signup or manage body: every region and topic
// ticked is under 2 KB.
const MaxSignupBodyBytes = 16 << 10

// noticeJob is a request accepted by a public page, done by the worker.
type noticeJob struct{ req SignupRequest }

// accept queues req for the worker. The page answers at once and the same way
// whatever the address's state, so neither the wording nor the response time
// says whether an address is subscribed: the database work and the mail
// happen after the answer.
func (h *Handler) accept(req SignupRequest) {
	h.qmu.Lock()
	defer h.qmu.Unlock()
	if h.closed {
		h.d.Log.Warn("signup request dropped: shutting down", "kind", string(req.Kind))
		return
	}
	h.pending.Add(1)
	select {
	case h.queue <- noticeJob{req: req}:
	default:
		h.pending.Done()
		h.d.Log.Warn("signup request dropped: queue full", "kind", string(req.Kind), "queue", cap(h.queue))
	}
}

func (h *Handler) work() {
	defer close(h.stopped)
	for j := range h.queue {
		h.process(j.req)
		h.pending.Done()
	}
}

func (h *Handler) process(req SignupRequest) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := h.d.Store.RequestSignup(ctx, req)
	if err != nil {
		h.d.Log.Error("signup request failed", "kind", string(req.Kind), "err", err)
		return
	}
	id := res.Subscriber.ID
	if res.Limited {
		h.d.Log.Info("signup mail held back by the per-address limit", "kind", string(req.Kind), "subscriber_id", id)
		return
	}
	if res.Notice == "" {
		h.d.Log.Info("manage request for an address without subscription: nothing sent", "kind", string(req.Kind))
		return
	}
	sub := res.Subscriber
	n := Notice{Kind: res.Notice, Name: sub.Name, Email: sub.Email,
		PreferencesURL: h.d.Signer.URL(h.d.BaseURL, PurposePreferences, sub.ID, sub.Email)}
	if res.Notice == NoticeConfirm {
		n.ConfirmURL = h.d.Signer.URL(h.d.BaseURL, PurposeConfirm, sub.ID, sub.Email)
	} else {
		n.UnsubscribeURL = h.d.Signer.URL(h.d.BaseURL, PurposeUnsubscribe, sub.ID, sub.Email)
	}
	if err := h.d.Mailer.SendNotice(ctx, n); err != nil {
		h.d.Log.Error("signup mail not sent", "kind", string(res.Notice), "subscriber_id", id, "err", err)
		return
	}
	h.d.Log.Info("signup mail sent", "request", string(req.Kind), "mail", string(res.Notice), "subscriber_id", id,
		"previous_status", string(res.Before))
}

// Wait blocks until every request accepted so far has been handled.
func (h *Handler) Wait() { h.pending.Wait() }

// Close stops taking signup requests and waits until the queued ones are
// done or ctx ends. The pages keep answering; new requests are dropped.
func (h *Handler) Close(ctx context.Context) error {
	if h.queue == nil {
		return nil
	}
	h.qmu.Lock()
	if !h.closed {
		h.closed = true
		close(h.queue)
	}
	h.qmu.Unlock()
	select {
	case <-h.stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// signupAllowed applies the per-IP limit of the public forms.
func (h *Handler) signupAllowed(w http.ResponseWriter, r *http.Request) bool {
	if h.signupLimit.allow(h.clientIP(r)) {
		return true
	}
	w.Header().Set("Retry-After", "600")
	h.message(w, r, http.StatusTooManyRequests, MsgRateLimited)
	return false
}

// resubscribe is "wieder anmelden" on the unsubscribe page. The unsubscribe
// token only lets the caller ask for a fresh confirmation mail to the
// address: the subscriber becomes active only by following that mail's link.
// The unsubscribe link travels in every digest, forwarded mail and gateway
// log, so it must never be enough to subscribe anyone.
func (h *Handler) resubscribe(w http.ResponseWriter, r *http.Request) {
	sub, ok := h.subscriberFor(w, r, PurposeUnsubscribe)
	if !ok || !h.signupAllowed(w, r) {
		return
	}
	h.accept(SignupRequest{Kind: RequestResubscribe, Subscriber: sub, IP: h.clientIP(r), Source: SourceUnsubscribePage})
	d := PageData{Resubscribed: true}
	h.links(sub, PurposeUnsubscribe, &d)
	h.render(w, r, http.StatusOK, PageUnsubscribe, d)
}

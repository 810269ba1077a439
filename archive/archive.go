package archive

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/kommune21/digest/digest"
	"github.com/kommune21/digest/store"
	"github.com/kommune21/digest/subscribers"
	"github.com/kommune21/digest/templates"
)

// Path is where the browser view is served; subscribers.Signer.ArchiveURL
// makes links to it.
const Path = "/archive"

// Handler serves GET /archive?t=TOKEN.
type Handler struct {
	DB        *store.DB
	Templates *templates.Set      // the email templates (the view is the digest's HTML)
	Signer    *subscribers.Signer // checks the token
	Pages     subscribers.Pages   // error pages
	Site      string              // newsletter name on the error pages
	Log       *slog.Logger        // nil: discard
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tok := r.URL.Query().Get("t")
	if tok == "" {
		h.message(w, r, http.StatusBadRequest, subscribers.MsgMissingLink)
		return
	}
	id, err := h.Signer.VerifyArchive(tok)
	switch {
	case errors.Is(err, subscribers.ErrTokenPurpose):
		log.Info("rejected archive link", "reason", err.Error(), "client_ip", clientIP(r))
		h.message(w, r, http.StatusForbidden, subscribers.MsgInvalidLink)
		return
	case err != nil:
		log.Info("rejected archive link", "reason", err.Error(), "client_ip", clientIP(r))
		h.message(w, r, http.StatusNotFound, subscribers.MsgInvalidLink)
		return
	}
	page, err := digest.ArchiveView(r.Context(), h.DB, h.Templates, id)
	if errors.Is(err, digest.ErrNotArchived) {
		h.message(w, r, http.StatusNotFound, subscribers.MsgNoEdition)
		return
	}
	if err != nil {
		log.Error("archive view", "selection", id, "err", err)
		h.message(w, r, http.StatusInternalServerError, subscribers.MsgError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(page)))
	w.Header().Set("X-Robots-Tag", "noindex")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(page)
	}
}

func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, kind string) {
	var bw bytes.Buffer
	if err := h.Pages.Render(&bw, subscribers.PageMessage, subscribers.PageData{Site: h.Site, Kind: kind, Status: status}); err != nil {
		http.Error(w, "Interner Fehler", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(bw.Len()))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(bw.Bytes())
	}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

package feedback

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"

	"github.com/kommune21/digest/subscribers"
)

// ReturnPath makes and reads VERP envelope senders: DIGEST_RETURN_PATH
// "bounces@kommune21.de" becomes "bounces+r12.d3456.k7f3qabc@kommune21.de"
// for delivery 3456 of run 12, where the last part is a 40-bit tag keyed with
// the link-signing key. A relay that bounces the message sends the bounce to
// exactly that address, so the bounce names the delivery even when the relay
// strips the original message; without the key nobody can make a valid one.
type ReturnPath struct {
	local, domain string
	signer        *subscribers.Signer
}

const verpLabel = "verp"

// NewReturnPath parses the base address (no display name, no "+").
func NewReturnPath(addr string, signer *subscribers.Signer) (*ReturnPath, error) {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(addr) {
		return nil, fmt.Errorf("%q is not a bare address such as bounces@example.org", addr)
	}
	local, domain, _ := strings.Cut(a.Address, "@")
	if strings.Contains(local, "+") {
		return nil, fmt.Errorf("%q: the local part must not contain '+' (digest adds +r<run>.d<delivery>.<tag>)", addr)
	}
	if len(local) > 64-len("+r1234567.d1234567890.")-subscribers.TagLen {
		return nil, fmt.Errorf("%q: the local part is too long for the VERP suffix (keep it under 30 characters)", addr)
	}
	return &ReturnPath{local: local, domain: strings.ToLower(domain), signer: signer}, nil
}

// Address is the base address.
func (rp *ReturnPath) Address() string { return rp.local + "@" + rp.domain }

func verpData(runID, deliveryID int64) string { return fmt.Sprintf("r%d.d%d", runID, deliveryID) }

// EnvelopeFrom is the envelope sender of one delivery.
func (rp *ReturnPath) EnvelopeFrom(runID, deliveryID int64) string {
	d := verpData(runID, deliveryID)
	return rp.local + "+" + d + "." + rp.signer.Tag(verpLabel, d) + "@" + rp.domain
}

// Verdict is what an address says about a delivery.
type Verdict int

const (
	NotVERP Verdict = iota // not an address of this return path
	Valid                  // a delivery with a valid tag
	Forged                 // looks like one, but the tag does not verify
)

// Delivery reads a VERP address (any case). ok is Valid only when the tag
// verifies.
func (rp *ReturnPath) Delivery(addr string) (runID, deliveryID int64, v Verdict) {
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	local, domain, found := strings.Cut(addr, "@")
	if !found || domain != rp.domain {
		return 0, 0, NotVERP
	}
	base, suffix, found := strings.Cut(local, "+")
	if !found || base != strings.ToLower(rp.local) {
		return 0, 0, NotVERP
	}
	parts := strings.Split(suffix, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "r") || !strings.HasPrefix(parts[1], "d") {
		return 0, 0, Forged
	}
	r, err1 := strconv.ParseInt(parts[0][1:], 10, 64)
	d, err2 := strconv.ParseInt(parts[1][1:], 10, 64)
	if err1 != nil || err2 != nil || r <= 0 || d <= 0 || verpData(r, d) != parts[0]+"."+parts[1] {
		return 0, 0, Forged
	}
	if !rp.signer.CheckTag(verpLabel, verpData(r, d), parts[2]) {
		return 0, 0, Forged
	}
	return r, d, Valid
}

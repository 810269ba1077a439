// Package emailaddr normalises email addresses, so that one mailbox has one
// identity however it was typed.
//
// The local part is put in Unicode normalisation form C (a composed and a
// decomposed "ü" are the same letter). The domain is mapped by IDNA UTS #46
// (golang.org/x/net/idna, lookup profile): lower case, full-width dots and
// letters folded, and converted to its A-label form ("münchen.de" and
// "xn--mnchen-3ya.de" are one domain). Three forms result:
//
//   - Normalize: what is stored and shown — NFC local part (case kept) and
//     the domain as typed when it is ASCII, otherwise its mapped Unicode form
//     (lower case, full-width dots folded);
//   - Key: the identity — lower-cased NFC local part and the A-label domain;
//   - ASCII: what goes into RCPT TO and the To header — the local part and
//     the A-label domain.
//
// Addresses are expected to have been validated (one '@', a valid domain);
// for anything else Key and ASCII fall back to lower-casing and the input.
package emailaddr

import (
	"errors"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// ErrDomain means the domain is not a valid (internationalised) domain name.
var ErrDomain = errors.New("not a valid domain name")

// split cuts at the last '@'.
func split(addr string) (local, domain string, ok bool) {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr, "", false
	}
	return addr[:at], addr[at+1:], true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Normalize returns addr (trimmed) with an NFC local part and the Unicode
// form of its domain after UTS #46 mapping. It fails when the domain is not
// a valid domain name.
func Normalize(addr string) (string, error) {
	local, domain, ok := split(strings.TrimSpace(addr))
	if !ok {
		return "", ErrDomain
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil || ascii == "" {
		return "", ErrDomain
	}
	uni, err := idna.Lookup.ToUnicode(ascii)
	if err != nil {
		return "", ErrDomain
	}
	// A-labels that do not survive the round trip ("xn--" alone) are not a domain.
	if back, err := idna.Lookup.ToASCII(uni); err != nil || back != ascii || strings.Contains("."+uni+".", "..") {
		return "", ErrDomain
	}
	if isASCII(domain) {
		// An ASCII domain (also an A-label one) is kept as typed: Key
		// lower-cases it, and nothing else about it can differ.
		return norm.NFC.String(local) + "@" + domain, nil
	}
	return norm.NFC.String(local) + "@" + uni, nil
}

// Key returns the identity of an address: lower-cased NFC local part and the
// A-label domain. Two addresses of one mailbox, however typed, have one Key.
func Key(addr string) string {
	addr = strings.TrimSpace(addr)
	if isASCII(addr) {
		return strings.ToLower(addr) // the A-label of an ASCII domain is its lower case
	}
	local, domain, ok := split(addr)
	if !ok {
		return strings.ToLower(norm.NFC.String(addr))
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		ascii = strings.ToLower(domain)
	}
	return strings.ToLower(norm.NFC.String(local)) + "@" + ascii
}

// ASCII returns the address with its domain as A-labels, for the SMTP
// envelope and the To header ("x@münchen.de" → "x@xn--mnchen-3ya.de"). The
// local part is kept (in NFC); a non-ASCII local part needs a server with
// SMTPUTF8.
func ASCII(addr string) string {
	if isASCII(addr) {
		return addr
	}
	local, domain, ok := split(addr)
	if !ok {
		return addr
	}
	if isASCII(domain) {
		return norm.NFC.String(local) + "@" + domain
	}
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return addr
	}
	return norm.NFC.String(local) + "@" + ascii
}

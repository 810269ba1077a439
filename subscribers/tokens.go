package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
)

// Purpose binds a link token to one action: a token made for one purpose never
// works for another.
type Purpose string

const (
	PurposeUnsubscribe Purpose = "unsubscribe"
	PurposeConfirm     Purpose = "confirm"
	PurposePreferences Purpose = "preferences"
)

// purposeByte is the purpose's one-byte code inside a token.
func (p Purpose) byteCode() (byte, bool) {
	switch p {
	case PurposeUnsubscribe:
		return 'u', true
	case PurposeConfirm:
		return 'c', true
	case PurposePreferences:
		return 'p', true
	}
	return 0, false
}

// Token errors. Both mean "this link does not work"; the HTTP handlers answer
// them with a 4xx page and change nothing.
var (
	ErrTokenInvalid = errors.New("link token is invalid") // garbled, forged, or signed with an unknown key
	ErrTokenPurpose = errors.New("link token is for another purpose")
)

// DefaultKeyID is the key id of a secret given without ids ("KEY" rather than
// "ID:KEY"). To rotate away from such a secret, set "NEWID:NEWKEY,0:OLDKEY".
const DefaultKeyID = "0"

// MinKeyLen is the shortest key NewSigner accepts, in bytes.
const MinKeyLen = 16

const (
	tagLen = 8  // bytes of the keyed address hash in a token
	macLen = 16 // bytes of the truncated HMAC-SHA256 in a token
)

type signingKey struct {
	id   string
	pool sync.Pool // of hash.Hash (HMAC-SHA256 with this key)
}

func (k *signingKey) mac() hash.Hash {
	h := k.pool.Get().(hash.Hash)
	h.Reset()
	return h
}

// Signer makes and checks the signed tokens in confirm, unsubscribe and
// preferences links. A token is "KEYID.PAYLOAD", PAYLOAD the base64url of
// purpose byte, subscriber id (uvarint), a keyed 8-byte hash of the lowercased
// address and a 16-byte HMAC-SHA256 over key id and all of that. The address is
// never in the token; the hash binds the token to it, so a reused id never
// makes an old token work for another person. Tokens do not expire (RFC 8058
// asks that unsubscribe links keep working). A Signer is safe for concurrent use.
type Signer struct {
	keys []*signingKey // keys[0] signs; all verify
}

// NewSigner parses secret: one key ("KEY", id DefaultKeyID) or a comma-separated
// list "ID:KEY,OLDID:OLDKEY" where the first key signs and every key verifies
// (rotation). Ids are 1–16 letters, digits, '-' or '_'; keys at least MinKeyLen
// bytes. Errors never contain a key.
func NewSigner(secret string) (*Signer, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil, errors.New("link secret is empty: set DIGEST_SECRET to a random string of at least 16 characters")
	}
	parts := strings.Split(secret, ",")
	s := &Signer{}
	seen := map[string]bool{}
	for i, part := range parts {
		part = strings.TrimSpace(part)
		id, key := DefaultKeyID, part
		if j := strings.IndexByte(part, ':'); j >= 0 && (len(parts) > 1 || validKeyID(part[:j])) {
			id, key = part[:j], part[j+1:]
		} else if len(parts) > 1 {
			id = "" // several keys: each needs its id
		}
		if !validKeyID(id) {
			return nil, fmt.Errorf("link secret entry %d: key id must be 1 to 16 letters, digits, '-' or '_' (format \"id:key,oldid:oldkey\")", i+1)
		}
		if len(key) < MinKeyLen {
			return nil, fmt.Errorf("link secret entry %d (key id %q): key is %d bytes, need at least %d", i+1, id, len(key), MinKeyLen)
		}
		if seen[id] {
			return nil, fmt.Errorf("link secret entry %d: key id %q appears twice", i+1, id)
		}
		seen[id] = true
		k := &signingKey{id: id}
		kb := []byte(key)
		k.pool.New = func() any { return hmac.New(sha256.New, kb) }
		s.keys = append(s.keys, k)
	}
	return s, nil
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// KeyID is the id of the signing key (for logs; never the key).
func (s *Signer) KeyID() string { return s.keys[0].id }

// Claims is what a verified token says.
type Claims struct {
	ID      int64   // subscriber id
	Purpose Purpose // what the token is for
	KeyID   string  // the key that signed it
	tag     [tagLen]byte
	key     *signingKey
}

// Matches reports whether the token was made for this address (any case).
// Compare it with the stored subscriber's address before acting.
func (c Claims) Matches(email string) bool {
	if c.key == nil {
		return false
	}
	var tag [tagLen]byte
	addressTag(c.key, email, &tag)
	return hmac.Equal(tag[:], c.tag[:])
}

func addressTag(k *signingKey, email string, out *[tagLen]byte) {
	// One Write of one buffer: every Write through the hash.Hash interface
	// would otherwise copy its argument to the heap.
	var in [8 + MaxEmailLength + 16]byte
	buf := append(in[:0], "address\x00"...)
	buf = appendEmailKey(buf, email)
	h := k.mac()
	h.Write(buf)
	var sum [sha256.Size]byte
	copy(out[:], h.Sum(sum[:0]))
	k.pool.Put(h)
}

// appendEmailKey appends EmailKey(email) without allocating for ASCII addresses.
func appendEmailKey(dst []byte, email string) []byte {
	e := strings.TrimSpace(email)
	for i := 0; i < len(e); i++ {
		if e[i] >= 0x80 {
			return append(dst, strings.ToLower(e)...)
		}
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// body is purpose byte + uvarint id + tag; maximal size.
const maxBody = 1 + binary.MaxVarintLen64 + tagLen

func sign(k *signingKey, body []byte, out []byte) []byte {
	var in [8 + 16 + 1 + maxBody]byte
	buf := append(in[:0], "token\x00"...)
	buf = append(buf, k.id...)
	buf = append(buf, 0)
	buf = append(buf, body...)
	h := k.mac()
	h.Write(buf)
	var sum [sha256.Size]byte
	out = append(out, h.Sum(sum[:0])[:macLen]...)
	k.pool.Put(h)
	return out
}

// Token returns the token for subscriber id with address email, for purpose p.
// It panics on an unknown purpose (a programming error).
func (s *Signer) Token(p Purpose, id int64, email string) string {
	var buf [256]byte
	return string(s.appendToken(buf[:0], p, id, email))
}

func (s *Signer) appendToken(dst []byte, p Purpose, id int64, email string) []byte {
	pb, ok := p.byteCode()
	if !ok {
		panic(fmt.Sprintf("subscribers: unknown token purpose %q", p))
	}
	k := s.keys[0]
	var raw [maxBody + macLen]byte
	body := append(raw[:0], pb)
	body = binary.AppendUvarint(body, uint64(id))
	var tag [tagLen]byte
	addressTag(k, email, &tag)
	body = append(body, tag[:]...)
	full := sign(k, body, body)
	dst = append(dst, k.id...)
	dst = append(dst, '.')
	return base64.RawURLEncoding.AppendEncode(dst, full)
}

// Verify checks token's signature in constant time and its purpose. It returns
// ErrTokenInvalid for anything garbled, forged or signed with an unknown key,
// and ErrTokenPurpose for a genuine token made for another purpose. The caller
// must still check Claims.Matches against the stored address.
func (s *Signer) Verify(token string, p Purpose) (Claims, error) {
	want, ok := p.byteCode()
	if !ok {
		return Claims{}, fmt.Errorf("%w: unknown purpose", ErrTokenInvalid)
	}
	dot := strings.IndexByte(token, '.')
	if dot <= 0 {
		return Claims{}, ErrTokenInvalid
	}
	kid, enc := token[:dot], token[dot+1:]
	var k *signingKey
	for _, c := range s.keys {
		if c.id == kid {
			k = c
			break
		}
	}
	if k == nil || len(enc) > base64.RawURLEncoding.EncodedLen(maxBody+macLen) {
		return Claims{}, ErrTokenInvalid
	}
	var raw [maxBody + macLen]byte
	// Strict and the length check make the encoding canonical: no two token
	// strings carry the same bytes (Decode would skip newlines and ignore
	// trailing bits otherwise).
	n, err := base64.RawURLEncoding.Strict().Decode(raw[:], []byte(enc))
	if err != nil || n < 1+1+tagLen+macLen || base64.RawURLEncoding.EncodedLen(n) != len(enc) {
		return Claims{}, ErrTokenInvalid
	}
	body, mac := raw[:n-macLen], raw[n-macLen:n]
	var sum [maxBody + macLen]byte
	if !hmac.Equal(sign(k, body, sum[:0]), mac) {
		return Claims{}, ErrTokenInvalid
	}
	// Signed by us: the structure is ours, but parse defensively anyway.
	id, m := binary.Uvarint(body[1:])
	if m <= 0 || 1+m+tagLen != len(body) || id == 0 || id > 1<<63-1 {
		return Claims{}, ErrTokenInvalid
	}
	if body[0] != want {
		return Claims{}, ErrTokenPurpose
	}
	c := Claims{ID: int64(id), Purpose: p, KeyID: k.id, key: k}
	copy(c.tag[:], body[1+m:])
	return c, nil
}

// URL returns base + "/" + purpose + "?t=" + token, e.g.
// https://example.org/unsubscribe?t=0.AbC… . base is DIGEST_BASE_URL; a
// trailing slash is ignored. Tokens need no escaping (base64url and '.').
func (s *Signer) URL(base string, p Purpose, id int64, email string) string {
	base = strings.TrimRight(base, "/")
	buf := make([]byte, 0, len(base)+len(p)+80)
	buf = append(buf, base...)
	buf = append(buf, '/')
	buf = append(buf, p...)
	buf = append(buf, "?t="...)
	buf = s.appendToken(buf, p, id, email)
	return string(buf)
}

// Links makes a subscriber's personal links under base (the public URL of
// `digest serve`); it satisfies digest.Links.
type Links struct {
	Signer *Signer
	Base   string
	Mailto string // optional address for UnsubscribeMailto
}

// UnsubscribeURL is the one-click unsubscribe link of a subscriber.
func (l Links) UnsubscribeURL(id int64, email string) string {
	return l.Signer.URL(l.Base, PurposeUnsubscribe, id, email)
}

// PreferencesURL is the link to a subscriber's preferences page.
func (l Links) PreferencesURL(id int64, email string) string {
	return l.Signer.URL(l.Base, PurposePreferences, id, email)
}

// TagLen is the length of a Tag: 8 base32 characters, 40 bits.
const TagLen = 8

var tagEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Tag returns a short keyed tag (TagLen lower-case letters and digits) of
// data for purpose label, e.g. for a VERP return path: short enough for the
// local part of an address, long enough (40 bits) that it cannot be guessed
// by trying. It is signed with the signing key; CheckTag accepts every key.
func (s *Signer) Tag(label, data string) string {
	return tagWith(s.keys[0], label, data)
}

// CheckTag reports in constant time whether tag is Tag(label, data) under
// any of the keys (any case).
func (s *Signer) CheckTag(label, data, tag string) bool {
	tag = strings.ToLower(tag)
	ok := false
	for _, k := range s.keys {
		if hmac.Equal([]byte(tagWith(k, label, data)), []byte(tag)) {
			ok = true
		}
	}
	return ok
}

func tagWith(k *signingKey, label, data string) string {
	h := k.mac()
	h.Write([]byte("tag\x00" + label + "\x00" + data))
	var sum [sha256.Size]byte
	out := tagEncoding.EncodeToString(h.Sum(sum[:0])[:5])
	k.pool.Put(h)
	return out
}

// UnsubscribeMailto returns the List-Unsubscribe mailto of a subscriber: to
// l.Mailto with the subject "Abmelden" and the subscriber's unsubscribe
// token, so a mail sent from another address (a forwarder, an alias) can
// still be honoured. Empty when l.Mailto is empty.
func (l Links) UnsubscribeMailto(id int64, email string) string {
	if l.Mailto == "" {
		return ""
	}
	return "mailto:" + l.Mailto + "?subject=Abmelden%20" + l.Signer.Token(PurposeUnsubscribe, id, email)
}

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
	// PurposeArchive signs the browser view of one digest selection (not a
	// subscriber): its id is the selection's, and no address is bound.
	PurposeArchive Purpose = "archive"
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
	case PurposeArchive:
		return 'a', true
	}
	return 0, false
}

// Token errors. Both mean "this link does not work"; the HTTP handlers answer
// them with a 4xx page and change nothing.
var (
	ErrTokenInvalid = errors.New("link token is invalid") // garbled, forged, or signed with an unknown key
	ErrTokenPurpose = errors.New("link token is for another purpose")
)

// DefaultKeyID is the key id of a secret given as a single value: the whole
// value is the key. To rotate away from it, set "NEWID:NEWKEY,0:OLDVALUE".
const DefaultKeyID = "0"

// MinKeyLen is the shortest key NewSigner accepts, in bytes.
const MinKeyLen = 16

// MaxKeyIDLen is the longest key id of the list form.
const MaxKeyIDLen = 8

const (
	tagLen = 8  // bytes of the keyed address hash in a token
	macLen = 16 // bytes of the truncated HMAC-SHA256 in a token
)

type signingKey struct {
	id   string
	pool sync.Pool // of hash.Hash (HMAC-SHA256 with this key)
}

func newKey(id, key string) *signingKey {
	k := &signingKey{id: id}
	kb := []byte(key)
	k.pool.New = func() any { return hmac.New(sha256.New, kb) }
	return k
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

// NewSigner parses secret, in one of two forms:
//
//   - a single value (no ','): the whole value is the key, id DefaultKeyID,
//     whatever characters it contains — a ':' in it is part of the key;
//   - a list "ID:KEY,OLDID:OLDKEY,…" (at least one ','): the first key signs
//     and every key verifies (rotation). Ids are 1 to MaxKeyIDLen lowercase
//     ASCII letters or digits.
//
// Keys are at least MinKeyLen bytes. A key id is never taken from inside a
// single value, so no part of a secret ends up in a link. Errors never
// contain a key or an id.
//
// Compatibility: earlier versions read a single value "ID:KEY" (ID 1–16
// letters, digits, '-' or '_') as key KEY under id ID. Links signed that way
// still verify (never sign) when the single value has that shape.
func NewSigner(secret string) (*Signer, error) {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return nil, errors.New("link secret is empty: set DIGEST_SECRET to a random string of at least 16 characters")
	}
	if !strings.Contains(secret, ",") {
		if len(secret) < MinKeyLen {
			return nil, fmt.Errorf("link secret is %d bytes, need at least %d (e.g. openssl rand -hex 32)", len(secret), MinKeyLen)
		}
		s := &Signer{keys: []*signingKey{newKey(DefaultKeyID, secret)}}
		if j := strings.IndexByte(secret, ':'); j >= 0 && legacyKeyID(secret[:j]) && len(secret)-j-1 >= MinKeyLen {
			s.keys = append(s.keys, newKey(secret[:j], secret[j+1:]))
		}
		return s, nil
	}
	s := &Signer{}
	seen := map[string]int{}
	for i, part := range strings.Split(secret, ",") {
		part = strings.TrimSpace(part)
		id, key, ok := strings.Cut(part, ":")
		if !ok || !validKeyID(id) {
			return nil, fmt.Errorf("link secret entry %d: the list form is \"id:key,oldid:oldkey\" with ids of 1 to %d lowercase letters or digits (a single key needs no id and no ',')", i+1, MaxKeyIDLen)
		}
		if len(key) < MinKeyLen {
			return nil, fmt.Errorf("link secret entry %d: key is %d bytes, need at least %d", i+1, len(key), MinKeyLen)
		}
		if j, dup := seen[id]; dup {
			return nil, fmt.Errorf("link secret entry %d has the same key id as entry %d", i+1, j)
		}
		seen[id] = i + 1
		s.keys = append(s.keys, newKey(id, key))
	}
	return s, nil
}

// validKeyID is the shape of ids in the list form.
func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// legacyKeyID is the shape of ids that earlier versions read out of a single value.
func legacyKeyID(id string) bool {
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
	if hmac.Equal(tag[:], c.tag[:]) {
		return true
	}
	// Links made before addresses were normalised hash the lower-cased
	// address; for an ASCII address that is the same key.
	if legacy := strings.ToLower(strings.TrimSpace(email)); legacy != EmailKey(email) {
		addressTagOf(c.key, []byte(legacy), &tag)
		return hmac.Equal(tag[:], c.tag[:])
	}
	return false
}

func addressTag(k *signingKey, email string, out *[tagLen]byte) {
	var in [MaxEmailLength + 16]byte
	addressTagOf(k, appendEmailKey(in[:0], email), out)
}

// addressTagOf hashes an identity key.
func addressTagOf(k *signingKey, key []byte, out *[tagLen]byte) {
	// One Write of one buffer: every Write through the hash.Hash interface
	// would otherwise copy its argument to the heap.
	var in [8 + MaxEmailLength + 16]byte
	buf := append(in[:0], "address\x00"...)
	buf = append(buf, key...)
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
			return append(dst, EmailKey(e)...)
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
	if len(enc) > base64.RawURLEncoding.EncodedLen(maxBody+macLen) {
		return Claims{}, ErrTokenInvalid
	}
	// Two keys may share an id (a single value "0:…" and its legacy reading).
	err := ErrTokenInvalid
	for _, k := range s.keys {
		if k.id == kid {
			var c Claims
			if c, err = verify(k, enc, want, p); err != ErrTokenInvalid {
				return c, err
			}
		}
	}
	return Claims{}, err
}

func verify(k *signingKey, enc string, want byte, p Purpose) (Claims, error) {
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

// ArchiveURL returns the signed browser-view link of selection id, e.g.
// https://example.org/archive?t=0.AbC… . The token carries the selection id
// and no address; without the key nobody can make one for another selection.
func (s *Signer) ArchiveURL(base string, selectionID int64) string {
	return s.URL(base, PurposeArchive, selectionID, "")
}

// VerifyArchive checks an archive token and returns its selection id. It
// returns ErrTokenInvalid for anything garbled or forged and ErrTokenPurpose
// for a genuine token of another purpose (an unsubscribe token never opens
// an archive page, nor the other way round).
func (s *Signer) VerifyArchive(token string) (int64, error) {
	c, err := s.Verify(token, PurposeArchive)
	if err != nil {
		return 0, err
	}
	if !c.Matches("") {
		return 0, ErrTokenInvalid
	}
	return c.ID, nil
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

// ArchiveURL is the non-personal browser view of a digest selection
// ("Im Browser ansehen").
func (l Links) ArchiveURL(selectionID int64) string {
	return l.Signer.ArchiveURL(l.Base, selectionID)
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

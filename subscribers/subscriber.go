package subscribers

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kommune21/digest/internal/emailaddr"
)

// Status is where a subscriber stands.
type Status string

const (
	StatusPending      Status = "pending"      // waiting for double opt-in
	StatusActive       Status = "active"       // receives digests
	StatusUnsubscribed Status = "unsubscribed" // left; receives nothing
	StatusBounced      Status = "bounced"      // mailbox gone; receives nothing
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusPending, StatusActive, StatusUnsubscribed, StatusBounced}

// ParseStatus checks a status name.
func ParseStatus(s string) (Status, error) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, nil
		}
	}
	return "", fmt.Errorf("unknown status %q: use pending, active, unsubscribed or bounced", s)
}

// Cadence is how often a subscriber gets a digest.
type Cadence string

const (
	Weekly Cadence = "weekly"
	Daily  Cadence = "daily"
)

// ParseCadence checks a cadence name; empty means weekly.
func ParseCadence(s string) (Cadence, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "weekly":
		return Weekly, nil
	case "daily":
		return Daily, nil
	}
	return "", fmt.Errorf("unknown cadence %q: use weekly or daily", s)
}

// Consent is the evidence of how a subscriber agreed to receive the digest.
type Consent struct {
	At     time.Time // when consent was given (double opt-in confirmation or staff entry)
	Method string    // "double-opt-in", "staff", "import"
	Source string    // free note: staff's --source, the import file, the signup form
	IP     string    // the confirming client's address for double opt-in
}

// Subscriber is one recipient and their choices.
type Subscriber struct {
	ID             int64
	Email          string // as entered
	Name           string
	Status         Status
	Cadence        Cadence
	Regions        []string // region codes; empty = all
	Topics         []string // topic slugs; empty = all
	Consent        Consent
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ConfirmedAt    time.Time // zero when never confirmed
	UnsubscribedAt time.Time // zero when never unsubscribed
}

// ErrNotFound means no subscriber has the given address or id.
var ErrNotFound = errors.New("subscriber not found")

// ExistsError means the address is already subscribed (in any case).
type ExistsError struct{ Email string }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s is already a subscriber; use `digest subscribers update` to change it", e.Email)
}

// EmailKey is the identity of an address: case-insensitive, the local part
// in NFC, the domain as A-labels, so every way of typing one mailbox gives
// one key (the stored subscribers.email_key, unique).
func EmailKey(email string) string { return emailaddr.Key(email) }

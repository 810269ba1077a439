package smtptest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

type faultKind int

const (
	faultReject faultKind = iota + 1 // answer with an SMTP error
	faultDrop                        // close the TCP connection without an answer
	faultDelay                       // wait, then answer normally
	faultBlock                       // wait for a channel to close, then drop the connection
	faultHold                        // wait for a channel to close, then answer normally
)

// A Fault is what the server does instead of accepting a recipient or a
// message. Build one with Temporary, Permanent, Reject, Drop or Delay.
type Fault struct {
	kind     faultKind
	code     int
	enhanced [3]int
	text     string
	delay    time.Duration
	until    <-chan struct{}   // faultBlock
	onHit    func(addr string) // called before the fault acts
	limit    int               // 0: every attempt
}

// Temporary answers "451 4.7.1 try again later" for the first n attempts,
// then accepts. n must be at least 1.
func Temporary(n int) Fault {
	return Reject(451, "4.7.1", "try again later").Times(n)
}

// Permanent answers 550 with the given enhanced status code ("5.1.1" for an
// unknown mailbox) on every attempt.
func Permanent(enhanced string) Fault {
	text := "requested action not taken"
	if enhanced == "5.1.1" {
		text = "mailbox unknown"
	}
	return Reject(550, enhanced, text)
}

// Reject answers with any SMTP reply code, enhanced code ("5.2.2") and text,
// e.g. Reject(552, "5.2.2", "mailbox full") or Reject(554, "5.7.1", "rejected").
// It panics on a malformed code: faults are written by tests, not users.
func Reject(code int, enhanced, text string) Fault {
	if code < 400 || code > 599 {
		panic(fmt.Sprintf("smtptest: reply code %d is not a 4xx or 5xx failure", code))
	}
	return Fault{kind: faultReject, code: code, enhanced: mustEnhanced(enhanced), text: text}
}

// Drop closes the TCP connection instead of answering.
func Drop() Fault { return Fault{kind: faultDrop} }

// Delay waits d before answering normally.
func Delay(d time.Duration) Fault { return Fault{kind: faultDelay, delay: d} }

// Block holds the answer until done is closed, then closes the connection
// without answering: a relay that hangs until the client gives up. Pass the
// Done channel of the context the client sends with, and cancel it (from an
// OnHit hook, for a test that needs the interrupt to land exactly there).
// Closing the server releases it too.
func Block(done <-chan struct{}) Fault { return Fault{kind: faultBlock, until: done} }

// Hold holds the answer until done is closed (or the server closes), then
// answers normally: a slow relay that a test lets go at the moment it chooses.
func Hold(done <-chan struct{}) Fault { return Fault{kind: faultHold, until: done} }

// OnHit makes the fault call fn with the recipient's address each time it
// applies, before it acts: a test's hook for changing the world while a
// message is in flight (unsubscribe its recipient, cancel a context).
func (f Fault) OnHit(fn func(addr string)) Fault {
	f.onHit = fn
	return f
}

// Times limits the fault to the first n attempts; later attempts succeed.
func (f Fault) Times(n int) Fault {
	if n < 1 {
		panic("smtptest: Times needs n >= 1")
	}
	f.limit = n
	return f
}

func mustEnhanced(s string) [3]int {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		panic(fmt.Sprintf("smtptest: enhanced code %q is not of the form X.Y.Z", s))
	}
	var out [3]int
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			panic(fmt.Sprintf("smtptest: enhanced code %q is not of the form X.Y.Z", s))
		}
		out[i] = n
	}
	return out
}

// stage says where a rule applies.
type stage int

const (
	atRcpt stage = iota
	atData
	atMail
)

// rule is a Fault bound to an address and a stage, with its attempt counter.
type rule struct {
	fault    Fault
	attempts int
}

// rules maps (stage, lower-cased address or "*") to a rule.
type rules struct {
	mu sync.Mutex
	m  map[ruleKey]*rule
}

type ruleKey struct {
	stage stage
	addr  string
}

func (r *rules) set(st stage, addr string, f Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = make(map[ruleKey]*rule)
	}
	r.m[ruleKey{st, strings.ToLower(addr)}] = &rule{fault: f}
}

// hit returns the fault to apply for this attempt, if any, and counts the
// attempt. An exact address rule wins over the "*" rule.
func (r *rules) hit(st stage, addr string) (Fault, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) == 0 {
		return Fault{}, false
	}
	ru, ok := r.m[ruleKey{st, strings.ToLower(addr)}]
	if !ok {
		ru, ok = r.m[ruleKey{st, "*"}]
	}
	if !ok {
		return Fault{}, false
	}
	ru.attempts++
	if ru.fault.limit > 0 && ru.attempts > ru.fault.limit {
		return Fault{}, false
	}
	return ru.fault, true
}

package subscribers

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter_SweepsIdleClients(t *testing.T) {
	now := time.Date(2026, 2, 16, 7, 0, 0, 0, time.UTC)
	l := newLimiter(1, 2, func() time.Time { return now })
	for i := range 500 {
		if !l.allow(fmt.Sprintf("192.0.2.%d", i)) {
			t.Fatalf("first request of client %d refused", i)
		}
	}
	if n := l.size(); n != 500 {
		t.Fatalf("size = %d, want 500", n)
	}
	now = now.Add(limiterIdle + 2*time.Minute)
	l.allow("198.51.100.1")
	if n := l.size(); n != 1 {
		t.Errorf("after idle time size = %d, want 1 (idle clients swept)", n)
	}
}

func TestLimiter_BoundedMemory(t *testing.T) {
	now := time.Date(2026, 2, 16, 7, 0, 0, 0, time.UTC)
	l := newLimiter(1, 1, func() time.Time { return now })
	for i := range limiterMaxClients + 100 {
		l.allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
	}
	if n := l.size(); n > limiterMaxClients {
		t.Errorf("size = %d, want at most %d", n, limiterMaxClients)
	}
}

// TestLimiter_FullEvictsLeastRecentlySeen: with limiterMaxClients tracked and
// all of them active, a new client gets its own full budget (before, every
// new client shared one overflow bucket: one busy newcomer locked out all
// others), the least recently seen client is the one forgotten and starts
// fresh when it comes back, and memory stays bounded.
func TestLimiter_FullEvictsLeastRecentlySeen(t *testing.T) {
	now := time.Date(2026, 2, 16, 7, 0, 0, 0, time.UTC)
	const burst = 3
	l := newLimiter(0.001, burst, func() time.Time { return now })
	ip := func(i int) string { return fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	// Client 0 spends its whole budget first, so it is the least recently seen.
	for range burst {
		l.allow(ip(0))
	}
	if l.allow(ip(0)) {
		t.Fatal("client 0 was not limited after its burst")
	}
	for i := 1; i < limiterMaxClients; i++ {
		l.allow(ip(i))
	}
	if n := l.size(); n != limiterMaxClients {
		t.Fatalf("size = %d, want %d", n, limiterMaxClients)
	}
	for _, newcomer := range []string{"203.0.113.1", "203.0.113.2"} {
		for i := range burst {
			if !l.allow(newcomer) {
				t.Fatalf("%s: request %d of its burst refused: it does not have its own budget", newcomer, i+1)
			}
		}
		if l.allow(newcomer) {
			t.Errorf("%s: allowed over its burst", newcomer)
		}
	}
	if n := l.size(); n != limiterMaxClients {
		t.Errorf("size = %d, want %d (bounded)", n, limiterMaxClients)
	}
	// Client 0 was evicted first: it comes back with a fresh budget.
	if !l.allow(ip(0)) {
		t.Error("the evicted client 0 did not start fresh")
	}
	// Client 3 was not evicted (only 0, 1 and 2 were, for the two newcomers
	// and client 0's return): its spent budget is remembered.
	for range burst - 1 {
		l.allow(ip(3))
	}
	if l.allow(ip(3)) {
		t.Error("client 3, still tracked, was given a fresh budget")
	}
}

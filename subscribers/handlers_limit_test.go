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

package subscribers

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per client address. Idle buckets are swept so the
// map stays small; when it is full of active clients anyway, new clients share
// one overflow bucket rather than growing memory without bound.
type limiter struct {
	mu       sync.Mutex
	rate     rate.Limit
	burst    int
	now      func() time.Time
	clients  map[string]*client
	overflow *rate.Limiter
	swept    time.Time
}

type client struct {
	lim  *rate.Limiter
	seen time.Time
}

const (
	limiterMaxClients = 10000
	limiterIdle       = 5 * time.Minute
)

func newLimiter(perSecond float64, burst int, now func() time.Time) *limiter {
	return &limiter{
		rate: rate.Limit(perSecond), burst: burst, now: now,
		clients:  map[string]*client{},
		overflow: rate.NewLimiter(rate.Limit(perSecond*10), burst*10),
		swept:    now(),
	}
}

func (l *limiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if d := now.Sub(l.swept); d > time.Minute || (len(l.clients) >= limiterMaxClients && d > time.Second) {
		for k, c := range l.clients {
			if now.Sub(c.seen) > limiterIdle {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	c := l.clients[ip]
	if c == nil {
		if len(l.clients) >= limiterMaxClients {
			return l.overflow.AllowN(now, 1)
		}
		c = &client{lim: rate.NewLimiter(l.rate, l.burst)}
		l.clients[ip] = c
	}
	c.seen = now
	return c.lim.AllowN(now, 1)
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

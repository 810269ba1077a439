package subscribers

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per client address. Clients are kept in order of
// their last request: idle ones (limiterIdle) are dropped from the old end,
// and when limiterMaxClients are tracked the least recently seen one makes
// room for a new client, which gets its own full budget. Memory stays bounded
// and no client ever shares a bucket with others.
type limiter struct {
	mu      sync.Mutex
	rate    rate.Limit
	burst   int
	now     func() time.Time
	clients map[string]*list.Element // of *client
	order   list.List                // front: most recently seen
	max     int
}

type client struct {
	ip   string
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
		clients: map[string]*list.Element{}, max: limiterMaxClients,
	}
}

func (l *limiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for e := l.order.Back(); e != nil && now.Sub(e.Value.(*client).seen) > limiterIdle; e = l.order.Back() {
		l.remove(e)
	}
	e := l.clients[ip]
	if e == nil {
		for l.order.Len() >= l.max {
			l.remove(l.order.Back())
		}
		e = l.order.PushFront(&client{ip: ip, lim: rate.NewLimiter(l.rate, l.burst)})
		l.clients[ip] = e
	} else {
		l.order.MoveToFront(e)
	}
	c := e.Value.(*client)
	c.seen = now
	return c.lim.AllowN(now, 1)
}

func (l *limiter) remove(e *list.Element) {
	delete(l.clients, e.Value.(*client).ip)
	l.order.Remove(e)
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}

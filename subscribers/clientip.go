package subscribers

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads DIGEST_TRUSTED_PROXIES: a comma-separated list of
// CIDR prefixes (10.0.0.0/8, fd00::/8) or single addresses. Empty means none.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR prefix (10.0.0.0/8) nor an IP address", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// clientIP is the address of the client behind the request: the peer of the
// connection, unless that peer is a trusted proxy (HandlerDeps.TrustedProxies).
// Then X-Forwarded-For is read from the right, past every trusted hop, and
// the first untrusted address is the client. Entries left of it are whatever
// the client chose to send and are never used. Without trusted proxies the
// header is ignored, so nobody can choose the address a limit or the consent
// evidence sees.
func (h *Handler) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !h.trusted(peer) {
		return host
	}
	client := peer
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return client.String() // garbage from here on: the last hop we can vouch for
			}
			client = a.Unmap()
			if !h.trusted(client) {
				return client.String()
			}
		}
	}
	return client.String()
}

func (h *Handler) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range h.d.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

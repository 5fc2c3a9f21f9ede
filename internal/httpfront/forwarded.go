package httpfront

import (
	"carafe/internal/httpsyntax"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// ProxyTrust names the peers whose X-Forwarded-Proto says the request's
// scheme (--forwarded-allow-ips, Gunicorn's option): a proxy that ends
// TLS and passes the request on over plain HTTP says so in that header,
// and the app must then see wsgi.url_scheme "https" to build its links,
// redirects and Django's CSRF origin check right. The zero ProxyTrust
// trusts nobody.
type ProxyTrust struct {
	all      bool
	prefixes []netip.Prefix
	zoned    []netip.Addr // link-local addresses named with their zone (fe80::1%eth0)
	list     string       // as given, for messages
}

// String is the list as given.
func (t ProxyTrust) String() string {
	if strings.TrimSpace(t.list) == "" {
		return "empty: nobody"
	}
	return t.list
}

// ParseProxyTrust reads a comma-separated list of addresses and networks
// (127.0.0.1, ::1, 10.0.0.0/8), or "*" for every peer. A peer on a unix
// socket is trusted whenever the list is not empty: only a local process
// allowed to connect reaches it, a proxy as Gunicorn assumes too.
func ParseProxyTrust(list string) (ProxyTrust, error) {
	t := ProxyTrust{list: list}
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "*":
			t.all = true
		case strings.Contains(item, "/"):
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return ProxyTrust{}, fmt.Errorf("%q is not an address or a network (%v)", item, err)
			}
			if p.Addr().Is4In6() { // ::ffff:10.0.0.0/104, as the peer is seen: 10.0.0.0/8
				if p.Bits() < 96 {
					return ProxyTrust{}, fmt.Errorf("%q: an IPv4-mapped network is /96 or longer", item)
				}
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			t.prefixes = append(t.prefixes, p.Masked())
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				return ProxyTrust{}, fmt.Errorf("%q is not an address or a network (%v)", item, err)
			}
			// A peer is compared unmapped; one named with its zone
			// (fe80::1%eth0) is trusted on that interface only.
			a = a.Unmap()
			if a.Zone() != "" {
				t.zoned = append(t.zoned, a)
				continue
			}
			t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return t, nil
}

// trusts reports whether a peer at addr (as RemoteAddr gives its host;
// "" for a unix socket's peer) may set the scheme.
func (t *ProxyTrust) trusts(addr string) bool {
	if t.all {
		return true
	}
	if len(t.prefixes) == 0 && len(t.zoned) == 0 {
		return false
	}
	if addr == "" {
		return true
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	// An IPv4 client on a [::] listener; a link-local peer's zone, which
	// no prefix contains (an entry without a zone is any interface's).
	a = a.Unmap()
	if slices.Contains(t.zoned, a) {
		return true
	}
	a = a.WithZone("")
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedScheme is the scheme the request's trusted proxy headers give
// (Gunicorn's secure_scheme_headers: X-Forwarded-Proto https,
// X-Forwarded-Protocol ssl, X-Forwarded-Ssl on), "" when they give none,
// and ok false when two of them disagree, which Gunicorn answers with 400:
// a request whose scheme is in doubt must not pass for either.
func forwardedScheme(headers []Header) (scheme string, ok bool) {
	for _, h := range headers {
		var secure string
		switch {
		case httpsyntax.EqualFold(h.Name, "x-forwarded-proto"):
			secure = "https"
		case httpsyntax.EqualFold(h.Name, "x-forwarded-protocol"):
			secure = "ssl"
		case httpsyntax.EqualFold(h.Name, "x-forwarded-ssl"):
			secure = "on"
		default:
			continue
		}
		s := "http"
		if httpsyntax.EqualFold(h.Value, secure) {
			s = "https"
		}
		if scheme != "" && s != scheme {
			return "", false
		}
		scheme = s
	}
	return scheme, true
}

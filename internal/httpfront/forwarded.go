package httpfront

import (
	"carafe/internal/httpsyntax"
	"carafe/internal/uwsgi"
	"fmt"
	"net/netip"
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
}

// ParseProxyTrust reads a comma-separated list of addresses and networks
// (127.0.0.1, ::1, 10.0.0.0/8), or "*" for every peer. A peer on a unix
// socket is trusted whenever the list is not empty: only a local process
// allowed to connect reaches it, a proxy as Gunicorn assumes too.
func ParseProxyTrust(list string) (ProxyTrust, error) {
	var t ProxyTrust
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
			t.prefixes = append(t.prefixes, p.Masked())
		default:
			a, err := netip.ParseAddr(item)
			if err != nil {
				return ProxyTrust{}, fmt.Errorf("%q is not an address or a network (%v)", item, err)
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
	if len(t.prefixes) == 0 {
		return false
	}
	if addr == "" {
		return true
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.Unmap() // an IPv4 client on a [::] listener
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
// and ok false when two of them disagree: a request whose scheme is in
// doubt must not pass for either.
func forwardedScheme(headers []Header) (scheme string, ok bool) {
	var v schemeVotes
	for _, h := range headers {
		switch {
		case httpsyntax.EqualFold(h.Name, "x-forwarded-proto"):
			v.add(h.Value, "https")
		case httpsyntax.EqualFold(h.Name, "x-forwarded-protocol"):
			v.add(h.Value, "ssl")
		case httpsyntax.EqualFold(h.Name, "x-forwarded-ssl"):
			v.add(h.Value, "on")
		}
	}
	return v.result()
}

// uwsgiForwardedScheme is forwardedScheme for a gateway's variables, in
// which the client's (or an upstream proxy's) headers come as HTTP_X_...
func uwsgiForwardedScheme(vars []uwsgi.Var) (scheme string, ok bool) {
	const prefix = "HTTP_X_FORWARDED_"
	var v schemeVotes
	for _, kv := range vars {
		k := kv.Key
		if len(k) <= len(prefix) || string(k[:len(prefix)]) != prefix {
			continue
		}
		switch string(k[len(prefix):]) {
		case "PROTO":
			v.add(kv.Value, "https")
		case "PROTOCOL":
			v.add(kv.Value, "ssl")
		case "SSL":
			v.add(kv.Value, "on")
		}
	}
	return v.result()
}

// schemeVotes gathers what a request's proxy headers say of its scheme.
type schemeVotes struct {
	scheme string // "" until a header says
	split  bool   // two headers disagree
}

// result is the scheme the headers agree on ("" when none says), ok
// false when they disagree.
func (v *schemeVotes) result() (scheme string, ok bool) {
	if v.split {
		return "", false
	}
	return v.scheme, true
}

// add counts one header whose value is secure (in any case) for https and
// anything else for http.
func (v *schemeVotes) add(value []byte, secure string) {
	s := "http"
	if httpsyntax.EqualFold(value, secure) {
		s = "https"
	}
	if v.scheme != "" && s != v.scheme {
		v.split = true
	}
	v.scheme = s
}

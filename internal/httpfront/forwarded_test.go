package httpfront

import "testing"

func TestProxyTrust(t *testing.T) {
	for _, tt := range []struct {
		list    string
		addr    string
		trusted bool
	}{
		{"127.0.0.1,::1", "127.0.0.1", true},
		{"127.0.0.1,::1", "::1", true},
		{"127.0.0.1,::1", "::ffff:127.0.0.1", true}, // an IPv4 client on a [::] listener
		{"127.0.0.1,::1", "10.1.2.3", false},
		{"127.0.0.1,::1", "", true}, // a unix socket's peer
		{"", "", false},
		{"", "127.0.0.1", false},
		{" 10.0.0.0/8 , 192.168.1.7", "10.200.0.1", true},
		{"10.0.0.0/8,192.168.1.7", "192.168.1.8", false},
		{"*", "203.0.113.9", true},
		{"10.0.0.0/8", "not-an-ip", false},
		// An IPv4-mapped entry is its IPv4 address, as the peer is seen;
		// a zone, in the entry or on a link-local peer, does not count.
		{"::ffff:10.0.0.5", "10.0.0.5", true},
		{"::ffff:10.0.0.0/104", "10.9.9.9", true},
		{"::ffff:10.0.0.0/104", "11.0.0.1", false},
		{"fe80::1%eth0", "fe80::1%eth0", true},
		{"fe80::1%eth0", "fe80::1%eth1", false},
		{"fe80::1%eth0", "fe80::1", false},
		{"fe80::1", "fe80::1%eth0", true},
		{"fe80::/10", "fe80::1%eth0", true},
	} {
		pt, err := ParseProxyTrust(tt.list)
		if err != nil {
			t.Fatalf("%q: %v", tt.list, err)
		}
		if got := pt.trusts(tt.addr); got != tt.trusted {
			t.Errorf("list %q, peer %q: trusted %v, want %v", tt.list, tt.addr, got, tt.trusted)
		}
	}
	for _, bad := range []string{"localhost", "10.0.0.0/33", "1.2.3", "::ffff:0:0/95"} {
		if _, err := ParseProxyTrust(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestForwardedScheme(t *testing.T) {
	h := func(kv ...string) []Header {
		var out []Header
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, Header{Name: []byte(kv[i]), Value: []byte(kv[i+1])})
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		headers []Header
		scheme  string
		ok      bool
	}{
		{"none", h("Host", "x"), "", true},
		{"proto https", h("X-Forwarded-Proto", "https"), "https", true},
		{"proto upper case", h("x-forwarded-proto", "HTTPS"), "https", true},
		{"proto http", h("X-Forwarded-Proto", "http"), "http", true},
		{"protocol ssl", h("X-Forwarded-Protocol", "ssl"), "https", true},
		{"ssl on", h("X-Forwarded-Ssl", "on"), "https", true},
		{"ssl off", h("X-Forwarded-Ssl", "off"), "http", true},
		{"agree", h("X-Forwarded-Proto", "https", "X-Forwarded-Ssl", "on"), "https", true},
		{"disagree", h("X-Forwarded-Proto", "https", "X-Forwarded-Ssl", "off"), "", false},
		{"repeated, disagree", h("X-Forwarded-Proto", "http", "X-Forwarded-Proto", "https"), "", false},
	} {
		scheme, ok := forwardedScheme(tt.headers)
		if scheme != tt.scheme || ok != tt.ok {
			t.Errorf("%s: %q %v, want %q %v", tt.name, scheme, ok, tt.scheme, tt.ok)
		}
	}
}

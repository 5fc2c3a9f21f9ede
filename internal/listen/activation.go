package listen

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Passed is a listening socket carafe was started with, by systemd's
// socket activation (a .socket unit), rather than one it bound.
type Passed struct {
	Addr string // as carafe spells an address: host:port, or the unix socket's path
	L    net.Listener
}

// Take pairs the sockets systemd passed with the addresses the
// configuration names (its --http-socket, --socket...), as uWSGI does: a
// named address that systemd passed is served on the passed socket, in the
// protocol its option says, and one it did not pass is bound as usual. It
// returns the passed listeners by the address that names each. A passed
// socket that no address names is an error, since nothing says which
// protocol it serves; every passed socket is then closed. A warning says
// where a passed socket serves more than its address would bound: an IPv6
// wildcard (systemd's ListenStream=PORT) for carafe's IPv4 one.
func Take(passed []Passed, addrs []string) (map[string]net.Listener, []string, error) {
	out := make(map[string]net.Listener)
	var stray, warnings []string
	for _, p := range passed {
		name := ""
		for _, a := range addrs {
			if _, taken := out[a]; !taken && SameAddr(a, p.L.Addr()) {
				name = a
				break
			}
		}
		if name == "" {
			stray = append(stray, p.Addr)
			continue
		}
		out[name] = p.L
		if ta, ok := p.L.Addr().(*net.TCPAddr); ok && ta.IP.To4() == nil && tcp(name) == "tcp4" {
			warnings = append(warnings, fmt.Sprintf("carafe: the socket systemd passed for %s is %s, which "+
				"takes IPv6 connections (and IPv4 ones, unless the unit says BindIPv6Only=ipv6-only), where "+
				"carafe binds %s for IPv4 alone; for that, give the unit ListenStream=0.0.0.0:%d", name, p.Addr, name, ta.Port))
		}
	}
	if len(stray) > 0 {
		for _, p := range passed {
			p.L.Close()
		}
		return nil, nil, fmt.Errorf("carafe: systemd passed a socket on %s that no --http-socket or --socket "+
			"names (carafe serves on them: %s): name it with the option of the protocol it serves, "+
			"or take it out of the .socket unit", strings.Join(stray, " and "), strings.Join(addrs, ", "))
	}
	return out, warnings, nil
}

// SameAddr reports whether the configured address addr names the socket
// bound at a: the same unix socket file (a path through a link included,
// /var/run for /run), or the same port and IP address, a host name's
// addresses or, for a wildcard (":8000", "0.0.0.0", "[::]"), any wildcard.
func SameAddr(addr string, a net.Addr) bool {
	if IsUnix(addr) {
		if a.Network() != "unix" {
			return false
		}
		if filepath.Clean(addr) == filepath.Clean(a.String()) {
			return true
		}
		fi, err1 := os.Stat(addr)
		fa, err2 := os.Stat(a.String())
		return err1 == nil && err2 == nil && os.SameFile(fi, fa)
	}
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != strconv.Itoa(ta.Port) {
		return false
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		return ta.IP.IsUnspecified()
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.Equal(ta.IP)
	}
	ips, _ := net.LookupIP(host)
	for _, ip := range ips {
		if ip.Equal(ta.IP) {
			return true
		}
	}
	return false
}

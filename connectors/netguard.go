package connectors

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Network safety. Every client the builder makes checks, at the moment it
// connects, the address it is about to connect to: after DNS resolution, so
// that a name which resolves (or re-resolves, as in DNS rebinding) to an
// internal address is refused as surely as the address itself. Internal
// means loopback, private networks, link-local (with the cloud metadata
// services), carrier-grade NAT, unspecified, multicast and reserved
// addresses, in their IPv4, IPv6, IPv4-mapped and NAT64 forms.
//
// Two things let a connection through anyway. An address the operator wrote
// in the configuration (an endpoint such as http://127.0.0.1:8090 or
// https://10.0.0.5) may be connected to, and so may loopback when the
// endpoint's host is localhost: the operator chose it. And a destination
// with allow_private_network: true may reach internal addresses through
// names, for an on-premises API; cloud metadata addresses stay refused even
// then, unless written in the endpoint.

// DialRefusedError is the error of a connection that the network-safety
// guard refused: nothing was sent. Its message names the host and the
// address, and the setting that would allow it; never a credential.
type DialRefusedError struct {
	// Host is the host the request was for, a name or an address.
	Host string
	// Addr is the address the connection would have gone to.
	Addr netip.Addr
	// Range names the kind of address, such as "loopback".
	Range string
	// Metadata reports a cloud metadata address, which
	// allow_private_network does not allow.
	Metadata bool
}

// Error explains the refusal and how to allow the connection.
func (e *DialRefusedError) Error() string {
	what := e.Addr.String()
	if e.Host != "" && e.Host != what {
		what = e.Host + " at " + what
	}
	if e.Metadata {
		return fmt.Sprintf("refused to connect to %s (%s): nothing was sent; surveysync connects there only when an endpoint is written as that address itself, never through a name nor with allow_private_network", what, e.Range)
	}
	return fmt.Sprintf("refused to connect to %s (%s): nothing was sent; if this is an API on your own network, set allow_private_network: true in this connector's configuration, or write the address itself in its endpoint", what, e.Range)
}

// addrRange is a range of internal addresses.
type addrRange struct {
	prefix   netip.Prefix
	name     string
	metadata bool
}

// internalRanges are the addresses no connection goes to unless allowed,
// most specific first.
var internalRanges = []addrRange{
	{prefix: netip.MustParsePrefix("169.254.169.254/32"), name: "cloud metadata service (link-local)", metadata: true},
	{prefix: netip.MustParsePrefix("169.254.170.2/32"), name: "container credentials service (link-local)", metadata: true},
	{prefix: netip.MustParsePrefix("100.100.100.200/32"), name: "cloud metadata service (Alibaba Cloud)", metadata: true},
	{prefix: netip.MustParsePrefix("fd00:ec2::254/128"), name: "cloud metadata service (AWS, IPv6)", metadata: true},
	{prefix: netip.MustParsePrefix("0.0.0.0/8"), name: "unspecified (this network)"},
	{prefix: netip.MustParsePrefix("10.0.0.0/8"), name: "private network (10.0.0.0/8)"},
	{prefix: netip.MustParsePrefix("100.64.0.0/10"), name: "carrier-grade NAT (100.64.0.0/10)"},
	{prefix: netip.MustParsePrefix("127.0.0.0/8"), name: "loopback"},
	{prefix: netip.MustParsePrefix("169.254.0.0/16"), name: "link-local"},
	{prefix: netip.MustParsePrefix("172.16.0.0/12"), name: "private network (172.16.0.0/12)"},
	{prefix: netip.MustParsePrefix("192.168.0.0/16"), name: "private network (192.168.0.0/16)"},
	{prefix: netip.MustParsePrefix("224.0.0.0/4"), name: "multicast"},
	{prefix: netip.MustParsePrefix("240.0.0.0/4"), name: "reserved (240.0.0.0/4)"},
	{prefix: netip.MustParsePrefix("::/128"), name: "unspecified"},
	{prefix: netip.MustParsePrefix("::1/128"), name: "loopback"},
	{prefix: netip.MustParsePrefix("::/96"), name: "IPv4-compatible (deprecated)"},
	{prefix: netip.MustParsePrefix("fc00::/7"), name: "unique local (private IPv6)"},
	{prefix: netip.MustParsePrefix("fe80::/10"), name: "link-local"},
	{prefix: netip.MustParsePrefix("fec0::/10"), name: "site-local (deprecated)"},
	{prefix: netip.MustParsePrefix("ff00::/8"), name: "multicast"},
}

// nat64Prefixes carry an IPv4 address in their last 32 bits (RFC 6052 and
// RFC 8215); a NAT64 gateway connects to that address.
var nat64Prefixes = []netip.Prefix{
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
}

// internalRange reports whether a is an internal address, and names its
// range. An IPv4-mapped or NAT64 address is judged by the IPv4 address it
// stands for.
func internalRange(a netip.Addr) (r addrRange, internal bool) {
	a = a.Unmap().WithZone("")
	for _, p := range nat64Prefixes {
		if a.Is6() && p.Contains(a) {
			b := a.As16()
			if r, ok := internalRange(netip.AddrFrom4([4]byte(b[12:]))); ok {
				r.name += " through NAT64"
				return r, true
			}
			return addrRange{}, false
		}
	}
	for _, r := range internalRanges {
		if r.prefix.Contains(a) {
			return r, true
		}
	}
	return addrRange{}, false
}

// dialPolicy is what one client may connect to besides public addresses.
type dialPolicy struct {
	// addrs are the addresses written in the configuration.
	addrs map[netip.Addr]bool
	// loopback is set when an endpoint's host is localhost.
	loopback bool
	// private is allow_private_network.
	private bool
}

func newDialPolicy(hosts []string, private bool) dialPolicy {
	p := dialPolicy{addrs: map[netip.Addr]bool{}, private: private}
	for _, h := range hosts {
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
		h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
		if h == "localhost" {
			p.loopback = true
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil {
			p.addrs[a.Unmap().WithZone("")] = true
		}
		// A name allows nothing: what it resolves to is checked.
	}
	return p
}

// key identifies the policy, so that clients with the same one share a
// transport and its connection pool, and no connection made under one
// policy is reused under another.
func (p dialPolicy) key() string {
	addrs := make([]string, 0, len(p.addrs))
	for a := range p.addrs {
		addrs = append(addrs, a.String())
	}
	slices.Sort(addrs)
	return fmt.Sprintf("%s|loopback=%t|private=%t", strings.Join(addrs, ","), p.loopback, p.private)
}

// check returns a *DialRefusedError when a connection to a, for host, is
// not allowed.
func (p dialPolicy) check(host string, a netip.Addr) error {
	a = a.Unmap().WithZone("")
	if p.addrs[a] {
		return nil
	}
	r, internal := internalRange(a)
	switch {
	case !internal:
		return nil
	case p.loopback && a.IsLoopback():
		return nil
	case p.private && !r.metadata:
		return nil
	}
	return &DialRefusedError{Host: host, Addr: a, Range: r.name, Metadata: r.metadata}
}

// dialGuard dials for one transport and enforces its policy.
type dialGuard struct {
	policy dialPolicy
	// dialer checks every address it connects to, in its Control hook.
	dialer *net.Dialer
	// plain dials the proxies the environment names (HTTPS_PROXY and
	// friends), which the operator chose; the proxy resolves the names of
	// the requests it carries.
	plain *net.Dialer
	// proxies holds the host:port of every proxy a request was sent to.
	proxies sync.Map
}

type dialHostKey struct{}

func newDialGuard(p dialPolicy, resolver *net.Resolver) *dialGuard {
	g := &dialGuard{policy: p}
	g.dialer = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver, ControlContext: g.control}
	g.plain = &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: resolver}
	return g
}

// dialContext is the transport's DialContext. It hands the host to the
// Control hook, for the error message.
func (g *dialGuard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if _, ok := g.proxies.Load(addr); ok {
		return g.plain.DialContext(ctx, network, addr)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return g.dialer.DialContext(context.WithValue(ctx, dialHostKey{}, host), network, addr)
}

// control runs once a socket exists and before it connects, with the
// resolved address: this is the check DNS rebinding cannot get around.
func (g *dialGuard) control(ctx context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address and port", address)
	}
	host, _ := ctx.Value(dialHostKey{}).(string)
	return g.policy.check(host, ap.Addr())
}

// proxy wraps the transport's proxy choice. A request sent through a proxy
// is resolved by the proxy, so its host can only be checked here when it is
// an address; the proxy itself is then dialled without the check.
func (g *dialGuard) proxy(choose func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		u, err := choose(req)
		if err != nil || u == nil {
			return u, err
		}
		if a, perr := netip.ParseAddr(strings.Trim(req.URL.Hostname(), "[]")); perr == nil {
			if err := g.policy.check(req.URL.Hostname(), a); err != nil {
				return nil, err
			}
		}
		g.proxies.Store(proxyAddr(u), true)
		return u, nil
	}
}

// proxyAddr is the host:port the transport dials for a proxy URL.
func proxyAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// URLHosts returns the hosts (with their ports) of the URLs that parse, for
// ClientOptions.AllowHosts: the endpoints and token URLs a configuration
// names. Empty strings and unparseable URLs are skipped.
func URLHosts(urls ...string) []string {
	var out []string
	for _, s := range urls {
		if s == "" {
			continue
		}
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

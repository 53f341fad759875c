package connectors

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/surveysync/surveysync/connectors/internal/fakedns"
)

// loopbackIP allows the httptest servers of this package's tests, as an
// endpoint written as http://127.0.0.1:port does.
var loopbackIP = []string{"127.0.0.1"}

// TestInternalRange is the classifier: every internal range is refused, in
// its IPv4, IPv6, IPv4-mapped and NAT64 forms, and public addresses pass.
func TestInternalRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr     string
		internal bool
		metadata bool
	}{
		{addr: "127.0.0.1", internal: true},
		{addr: "127.255.255.254", internal: true},
		{addr: "::1", internal: true},
		{addr: "10.0.0.1", internal: true},
		{addr: "10.255.255.255", internal: true},
		{addr: "172.16.0.1", internal: true},
		{addr: "172.31.255.255", internal: true},
		{addr: "192.168.1.1", internal: true},
		{addr: "169.254.169.254", internal: true, metadata: true},
		{addr: "169.254.170.2", internal: true, metadata: true},
		{addr: "169.254.1.1", internal: true},
		{addr: "fd00:ec2::254", internal: true, metadata: true},
		{addr: "100.100.100.200", internal: true, metadata: true},
		{addr: "fd12:3456::1", internal: true},
		{addr: "fc00::1", internal: true},
		{addr: "fe80::1", internal: true},
		{addr: "fe80::1%eth0", internal: true},
		{addr: "fec0::1", internal: true},
		{addr: "0.0.0.0", internal: true},
		{addr: "0.1.2.3", internal: true},
		{addr: "::", internal: true},
		{addr: "::7f00:1", internal: true}, // IPv4-compatible 127.0.0.1
		{addr: "100.64.0.1", internal: true},
		{addr: "100.127.255.255", internal: true},
		{addr: "224.0.0.1", internal: true},
		{addr: "ff02::1", internal: true},
		{addr: "240.0.0.1", internal: true},
		{addr: "255.255.255.255", internal: true},
		// IPv4-mapped IPv6 addresses are judged by their IPv4 address.
		{addr: "::ffff:10.0.0.1", internal: true},
		{addr: "::ffff:127.0.0.1", internal: true},
		{addr: "::ffff:169.254.169.254", internal: true, metadata: true},
		// So are NAT64 ones, which a NAT64 gateway connects to.
		{addr: "64:ff9b::7f00:1", internal: true},
		{addr: "64:ff9b::a9fe:a9fe", internal: true, metadata: true},
		{addr: "64:ff9b:1::a00:1", internal: true},
		// Public addresses, including the neighbours of the ranges.
		{addr: "8.8.8.8"},
		{addr: "1.1.1.1"},
		{addr: "9.255.255.255"},
		{addr: "11.0.0.0"},
		{addr: "172.15.255.255"},
		{addr: "172.32.0.0"},
		{addr: "192.167.255.255"},
		{addr: "192.169.0.0"},
		{addr: "100.63.255.255"},
		{addr: "100.128.0.0"},
		{addr: "169.253.255.255"},
		{addr: "126.255.255.255"},
		{addr: "128.0.0.0"},
		{addr: "2001:4860::8888"},
		{addr: "2606:4700:4700::1111"},
		{addr: "::ffff:8.8.8.8"},
		{addr: "64:ff9b::808:808"},
	} {
		r, internal := internalRange(netip.MustParseAddr(tc.addr))
		if internal != tc.internal || r.metadata != tc.metadata {
			t.Errorf("%s: internal %t (%s), metadata %t; want internal %t, metadata %t", tc.addr, internal, r.name, r.metadata, tc.internal, tc.metadata)
		}
		if internal && r.name == "" {
			t.Errorf("%s: internal range without a name", tc.addr)
		}
	}
}

// TestDialPolicy: what the configuration allows. An address written in it
// is allowed exactly, localhost allows loopback, allow_private_network
// allows every internal address but the metadata services, and a name
// allows nothing.
func TestDialPolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		hosts   []string
		private bool
		allowed []string
		refused []string
	}{{
		name:    "nothing written",
		allowed: []string{"8.8.8.8", "2001:4860::8888"},
		refused: []string{"127.0.0.1", "::1", "10.0.0.1", "192.168.0.10", "169.254.169.254", "fd00:ec2::254", "::ffff:10.0.0.1"},
	}, {
		name:    "loopback address with a port",
		hosts:   []string{"127.0.0.1:8090"},
		allowed: []string{"127.0.0.1", "::ffff:127.0.0.1", "8.8.8.8"},
		refused: []string{"127.0.0.2", "::1", "10.0.0.1"},
	}, {
		name:    "private address",
		hosts:   []string{"10.0.0.5"},
		allowed: []string{"10.0.0.5", "::ffff:10.0.0.5"},
		refused: []string{"10.0.0.6", "127.0.0.1"},
	}, {
		name:    "IPv6 loopback in brackets",
		hosts:   []string{"[::1]:8090"},
		allowed: []string{"::1"},
		refused: []string{"127.0.0.1"},
	}, {
		name:    "metadata address written as the endpoint",
		hosts:   []string{"169.254.169.254"},
		allowed: []string{"169.254.169.254"},
		refused: []string{"169.254.170.2", "fd00:ec2::254"},
	}, {
		name:    "localhost",
		hosts:   []string{"LocalHost.:8090"},
		allowed: []string{"127.0.0.1", "127.0.0.53", "::1"},
		refused: []string{"10.0.0.1", "169.254.169.254", "fe80::1"},
	}, {
		name:    "a name allows nothing",
		hosts:   []string{"api.example.com", "api.example.com:443", "localhost.example.com"},
		allowed: []string{"8.8.8.8"},
		refused: []string{"127.0.0.1", "10.0.0.1"},
	}, {
		name:    "allow_private_network",
		private: true,
		allowed: []string{"127.0.0.1", "::1", "10.0.0.1", "172.20.1.1", "192.168.0.10", "100.64.0.1", "fd12::1", "169.254.1.1", "8.8.8.8"},
		refused: []string{"169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			p := newDialPolicy(tc.hosts, tc.private)
			for _, a := range tc.allowed {
				if err := p.check("h", netip.MustParseAddr(a)); err != nil {
					t.Errorf("%s refused: %v", a, err)
				}
			}
			for _, a := range tc.refused {
				err := p.check("h", netip.MustParseAddr(a))
				var refused *DialRefusedError
				if !errors.As(err, &refused) {
					t.Errorf("%s allowed (err %v)", a, err)
				}
			}
		})
	}
}

// TestDialPolicyKey: clients share a connection pool only with clients
// allowed the same things.
func TestDialPolicyKey(t *testing.T) {
	t.Parallel()
	same := [][2]dialPolicy{
		{newDialPolicy(nil, false), newDialPolicy([]string{"api.hubapi.com", "oauth2.googleapis.com:443"}, false)},
		{newDialPolicy([]string{"10.0.0.1", "127.0.0.1:1"}, false), newDialPolicy([]string{"127.0.0.1:2", "::ffff:10.0.0.1"}, false)},
	}
	for _, p := range same {
		if p[0].key() != p[1].key() {
			t.Errorf("%q and %q differ", p[0].key(), p[1].key())
		}
	}
	different := [][2]dialPolicy{
		{newDialPolicy(nil, false), newDialPolicy(nil, true)},
		{newDialPolicy(nil, false), newDialPolicy([]string{"localhost"}, false)},
		{newDialPolicy([]string{"10.0.0.1"}, false), newDialPolicy([]string{"10.0.0.2"}, false)},
	}
	for _, p := range different {
		if p[0].key() == p[1].key() {
			t.Errorf("%q for two different policies", p[0].key())
		}
	}
}

// guardedServer is a server that counts the requests that reach it, on a
// loopback port, and the address part of its URL.
func guardedServer(t *testing.T) (*httptest.Server, *atomic.Int32, string) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return srv, &hits, port
}

// TestDialGuard connects through the real transport, with names resolved
// by a DNS server under the test's control: a name that resolves to an
// internal address is refused when the connection is made, before any
// byte is sent, and the refusal is neither retried nor reported as a
// delivery that may have happened.
func TestDialGuard(t *testing.T) {
	t.Parallel()
	dns := fakedns.Start(t, map[string][]string{
		"rebind.test":    {"127.0.0.1"},
		"twice.test":     {"127.0.0.1", "10.0.0.1"},
		"onprem.test":    {"127.0.0.1"},
		"metadata.test":  {"169.254.169.254"},
		"unrelated.test": {"127.0.0.1"},
	})
	_, hits, port := guardedServer(t)
	for _, tc := range []struct {
		name    string
		url     string
		opts    ClientOptions
		wantErr string // empty: the request must get through
	}{{
		name:    "a name that resolves to loopback",
		url:     "http://rebind.test:" + port + "/x",
		opts:    ClientOptions{AllowHosts: URLHosts("http://rebind.test:" + port)},
		wantErr: "refused to connect to rebind.test at 127.0.0.1 (loopback)",
	}, {
		name:    "a name with several internal addresses",
		url:     "http://twice.test:" + port + "/x",
		wantErr: "refused to connect to twice.test at",
	}, {
		name:    "a name that resolves to the metadata service",
		url:     "http://metadata.test:" + port + "/x",
		opts:    ClientOptions{AllowPrivate: true},
		wantErr: "refused to connect to metadata.test at 169.254.169.254 (cloud metadata service (link-local))",
	}, {
		name:    "a loopback address the configuration does not name",
		url:     "http://127.0.0.1:" + port + "/x",
		opts:    ClientOptions{AllowHosts: []string{"10.0.0.5"}},
		wantErr: "refused to connect to 127.0.0.1 (loopback)",
	}, {
		name: "the endpoint written as 127.0.0.1",
		url:  "http://127.0.0.1:" + port + "/x",
		opts: ClientOptions{AllowHosts: URLHosts("http://127.0.0.1:" + port)},
	}, {
		name: "allow_private_network with an on-premises name",
		url:  "http://onprem.test:" + port + "/x",
		opts: ClientOptions{AllowHosts: URLHosts("http://onprem.test:" + port), AllowPrivate: true},
	}, {
		name: "localhost written as the endpoint",
		url:  "http://localhost:" + port + "/x",
		opts: ClientOptions{AllowHosts: URLHosts("http://localhost:" + port)},
	}, {
		name:    "localhost not written",
		url:     "http://localhost:" + port + "/x",
		wantErr: "refused to connect to localhost at",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			clients := NewClients(nil, nil)
			clients.SetResolver(dns.Resolver())
			tc.opts.Name = "t"
			tc.opts.Header = http.Header{"Authorization": {"Bearer s3cret-token"}}
			c := clients.New(tc.opts)
			before := hits.Load()
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				req, _ := http.NewRequest(method, tc.url, strings.NewReader(`{"a":1}`))
				resp, err := c.Do(req)
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("%s: %v", method, err)
					}
					ReadBody(resp, 1<<10)
					continue
				}
				if err == nil {
					ReadBody(resp, 1<<10)
					t.Fatalf("%s: got %d, want a refusal", method, resp.StatusCode)
				}
				var refused *DialRefusedError
				if !errors.As(err, &refused) {
					t.Fatalf("%s: %v is not a DialRefusedError", method, err)
				}
				msg := err.Error()
				if !strings.Contains(msg, tc.wantErr) {
					t.Errorf("%s: error %q does not contain %q", method, msg, tc.wantErr)
				}
				if strings.Contains(msg, "s3cret") {
					t.Errorf("%s: error reveals the credential: %s", method, msg)
				}
				if !refused.Metadata && !strings.Contains(msg, "allow_private_network: true") {
					t.Errorf("%s: error does not name the setting that allows it: %s", method, msg)
				}
				if !NotSent(err) {
					t.Errorf("%s: NotSent = false for a refused connection", method)
				}
				if retry, _ := CheckRetry(context.Background(), nil, err); retry {
					t.Errorf("%s: CheckRetry retries a refused connection", method)
				}
				wrapped := Transient(fmt.Errorf("POST /x: %w", err))
				if c, _ := Classify(wrapped); c != ClassPaused {
					t.Errorf("%s: a refused connection wrapped as transient is classified %q, want paused", method, c)
				}
			}
			got := hits.Load() - before
			switch {
			case tc.wantErr == "" && got != 2:
				t.Errorf("the server got %d requests, want 2", got)
			case tc.wantErr != "" && got != 0:
				t.Errorf("the server got %d requests through a refused connection", got)
			}
		})
	}
	// One resolution per request: the refusal is not retried, so it does
	// not turn into a storm of attempts.
	if n := dns.Lookups("rebind.test"); n != 2 {
		t.Errorf("rebind.test was resolved %d times for two requests, want 2", n)
	}
}

// TestDialGuardRebinding: a name that first resolves to a public address
// and then to an internal one is checked again at every connection; no
// earlier answer is trusted.
func TestDialGuardRebinding(t *testing.T) {
	t.Parallel()
	dns := fakedns.Start(t, map[string][]string{"rebind.test": {"127.0.0.1"}})
	_, hits, port := guardedServer(t)
	clients := NewClients(nil, nil)
	clients.SetResolver(dns.Resolver())
	// The name is allowed while it points at an address the configuration
	// names, and refused once it is re-pointed at one it does not.
	c := clients.New(ClientOptions{Name: "t", AllowHosts: loopbackIP, RetryMax: -1})
	get := func() error {
		req, _ := http.NewRequest(http.MethodGet, "http://rebind.test:"+port+"/x", nil)
		req.Close = true // a new connection, and so a new resolution, every time
		resp, err := c.Do(req)
		if err == nil {
			ReadBody(resp, 1<<10)
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("first request: %v", err)
	}
	dns.Set("rebind.test", "127.0.0.2")
	err := get()
	var refused *DialRefusedError
	if !errors.As(err, &refused) || refused.Addr != netip.MustParseAddr("127.0.0.2") {
		t.Fatalf("after rebinding: %v, want a refusal of 127.0.0.2", err)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the server got %d requests, want 1", n)
	}
}

// TestRedirectToMetadataIsNotFollowed: a public answer that redirects to
// the metadata service is returned to the connector, and even a client that
// followed redirects would be refused the connection.
func TestRedirectToMetadataIsNotFollowed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/security-credentials/", http.StatusFound)
	}))
	defer srv.Close()
	c := NewClients(nil, nil).New(ClientOptions{Name: "t", AllowHosts: URLHosts(srv.URL)})
	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ReadBody(resp, 1<<10)
	if resp.StatusCode != http.StatusFound {
		t.Errorf("status %d, want the 302 itself", resp.StatusCode)
	}
	following := *c
	following.CheckRedirect = nil
	resp, err = following.Get(srv.URL)
	if err == nil {
		ReadBody(resp, 1<<10)
		t.Fatalf("a followed redirect to the metadata service got %d", resp.StatusCode)
	}
	var refused *DialRefusedError
	if !errors.As(err, &refused) || !refused.Metadata {
		t.Errorf("a followed redirect to the metadata service: %v, want a refusal at dial time", err)
	}
}

// TestProxyIsDialled: a proxy from the environment is the operator's
// choice and is connected to even on an internal address; a request for an
// internal address the configuration does not name is refused before it
// reaches the proxy.
func TestProxyIsDialled(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String())
		fmt.Fprint(w, "proxied")
	}))
	defer proxy.Close()
	proxyURL, _ := url.Parse(proxy.URL)
	clients := NewClients(nil, nil)
	clients.proxy = http.ProxyURL(proxyURL)
	c := clients.New(ClientOptions{Name: "t"})
	resp, err := c.Get("http://public.example/x")
	if err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	ReadBody(resp, 1<<10)
	if got, _ := seen.Load().(string); got != "http://public.example/x" {
		t.Errorf("the proxy got %q", got)
	}
	seen.Store("")
	_, err = c.Get("http://10.0.0.1/x")
	var refused *DialRefusedError
	if !errors.As(err, &refused) {
		t.Errorf("an internal address through the proxy: %v, want a refusal", err)
	}
	if got, _ := seen.Load().(string); got != "" {
		t.Errorf("the proxy got %q for a refused request", got)
	}
}

// TestURLHosts: the hosts of the URLs a configuration names, ports kept,
// credentials and unparseable URLs left out.
func TestURLHosts(t *testing.T) {
	t.Parallel()
	got := URLHosts("https://api.example.com/v1", "", "http://127.0.0.1:8090", "://bad", "https://[::1]:443/x", "https://user:pw@10.0.0.1/")
	want := []string{"api.example.com", "127.0.0.1:8090", "[::1]:443", "10.0.0.1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("URLHosts = %q, want %q", got, want)
	}
}

// Package fakedns is a DNS server for tests: it answers A and AAAA queries
// from a fixed table on a loopback UDP port, so that tests can make names
// resolve to chosen addresses without a network, through Go's own resolver.
package fakedns

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server answers DNS queries from its table until the test ends.
type Server struct {
	conn net.PacketConn

	mu      sync.Mutex
	table   map[string][]netip.Addr
	queries map[string]int
}

// Start serves table (name → addresses, such as "api.test" →
// ["127.0.0.1"]) until t ends. Names not in the table do not exist.
func Start(t testing.TB, table map[string][]string) *Server {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{conn: conn, table: map[string][]netip.Addr{}, queries: map[string]int{}}
	for name, addrs := range table {
		for _, a := range addrs {
			s.table[canonical(name)] = append(s.table[canonical(name)], netip.MustParseAddr(a))
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.serve()
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return s
}

// Set replaces the addresses of name, as a DNS rebinding attacker does
// between two lookups.
func (s *Server) Set(name string, addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.table[canonical(name)] = nil
	for _, a := range addrs {
		s.table[canonical(name)] = append(s.table[canonical(name)], netip.MustParseAddr(a))
	}
}

// Resolver returns a resolver that asks only this server.
func (s *Server) Resolver() *net.Resolver {
	addr := s.conn.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

// Lookups counts the A queries for name: one per resolution.
func (s *Server) Lookups(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[canonical(name)]
}

func canonical(name string) string {
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

func (s *Server) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		if msg, ok := s.answer(buf[:n]); ok {
			_, _ = s.conn.WriteTo(msg, from)
		}
	}
}

func (s *Server) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	name := canonical(q.Name.String())
	s.mu.Lock()
	addrs, known := s.table[name]
	if q.Type == dnsmessage.TypeA {
		s.queries[name]++
	}
	s.mu.Unlock()
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	if b.StartQuestions() != nil || b.Question(q) != nil || b.StartAnswers() != nil {
		return nil, false
	}
	for _, a := range addrs {
		rr := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET}
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			err = b.AResource(rr, dnsmessage.AResource{A: a.As4()})
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			err = b.AAAAResource(rr, dnsmessage.AAAAResource{AAAA: a.As16()})
		}
		if err != nil {
			return nil, false
		}
	}
	msg, err := b.Finish()
	return msg, err == nil
}

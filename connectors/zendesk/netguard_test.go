package zendesk

import (
	"context"
	"net"
	"testing"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/internal/batchtest"
	"github.com/surveysync/surveysync/connectors/internal/fakedns"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

// TestRefusedAddressIsNotRetried points the destination at a name that
// resolves to loopback: the network guard refuses the connection, the
// destination pauses, and the refusal is not retried (one lookup, no
// request reaches the emulator).
func TestRefusedAddressIsNotRetried(t *testing.T) {
	t.Parallel()
	s, ts := emulator(t, 2, zendeskapi.Options{})
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	dns := fakedns.Start(t, map[string][]string{"zd.onprem.test": {"127.0.0.1"}})
	cfg := DefaultConfig()
	cfg.Endpoint = "http://zd.onprem.test:" + port + "/api/v2"
	cfg.Email = testEmail
	cfg.Token = secretFile(t, testToken)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clients := connectors.NewClients(nil, nil)
	clients.SetResolver(dns.Resolver())
	d, err := New("zd", cfg, connectors.Deps{Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := d.Deliver(context.Background(), batchtest.Requests(t, fieldsMapping, `{"ticket_id": 1, "score": 4, "band": "promoter"}`))
	if c := classOf(res[0]); c != connectors.ClassPaused {
		t.Errorf("outcome %q (%v), want paused", c, res[0].Err)
	}
	if n := dns.Lookups("zd.onprem.test"); n != 1 {
		t.Errorf("%d lookups, want 1: a refused address must not be retried", n)
	}
	if n := len(s.Log()); n != 0 {
		t.Errorf("%d requests reached the emulator, want 0", n)
	}
}

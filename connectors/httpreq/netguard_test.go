package httpreq_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/httpreq"
	"github.com/surveysync/surveysync/connectors/internal/fakedns"
)

// TestNetworkSafety delivers through the destination to an API on a
// loopback port, named in three ways: by its address (the operator's
// choice, allowed), by a name that resolves to it (refused when the
// connection is made, and the destination paused with a message that names
// the setting), and by that name with allow_private_network: true.
func TestNetworkSafety(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	dns := fakedns.Start(t, map[string][]string{"api.onprem.test": {"127.0.0.1"}})
	m := compile(t, plainPost)
	for _, tc := range []struct {
		name     string
		endpoint string
		private  bool
		want     connectors.Class
	}{
		{name: "address written as the endpoint", endpoint: srv.URL, want: "delivered"},
		{name: "name resolving to loopback", endpoint: "http://api.onprem.test:" + port, want: connectors.ClassPaused},
		{name: "name with allow_private_network", endpoint: "http://api.onprem.test:" + port, private: true, want: "delivered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := httpreq.DefaultConfig()
			cfg.Endpoint = tc.endpoint
			cfg.AllowPrivateNetwork = tc.private
			path := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(path, []byte("not-a-real-token"), 0o600); err != nil {
				t.Fatal(err)
			}
			auth, err := config.ParseSecret("${file:"+path+"}", "")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Auth.Bearer = auth
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			clients := connectors.NewClients(nil, nil)
			clients.SetResolver(dns.Resolver())
			d, err := httpreq.New("out", cfg, connectors.Deps{Clients: clients})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			before := hits.Load()
			res := d.Deliver(context.Background(), batch(t, m, `{"id": "r1", "rating": 9}`))
			got := outcomes(res)[0].Class
			if got != tc.want {
				t.Fatalf("outcome %q (%v), want %q", got, res[0].Err, tc.want)
			}
			sent := hits.Load() - before
			if tc.want == connectors.ClassPaused {
				msg := res[0].Err.Error()
				for _, want := range []string{"api.onprem.test at 127.0.0.1", "allow_private_network: true", "nothing was sent"} {
					if !strings.Contains(msg, want) {
						t.Errorf("error %q does not contain %q", msg, want)
					}
				}
				if strings.Contains(msg, "not-a-real-token") {
					t.Errorf("error reveals the token: %s", msg)
				}
				if sent != 0 {
					t.Errorf("the API got %d requests", sent)
				}
			} else if sent != 1 {
				t.Errorf("the API got %d requests, want 1", sent)
			}
		})
	}
}

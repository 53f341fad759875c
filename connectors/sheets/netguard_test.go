package sheets_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/internal/fakedns"
	"github.com/surveysync/surveysync/connectors/sheets"
	emu "github.com/surveysync/surveysync/sandbox/sheetsapi"
)

// TestTokenFetchIsGuarded: access tokens are fetched through the same
// network safety as the API's requests. A credentials file whose token_uri
// names a host that resolves to loopback is refused when the connection is
// made, and the destination pauses, until allow_private_network is set.
func TestTokenFetchIsGuarded(t *testing.T) {
	t.Parallel()
	const email = "surveysync@surveysync-test.iam.gserviceaccount.com"
	dns := fakedns.Start(t, map[string][]string{"oauth.onprem.test": {"127.0.0.1"}})
	for _, tc := range []struct {
		name    string
		private bool
		want    connectors.Class
	}{
		{name: "refused", want: connectors.ClassPaused},
		{name: "allow_private_network", private: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, emu.Options{RequireAuth: true})
			u, err := url.Parse(e.url)
			if err != nil {
				t.Fatal(err)
			}
			_, port, _ := net.SplitHostPort(u.Host)
			cfg := e.config()
			cfg.AllowPrivateNetwork = tc.private
			cfg.Credentials = credentialFile(t, serviceAccountKey(t, "http://oauth.onprem.test:"+port+"/token", email))
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			clients := connectors.NewClients(nil, nil)
			clients.SetResolver(dns.Resolver())
			d, err := sheets.New("sheet", cfg, connectors.Deps{Clients: clients})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			m := mustMapping(t, testMapping)
			res := d.Deliver(context.Background(), batchOf(m, item(t, m, 1, "r1", `{"rating": 1}`)))
			got, _ := connectors.Classify(res[0].Err)
			if got != tc.want {
				t.Fatalf("class %q (%v), want %q", got, res[0].Err, tc.want)
			}
			if tc.want == "" {
				return
			}
			if msg := res[0].Err.Error(); !strings.Contains(msg, "oauth.onprem.test at 127.0.0.1") || !strings.Contains(msg, "allow_private_network") {
				t.Errorf("error %q does not name the host, the address and the setting", msg)
			}
			if n := len(e.srv.Log()); n != 0 {
				t.Errorf("the API got %d requests without a token", n)
			}
		})
	}
}

package connectors_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
)

// TestAllowPrivateNetworkSetting: every connector that connects out takes
// allow_private_network as a boolean, defaulting to false, and the strict
// decoder still refuses a value that is not one and a misspelt key.
func TestAllowPrivateNetworkSetting(t *testing.T) {
	t.Parallel()
	type entry struct {
		kind, typ, sample string
		configure         func(*config.Plugin) (connectors.Config, config.ErrorList)
	}
	var entries []entry
	for _, s := range connectors.Destinations() {
		entries = append(entries, entry{"destination", s.Type, s.Sample, func(p *config.Plugin) (connectors.Config, config.ErrorList) {
			_, c, errs := connectors.ConfigureDestination(p)
			return c, errs
		}})
	}
	for _, s := range connectors.Sources() {
		entries = append(entries, entry{"source", s.Type, s.Sample, func(p *config.Plugin) (connectors.Config, config.ErrorList) {
			_, c, errs := connectors.ConfigureSource(p)
			return c, errs
		}})
	}
	outbound := map[string]bool{"http": true, "hubspot": true, "zendesk": true, "google_sheets": true, "http_poll": true}
	found := 0
	for _, e := range entries {
		if !outbound[e.typ] {
			continue
		}
		found++
		t.Run(e.kind+"/"+e.typ, func(t *testing.T) {
			// The line goes to the sample's last entry.
			base := strings.TrimRight(e.sample, "\n") + "\n"
			last := func(src string) (connectors.Config, config.ErrorList) {
				ps := plugins(t, e.typ+"/sample.yaml", src)
				cfg, errs := e.configure(ps[len(ps)-1])
				var hard config.ErrorList
				for _, err := range errs {
					if !err.Warning {
						hard = append(hard, err)
					}
				}
				return cfg, hard
			}
			allowed := func(cfg connectors.Config) bool {
				f := reflect.ValueOf(cfg).Elem().FieldByName("AllowPrivateNetwork")
				if !f.IsValid() {
					t.Fatalf("%T has no AllowPrivateNetwork field", cfg)
				}
				return f.Bool()
			}
			cfg, errs := last(base)
			if len(errs) > 0 {
				t.Fatalf("sample: %v", errs)
			}
			if allowed(cfg) {
				t.Error("allow_private_network is on by default")
			}
			cfg, errs = last(base + "  allow_private_network: true\n")
			if len(errs) > 0 {
				t.Fatalf("allow_private_network: true: %v", errs)
			}
			if !allowed(cfg) {
				t.Error("allow_private_network: true did not reach the configuration")
			}
			for _, bad := range []string{"  allow_private_network: sometimes\n", "  allow_private_networks: true\n"} {
				if _, errs := last(base + bad); len(errs) == 0 {
					t.Errorf("%q was accepted", strings.TrimSpace(bad))
				}
			}
		})
	}
	if found != len(outbound) {
		t.Errorf("found %d of the %d connectors that connect out", found, len(outbound))
	}
}

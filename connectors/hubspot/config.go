package hubspot

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/surveysync/surveysync/config"
)

// Defaults of the configuration.
const (
	// DefaultEndpoint is HubSpot's API.
	DefaultEndpoint = "https://api.hubapi.com"
	// DefaultTokenURL is HubSpot's OAuth token endpoint.
	DefaultTokenURL = "https://api.hubapi.com/oauth/v1/token"
	// DefaultRateLimit is the requests per ten seconds of the Free and
	// Starter tiers (Professional and Enterprise allow 190, the API limit
	// increase pack 250).
	DefaultRateLimit = 100
	// DefaultSearchRateLimit is the CRM search requests per second HubSpot
	// allows; search has its own limit, outside the ten-second window.
	DefaultSearchRateLimit = 4
	// DefaultTimeout bounds one request attempt.
	DefaultTimeout = 30 * time.Second
	// DefaultConcurrency is how many note requests are in flight at once.
	DefaultConcurrency = 4
	// DefaultReconcileAfter is how long HubSpot's search index may take to
	// show a new note ("seconds, sometimes up to 30").
	DefaultReconcileAfter = 30 * time.Second
	// MaxBatchInputs is the most inputs one batch upsert carries.
	MaxBatchInputs = 100
	// rateInterval is the length of HubSpot's rolling window.
	rateInterval = 10 * time.Second
)

// Config configures a HubSpot destination.
type Config struct {
	// Endpoint overrides the API's base URL, for a proxy or the sandbox.
	// Default https://api.hubapi.com.
	Endpoint string `yaml:"endpoint"`
	// Token is a private-app access token, sent as a bearer token.
	Token config.Secret `yaml:"token"`
	// OAuth authenticates as a public app with a refresh token instead.
	OAuth *OAuthConfig `yaml:"oauth"`
	// RateLimit is the requests allowed per rolling ten seconds: 100 for
	// Free and Starter, 190 for Professional and Enterprise, 250 with the
	// API limit increase. Default 100. Every destination with the same
	// credential shares it.
	RateLimit int `yaml:"rate_limit"`
	// SearchRateLimit is the search requests allowed per second. Default 4.
	SearchRateLimit int `yaml:"search_rate_limit"`
	// Timezone is the account's time zone, in which the daily limit resets
	// at midnight. Default UTC.
	Timezone string `yaml:"timezone"`
	// Timeout bounds one request attempt. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is how many note requests are in flight at once. Default 4.
	Concurrency int `yaml:"concurrency"`
	// ThrottleBackoff is the first wait after a 429 that names no
	// Retry-After; it doubles on each further 429, up to
	// ThrottleBackoffMax. Default 1s.
	ThrottleBackoff time.Duration `yaml:"throttle_backoff"`
	// ThrottleBackoffMax caps that wait. Default 10s: the rolling window
	// frees a request within ten seconds, so a longer wait only loses time.
	ThrottleBackoffMax time.Duration `yaml:"throttle_backoff_max"`
	// NoteKeyProperty names a custom note property (created in HubSpot
	// beforehand) that holds each note's delivery key. By default the key is
	// a marker line at the end of the note's body.
	NoteKeyProperty string `yaml:"note_key_property"`
	// ReconcileAfter is how long HubSpot's search index is given to show a
	// note whose creation had an unknown outcome before a search that does
	// not find it is trusted. Default 30s.
	ReconcileAfter time.Duration `yaml:"reconcile_after"`
	// AllowPrivateNetwork lets the endpoint's and token URL's names resolve
	// to internal addresses (loopback, a private network, link-local,
	// carrier-grade NAT), for a proxy on the operator's own network.
	// Without it such a connection is refused when it is made. An endpoint
	// written as an address, or as localhost, needs no such setting. Cloud
	// metadata addresses stay refused.
	AllowPrivateNetwork bool `yaml:"allow_private_network"`
}

// OAuthConfig is an OAuth 2 refresh-token grant.
type OAuthConfig struct {
	// ClientID is the app's client id (not a secret).
	ClientID string `yaml:"client_id"`
	// ClientSecret is the app's client secret.
	ClientSecret config.Secret `yaml:"client_secret"`
	// RefreshToken is the installed account's refresh token.
	RefreshToken config.Secret `yaml:"refresh_token"`
	// TokenURL is the token endpoint. Default
	// https://api.hubapi.com/oauth/v1/token.
	TokenURL string `yaml:"token_url"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{
		Endpoint:           DefaultEndpoint,
		RateLimit:          DefaultRateLimit,
		SearchRateLimit:    DefaultSearchRateLimit,
		Timezone:           "UTC",
		Timeout:            DefaultTimeout,
		Concurrency:        DefaultConcurrency,
		ThrottleBackoff:    time.Second,
		ThrottleBackoffMax: rateInterval,
		ReconcileAfter:     DefaultReconcileAfter,
	}
}

// Validate checks the configuration without I/O and returns every problem.
func (c *Config) Validate() error {
	var errs []error
	if err := checkURL(c.Endpoint); err != nil {
		errs = append(errs, fmt.Errorf("endpoint: %w", err))
	}
	switch {
	case c.Token.IsSet() && c.OAuth != nil:
		errs = append(errs, errors.New("token: choose a private-app token or oauth, not both"))
	case !c.Token.IsSet() && c.OAuth == nil:
		errs = append(errs, errors.New("token: set a private-app token such as \"${env:HUBSPOT_TOKEN}\", or oauth with client_id, client_secret and refresh_token"))
	case c.OAuth != nil:
		if c.OAuth.ClientID == "" || !c.OAuth.ClientSecret.IsSet() || !c.OAuth.RefreshToken.IsSet() {
			errs = append(errs, errors.New("oauth: set client_id, client_secret and refresh_token"))
		}
		if c.OAuth.TokenURL != "" {
			if err := checkURL(c.OAuth.TokenURL); err != nil {
				errs = append(errs, fmt.Errorf("oauth.token_url: %w", err))
			}
		}
	}
	if c.RateLimit < 1 {
		errs = append(errs, errors.New("rate_limit: must be at least 1 request per 10 seconds (HubSpot tiers allow 100, 190 or 250)"))
	}
	if c.SearchRateLimit < 1 {
		errs = append(errs, errors.New("search_rate_limit: must be at least 1 search per second (HubSpot allows 4)"))
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" {
		errs = append(errs, fmt.Errorf("timezone: %q is not a known IANA zone such as Europe/Berlin", c.Timezone))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be positive"))
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		errs = append(errs, errors.New("concurrency: must be between 1 and 64"))
	}
	if c.ThrottleBackoff <= 0 || c.ThrottleBackoffMax < c.ThrottleBackoff {
		errs = append(errs, errors.New("throttle_backoff: must be positive and at most throttle_backoff_max"))
	}
	if c.ReconcileAfter <= 0 {
		errs = append(errs, errors.New("reconcile_after: must be positive"))
	}
	return errors.Join(errs...)
}

// checkURL accepts an absolute http(s) URL without credentials, query or
// fragment.
func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("must not be empty")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%q is not an http(s) URL", s)
	case u.User != nil:
		return errors.New("must not carry credentials; use token or oauth with secret references")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not carry a query or fragment")
	}
	return nil
}

// tokenURL returns the OAuth token endpoint.
func (o *OAuthConfig) tokenURL() string {
	if o.TokenURL == "" {
		return DefaultTokenURL
	}
	return o.TokenURL
}

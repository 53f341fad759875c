package zendesk

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/surveysync/surveysync/config"
)

// Defaults of the configuration.
const (
	// DefaultRateLimit is the account's requests per minute on Enterprise
	// plans (Team allows 200, Growth and Professional 400, the High Volume
	// add-on 2,500).
	DefaultRateLimit = 700
	// DefaultUpdateTicketLimit is the Update Ticket endpoint's requests per
	// minute per account.
	DefaultUpdateTicketLimit = 100
	// DefaultTimeout bounds one request attempt.
	DefaultTimeout = 30 * time.Second
	// DefaultConcurrency is how many requests are in flight at once.
	DefaultConcurrency = 4
	// DefaultJobPollInterval is the wait between two reads of an update_many
	// job's status.
	DefaultJobPollInterval = time.Second
	// DefaultJobTimeout is how long an update_many job may take.
	DefaultJobTimeout = 5 * time.Minute
	// DefaultReconcileAfter is how long after an update with a comment whose
	// outcome is unknown the ticket's comments are trusted to show it.
	DefaultReconcileAfter = 10 * time.Second
	// MaxBulk is the most tickets one update_many request names.
	MaxBulk = 100
)

// subdomainPattern is what a Zendesk subdomain may be: it becomes part of a
// host name, so nothing else may reach the URL.
var subdomainPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Config configures a Zendesk destination.
type Config struct {
	// Subdomain is the account's subdomain: acme for
	// https://acme.zendesk.com.
	Subdomain string `yaml:"subdomain"`
	// Endpoint overrides the API's base URL (default
	// https://{subdomain}.zendesk.com/api/v2), for a proxy or the sandbox.
	Endpoint string `yaml:"endpoint"`
	// Email is the agent the API token belongs to.
	Email string `yaml:"email"`
	// Token is the API token, sent as email/token basic authentication.
	Token config.Secret `yaml:"token"`
	// OAuthToken is an OAuth access token, sent as a bearer token, instead
	// of email and token.
	OAuthToken config.Secret `yaml:"oauth_token"`
	// RateLimit is the account's requests per minute: 200 (Team), 400
	// (Growth, Professional), 700 (Enterprise) or 2500 (High Volume).
	// Default 700. Every destination with the same credential shares it.
	RateLimit int `yaml:"rate_limit"`
	// UpdateTicketLimit is the Update Ticket endpoint's requests per minute.
	// Default 100.
	UpdateTicketLimit int `yaml:"update_ticket_limit"`
	// Timeout bounds one request attempt. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// Concurrency is how many requests are in flight at once. Default 4.
	Concurrency int `yaml:"concurrency"`
	// ThrottleBackoff is the first wait after a 429 without Retry-After;
	// it doubles on each further 429, up to 64s. Default 1s.
	ThrottleBackoff time.Duration `yaml:"throttle_backoff"`
	// JobPollInterval is the wait between reads of an update_many job's
	// status. Default 1s.
	JobPollInterval time.Duration `yaml:"job_poll_interval"`
	// JobTimeout is how long an update_many job may take before its
	// tickets are sent again. Default 5m.
	JobTimeout time.Duration `yaml:"job_timeout"`
	// ReconcileAfter is how long after an update with a comment whose
	// outcome is unknown a look at the ticket's comments that does not find
	// it is trusted. Default 10s.
	ReconcileAfter time.Duration `yaml:"reconcile_after"`
	// AllowPrivateNetwork lets the endpoint's name resolve to an internal
	// address (loopback, a private network, link-local, carrier-grade NAT),
	// for a proxy on the operator's own network. Without it such a
	// connection is refused when it is made. An endpoint written as an
	// address, or as localhost, needs no such setting. Cloud metadata
	// addresses stay refused.
	AllowPrivateNetwork bool `yaml:"allow_private_network"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{
		RateLimit:         DefaultRateLimit,
		UpdateTicketLimit: DefaultUpdateTicketLimit,
		Timeout:           DefaultTimeout,
		Concurrency:       DefaultConcurrency,
		ThrottleBackoff:   time.Second,
		JobPollInterval:   DefaultJobPollInterval,
		JobTimeout:        DefaultJobTimeout,
		ReconcileAfter:    DefaultReconcileAfter,
	}
}

// Validate checks the configuration without I/O and returns every problem.
func (c *Config) Validate() error {
	var errs []error
	switch {
	case c.Subdomain == "" && c.Endpoint == "":
		errs = append(errs, errors.New("subdomain: set the account's subdomain (acme for https://acme.zendesk.com), or an endpoint"))
	case c.Subdomain != "" && !subdomainPattern.MatchString(c.Subdomain):
		errs = append(errs, fmt.Errorf("subdomain: %q is not a Zendesk subdomain (lowercase letters, digits and -, such as acme for https://acme.zendesk.com)", c.Subdomain))
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, fmt.Errorf("endpoint: %q is not an http(s) URL", c.Endpoint))
		case u.User != nil:
			errs = append(errs, errors.New("endpoint: must not carry credentials; use email and token, or oauth_token"))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, errors.New("endpoint: must not carry a query or fragment"))
		}
	}
	switch {
	case c.OAuthToken.IsSet() && (c.Token.IsSet() || c.Email != ""):
		errs = append(errs, errors.New("oauth_token: choose email and token, or oauth_token, not both"))
	case c.OAuthToken.IsSet():
	case !c.Token.IsSet() || c.Email == "":
		errs = append(errs, errors.New("token: set email and an API token such as \"${env:ZENDESK_TOKEN}\", or oauth_token"))
	case !strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " :/"):
		errs = append(errs, fmt.Errorf("email: %q is not an email address", c.Email))
	}
	if c.RateLimit < 1 {
		errs = append(errs, errors.New("rate_limit: must be at least 1 request per minute (Zendesk plans allow 200, 400, 700 or 2500)"))
	}
	if c.UpdateTicketLimit < 1 {
		errs = append(errs, errors.New("update_ticket_limit: must be at least 1 request per minute (Zendesk allows 100)"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be positive"))
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		errs = append(errs, errors.New("concurrency: must be between 1 and 64"))
	}
	if c.ThrottleBackoff <= 0 {
		errs = append(errs, errors.New("throttle_backoff: must be positive"))
	}
	if c.JobPollInterval <= 0 || c.JobTimeout < c.JobPollInterval {
		errs = append(errs, errors.New("job_poll_interval: must be positive and shorter than job_timeout"))
	}
	if c.ReconcileAfter <= 0 {
		errs = append(errs, errors.New("reconcile_after: must be positive"))
	}
	return errors.Join(errs...)
}

// endpoint returns the API's base URL, without a trailing slash.
func (c *Config) endpoint() string {
	if c.Endpoint != "" {
		return strings.TrimSuffix(c.Endpoint, "/")
	}
	return "https://" + c.Subdomain + ".zendesk.com/api/v2"
}

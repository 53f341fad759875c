package httpreq

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
)

// Config configures a generic HTTP destination.
type Config struct {
	// Endpoint is the base URL every request path is appended to, such as
	// https://api.example.com/v1. Response data never changes the host: the
	// mapping only supplies a path.
	Endpoint string `yaml:"endpoint"`
	// Auth adds credentials to every request.
	Auth connectors.AuthConfig `yaml:"auth"`
	// Headers are added to every request; values are plain text (put
	// credentials under auth).
	Headers map[string]string `yaml:"headers"`
	// IdempotencyHeader names the header that carries the mapping's
	// idempotency_key. Default Idempotency-Key.
	IdempotencyHeader string `yaml:"idempotency_header"`
	// Idempotent declares that every request of this destination may be
	// re-sent after an unknown outcome (for example PUTs that set fields).
	// Requests with an idempotency key are always treated as idempotent.
	Idempotent bool `yaml:"idempotent"`
	// Timeout bounds one attempt. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// RateLimit paces requests: at most Requests per Per. Default none.
	RateLimit RateLimit `yaml:"rate_limit"`
	// ThrottleBackoff is the first wait after a 429 that names no
	// Retry-After; it doubles on each further 429, up to 64s. Default 1s.
	ThrottleBackoff time.Duration `yaml:"throttle_backoff"`
	// Concurrency is how many requests are in flight at once for mappings
	// that send one request per response. Default 4.
	Concurrency int `yaml:"concurrency"`
	// Status classifies answers by status code. Codes are written as
	// numbers (404) or classes (4xx).
	Status StatusClasses `yaml:"status"`
	// Capture lists response-body fields (dotted paths) whose values are
	// recorded as the delivery's reference, such as id.
	Capture []string `yaml:"capture"`
	// AllowPrivateNetwork lets the endpoint's name resolve to an internal
	// address (loopback, a private network, link-local, carrier-grade NAT),
	// for an API on the operator's own network. Without it such a
	// connection is refused when it is made. An endpoint written as an
	// address, or as localhost, needs no such setting. Cloud metadata
	// addresses stay refused.
	AllowPrivateNetwork bool `yaml:"allow_private_network"`
}

// RateLimit is a request budget.
type RateLimit struct {
	Requests int           `yaml:"requests"`
	Per      time.Duration `yaml:"per"`
}

// StatusClasses maps status codes to outcomes.
type StatusClasses struct {
	// Success codes settle the delivery as delivered. Default [2xx].
	Success []string `yaml:"success"`
	// Retry codes are retried (429 waits for Retry-After). Default
	// [408, 429, 5xx].
	Retry []string `yaml:"retry"`
	// Everything else is permanent: dead-lettered with the answer's text.
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{
		IdempotencyHeader: "Idempotency-Key",
		Timeout:           30 * time.Second,
		ThrottleBackoff:   time.Second,
		Concurrency:       4,
		Status: StatusClasses{
			Success: []string{"2xx"},
			Retry:   []string{"408", "429", "5xx"},
		},
	}
}

// Validate checks the configuration without I/O.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.Endpoint)
	switch {
	case c.Endpoint == "":
		errs = append(errs, errors.New("endpoint: set the base URL, such as https://api.example.com"))
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		errs = append(errs, fmt.Errorf("endpoint: %q is not an http(s) URL", c.Endpoint))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, errors.New("endpoint: must not carry a query or fragment; put query parameters in the mapping"))
	case u.User != nil:
		errs = append(errs, errors.New("endpoint: must not carry credentials; use auth with a secret reference"))
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, err)
	}
	for k := range c.Headers {
		if strings.EqualFold(k, "Authorization") {
			errs = append(errs, errors.New("headers: put Authorization under auth, as a secret reference"))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be positive"))
	}
	if c.Concurrency < 1 || c.Concurrency > 64 {
		errs = append(errs, errors.New("concurrency: must be between 1 and 64"))
	}
	if (c.RateLimit.Requests > 0) != (c.RateLimit.Per > 0) {
		errs = append(errs, errors.New("rate_limit: set both requests and per"))
	}
	for _, list := range [][]string{c.Status.Success, c.Status.Retry} {
		for _, s := range list {
			if _, _, err := parseStatus(s); err != nil {
				errs = append(errs, fmt.Errorf("status: %w", err))
			}
		}
	}
	return errors.Join(errs...)
}

// parseStatus reads "404" or "4xx" as an inclusive range.
func parseStatus(s string) (int, int, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if len(s) == 3 && strings.HasSuffix(s, "xx") && s[0] >= '1' && s[0] <= '5' {
		lo := int(s[0]-'0') * 100
		return lo, lo + 99, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 {
		return 0, 0, fmt.Errorf("%q is not a status code such as 404 or a class such as 4xx", s)
	}
	return n, n, nil
}

func inClasses(code int, list []string) bool {
	for _, s := range list {
		lo, hi, err := parseStatus(s)
		if err == nil && code >= lo && code <= hi {
			return true
		}
	}
	return false
}

package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Secret is a credential written in a file only as a reference:
// ${env:NAME} reads an environment variable and ${file:path} reads a file
// (relative paths are relative to the file the reference is in). Text around
// references is kept, so "Bearer ${env:TOKEN}" is allowed; a value with no
// reference at all is refused, so a literal secret never sits in a config
// file. A Secret prints as its reference, never as its value.
type Secret struct {
	text string
	base string
	pos  Pos
}

var secretRef = regexp.MustCompile(`\$\{(env|file):([^}]*)\}`)

// UnmarshalNode implements Unmarshaler.
func (s *Secret) UnmarshalNode(n *Node) error {
	if n.Kind != ScalarNode {
		return Errorf(n.Pos, "expected a secret reference such as \"${env:NAME}\", got %s", n.Kind)
	}
	sec, err := ParseSecret(n.Value, filepath.Dir(n.Pos.File))
	if err != nil {
		return &Error{Pos: n.Pos, Msg: err.Error()}
	}
	sec.pos = n.Pos
	*s = sec
	return nil
}

// ParseSecret parses a secret reference; base is the directory relative
// ${file:...} paths start from.
func ParseSecret(text, base string) (Secret, error) {
	refs := secretRef.FindAllStringSubmatch(text, -1)
	if len(refs) == 0 {
		return Secret{}, fmt.Errorf("a literal secret is not allowed here; write a reference such as \"${env:NAME}\" or \"${file:/path/to/secret}\"")
	}
	for _, r := range refs {
		if strings.TrimSpace(r[2]) == "" {
			return Secret{}, fmt.Errorf("empty secret reference %q", r[0])
		}
	}
	if strings.Contains(secretRef.ReplaceAllString(text, ""), "${") {
		return Secret{}, fmt.Errorf("malformed secret reference in %q; only ${env:NAME} and ${file:path} are understood", text)
	}
	return Secret{text: text, base: base}, nil
}

// IsSet reports whether the secret was given at all.
func (s Secret) IsSet() bool { return s.text != "" }

// String returns the reference as written, never the value.
func (s Secret) String() string { return s.text }

// MarshalText returns the reference as written, never the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.text), nil }

// Pos returns where the secret was written.
func (s Secret) Pos() Pos { return s.pos }

// Resolve reads the secret's value. Every resolved value is remembered by
// the redactor, so it is masked wherever Redact is applied.
func (s Secret) Resolve() (string, error) {
	var firstErr error
	out := secretRef.ReplaceAllStringFunc(s.text, func(ref string) string {
		m := secretRef.FindStringSubmatch(ref)
		v, err := resolveRef(m[1], strings.TrimSpace(m[2]), s.base)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	if firstErr != nil {
		return "", firstErr
	}
	rememberSecret(out)
	return out, nil
}

// Check reports whether the secret can be resolved here, without keeping
// or showing its value.
func (s Secret) Check() error {
	_, err := s.Resolve()
	return err
}

func resolveRef(kind, name, base string) (string, error) {
	switch kind {
	case "env":
		v, ok := os.LookupEnv(name)
		if !ok {
			return "", fmt.Errorf("secret ${env:%s}: environment variable %s is not set", name, name)
		}
		rememberSecret(v)
		return v, nil
	default:
		path := name
		if !filepath.IsAbs(path) && base != "" {
			path = filepath.Join(base, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("secret ${file:%s}: %w", name, unwrapPathError(err))
		}
		v := strings.TrimRight(string(b), "\r\n")
		rememberSecret(v)
		return v, nil
	}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("cannot read %s: %w", pe.Path, pe.Err)
	}
	return err
}

// The redactor: every secret value resolved in this process.
var (
	secretsMu sync.RWMutex
	secrets   = map[string]struct{}{}
	replacer  *strings.Replacer
)

// minRedactLen keeps very short values (which would mask ordinary words)
// out of the redactor.
const minRedactLen = 4

func rememberSecret(v string) {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	addSecret(v)
}

// addSecret adds v to the redactor and reports whether it was new. The
// caller holds secretsMu.
func addSecret(v string) bool {
	if len(v) < minRedactLen {
		return false
	}
	if _, ok := secrets[v]; ok {
		return false
	}
	secrets[v] = struct{}{}
	replacer = nil
	return true
}

// maxRuntimeSecrets bounds the values RememberSecret keeps: access tokens
// are refreshed about hourly and expire soon after, so only the recent ones
// can still appear in a message.
const maxRuntimeSecrets = 64

// runtimeSecrets are the values RememberSecret added, oldest first.
var runtimeSecrets []string

// RememberSecret adds a value obtained at run time, such as a refreshed
// access token, to the redactor. It keeps the latest 64 such values; older
// ones, long expired, are dropped.
func RememberSecret(v string) {
	secretsMu.Lock()
	defer secretsMu.Unlock()
	if !addSecret(v) {
		return
	}
	runtimeSecrets = append(runtimeSecrets, v)
	if len(runtimeSecrets) > maxRuntimeSecrets {
		delete(secrets, runtimeSecrets[0])
		runtimeSecrets = runtimeSecrets[1:]
	}
}

// Redact replaces every known secret value in s with "[redacted]".
func Redact(s string) string {
	secretsMu.RLock()
	r := replacer
	n := len(secrets)
	secretsMu.RUnlock()
	if n == 0 {
		return s
	}
	if r == nil {
		secretsMu.Lock()
		if replacer == nil {
			// Longer values first, so a secret that contains another is
			// masked whole.
			values := make([]string, 0, len(secrets))
			for v := range secrets {
				values = append(values, v)
			}
			sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
			pairs := make([]string, 0, 2*len(values))
			for _, v := range values {
				pairs = append(pairs, v, "[redacted]")
			}
			replacer = strings.NewReplacer(pairs...)
		}
		r = replacer
		secretsMu.Unlock()
	}
	return r.Replace(s)
}

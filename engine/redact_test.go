package engine_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/engine"
)

// canarySecret returns a random secret value that the redactor knows, as
// config.Secret.Resolve would have made it known.
func canarySecret(t *testing.T, label string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	s := "canary-" + label + "-" + hex.EncodeToString(b)
	config.RememberSecret(s)
	return s
}

// secretValuer logs as a group that holds a secret, the way a credential
// type with a LogValue method might.
type secretValuer struct{ token string }

func (v secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", "ops"), slog.String("token", v.token))
}

// secretStringer prints a secret through fmt.
type secretStringer struct{ token string }

func (s secretStringer) String() string { return "Bearer " + s.token }

// TestRedactingHandlerMasksSecrets logs a known secret in every place a
// log line can carry a value (the message, attributes, nested groups,
// wrapped errors, With attributes, groups opened with WithGroup, LogValuer
// and Stringer values, structs and slices) through the JSON and the text
// handlers, and checks that the secret is never written while what
// surrounds it is, with "[redacted]" in its place.
func TestRedactingHandlerMasksSecrets(t *testing.T) {
	secret := canarySecret(t, "redact")
	// A secret that contains another one is masked whole, not as
	// "[redacted]" around the remains of the longer one.
	inner := canarySecret(t, "inner")
	outer := "outer-" + inner + "-tail"
	config.RememberSecret(outer)

	cases := []struct {
		name string
		log  func(l *slog.Logger)
		// want are fragments the text handler's line must contain.
		want []string
	}{
		{"message", func(l *slog.Logger) {
			l.Info("refresh with " + secret + " failed")
		}, []string{`msg="refresh with [redacted] failed"`}},
		{"string attribute", func(l *slog.Logger) {
			l.Info("calling", "authorization", "Bearer "+secret, "attempt", 2)
		}, []string{`authorization="Bearer [redacted]"`, "attempt=2"}},
		{"attribute that is only the secret", func(l *slog.Logger) {
			l.Warn("token", slog.String("token", secret))
		}, []string{"token=[redacted]"}},
		{"secret twice in one value", func(l *slog.Logger) {
			l.Info("x", "v", secret+","+secret)
		}, []string{"v=[redacted],[redacted]"}},
		{"nested groups", func(l *slog.Logger) {
			l.Info("request", slog.Group("http", slog.String("method", "POST"),
				slog.Group("header", slog.String("Authorization", "Basic "+secret), slog.Int("n", 1))))
		}, []string{"http.method=POST", `http.header.Authorization="Basic [redacted]"`, "http.header.n=1"}},
		{"inlined group", func(l *slog.Logger) {
			l.Info("x", slog.Group("", slog.String("k", secret)))
		}, []string{"k=[redacted]"}},
		{"wrapped error", func(l *slog.Logger) {
			base := errors.New("401 from upstream: token " + secret + " is invalid")
			l.Error("delivery failed", "err", fmt.Errorf("POST /contacts: %w", fmt.Errorf("attempt 3: %w", base)))
		}, []string{`err="POST /contacts: attempt 3: 401 from upstream: token [redacted] is invalid"`}},
		{"joined errors", func(l *slog.Logger) {
			l.Error("x", "err", errors.Join(errors.New("first"), errors.New("second "+secret)))
		}, []string{`err="first\nsecond [redacted]"`}},
		{"error in a group", func(l *slog.Logger) {
			l.Error("x", slog.Group("cause", slog.Any("err", errors.New("bad "+secret))))
		}, []string{`cause.err="bad [redacted]"`}},
		{"With attributes", func(l *slog.Logger) {
			l.With("credential", secret, slog.Group("g", slog.String("k", "x"+secret))).Info("with")
		}, []string{"credential=[redacted]", "g.k=x[redacted]"}},
		{"With error attribute", func(l *slog.Logger) {
			l.With("err", errors.New("refused "+secret)).Info("with error")
		}, []string{`err="refused [redacted]"`}},
		{"WithGroup then attributes", func(l *slog.Logger) {
			l.WithGroup("dest").With("token", secret).Info("grouped", "reason", "because "+secret)
		}, []string{"dest.token=[redacted]", `dest.reason="because [redacted]"`}},
		{"LogValuer", func(l *slog.Logger) {
			l.Info("x", "cred", secretValuer{token: secret})
		}, []string{"cred.user=ops", "cred.token=[redacted]"}},
		{"LogValuer in a group", func(l *slog.Logger) {
			l.Info("x", slog.Group("g", slog.Any("cred", secretValuer{token: secret})))
		}, []string{"g.cred.token=[redacted]"}},
		{"LogValuer in With", func(l *slog.Logger) {
			l.With("cred", secretValuer{token: secret}).Info("x")
		}, []string{"cred.token=[redacted]"}},
		{"Stringer", func(l *slog.Logger) {
			l.Info("x", "auth", secretStringer{token: secret})
		}, []string{`auth="Bearer [redacted]"`}},
		{"struct", func(l *slog.Logger) {
			l.Info("x", "cfg", struct{ Email, Token string }{"a@b.example", secret})
		}, []string{`cfg="{a@b.example [redacted]}"`}},
		{"slice and map", func(l *slog.Logger) {
			l.Info("x", "list", []string{"a", secret}, "headers", map[string]string{"X-Api-Key": secret})
		}, []string{`list="[a [redacted]]"`, "headers=map[X-Api-Key:[redacted]]"}},
		{"argument without a key", func(l *slog.Logger) {
			args := []any{"token=" + secret} // a key with no value, as slog reads it
			l.Info("x", args...)
		}, []string{`!BADKEY="token=[redacted]"`}},
		{"secret in an attribute key", func(l *slog.Logger) {
			l.Info("x", secret, "v", slog.Group(secret, slog.Int("n", 1)))
		}, []string{"[redacted]=v", "[redacted].n=1"}},
		{"secret in a group name", func(l *slog.Logger) {
			l.WithGroup("by-"+secret).Info("x", "n", 1)
		}, []string{"by-[redacted].n=1"}},
		{"secret inside a longer secret", func(l *slog.Logger) {
			l.Info("x", "a", outer, "b", inner)
		}, []string{"a=[redacted]", "b=[redacted]"}},
		{"values that are not secrets", func(l *slog.Logger) {
			l.Info("plain", "n", 42, "ok", true, "s", "canary-redact-but-not-the-value")
		}, []string{"n=42", "ok=true", "s=canary-redact-but-not-the-value"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var text, js bytes.Buffer
			tc.log(slog.New(engine.NewRedactingHandler(slog.NewTextHandler(&text, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			tc.log(slog.New(engine.NewRedactingHandler(slog.NewJSONHandler(&js, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			for name, out := range map[string]string{"text": text.String(), "json": js.String()} {
				for _, s := range []string{secret, inner, outer, strings.TrimPrefix(secret, "canary-")} {
					if strings.Contains(out, s) {
						t.Errorf("%s handler wrote the secret %q:\n%s", name, s, out)
					}
				}
				if !strings.Contains(out, "[redacted]") && tc.name != "values that are not secrets" {
					t.Errorf("%s handler shows no [redacted] mark:\n%s", name, out)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(text.String(), w) {
					t.Errorf("text output lacks %s:\n%s", w, text.String())
				}
			}
			var rec map[string]any
			if err := json.Unmarshal(js.Bytes(), &rec); err != nil {
				t.Errorf("the JSON handler's line is not JSON: %v\n%s", err, js.String())
			}
		})
	}
}

// TestRedactingHandlerKeepsTypesAndLevels checks that redaction leaves
// what is not a string alone: numbers stay JSON numbers, and the level
// filter of the wrapped handler still applies.
func TestRedactingHandlerKeepsTypesAndLevels(t *testing.T) {
	secret := canarySecret(t, "types")
	var js bytes.Buffer
	l := slog.New(engine.NewRedactingHandler(slog.NewJSONHandler(&js, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Debug("hidden " + secret)
	if js.Len() != 0 {
		t.Fatalf("a debug line passed an info-level handler: %s", js.String())
	}
	l.Info("shown", "count", 3, "ratio", 0.5, "ok", true, "token", secret)
	var rec map[string]any
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["count"] != float64(3) || rec["ratio"] != 0.5 || rec["ok"] != true {
		t.Errorf("non-string values changed: %v", rec)
	}
	if rec["token"] != "[redacted]" {
		t.Errorf("token = %v, want [redacted]", rec["token"])
	}
}

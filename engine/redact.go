package engine

import (
	"context"
	"log/slog"

	"github.com/surveysync/surveysync/config"
)

// redactingHandler masks every known secret value in log messages,
// attribute values, attribute keys and group names before they reach the
// underlying handler.
type redactingHandler struct {
	h slog.Handler
}

// NewRedactingHandler wraps h so that no resolved secret (see
// config.Redact) is ever written to the log.
func NewRedactingHandler(h slog.Handler) slog.Handler { return &redactingHandler{h: h} }

func (r *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return r.h.Enabled(ctx, l)
}

func (r *redactingHandler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, config.Redact(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.h.Handle(ctx, out)
}

func (r *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = redactAttr(a)
	}
	return &redactingHandler{h: r.h.WithAttrs(red)}
}

func (r *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{h: r.h.WithGroup(config.Redact(name))}
}

// redactAttr masks secrets in a's key and value. Strings, errors and any
// other value printed through fmt become redacted strings; groups are
// redacted member by member; numbers, booleans and times are kept.
func redactAttr(a slog.Attr) slog.Attr {
	a.Key = config.Redact(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, config.Redact(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, g := range attrs {
			out[i] = redactAttr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, config.Redact(err.Error()))
		}
		return slog.String(a.Key, config.Redact(v.String()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

package config

import (
	"path/filepath"
	"testing"
)

// FuzzLoad checks that any file, however broken, yields a configuration or
// positioned errors, never a panic or a hang.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("store: sqlite:./x.db\nsources:\n  a: {type: webhook, path: /x}\n"))
	f.Add([]byte("syncs:\n  - {source: a, mapping: m.yaml, to: b}\n"))
	f.Add([]byte("scores:\n  - {name: w, schedule: \"@hourly\", timezone: Europe/Berlin}\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Add([]byte("{{{{"))
	f.Add([]byte("dispatch: {batch_size: -1, lease: 1ms}\n"))
	f.Add([]byte("\xff\xfe"))
	f.Add([]byte("000\n---"))
	f.Add([]byte("a: 1\n---\n---\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, errs := LoadBytes(filepath.Join(dir, "surveysync.yaml"), src)
		for _, e := range errs {
			if e.Msg == "" {
				t.Fatalf("an error without a message: %+v", e)
			}
		}
		if cfg == nil && len(errs) == 0 {
			t.Fatal("no configuration and no error")
		}
	})
}

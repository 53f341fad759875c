package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surveysync/surveysync/engine"
)

// The end-to-end tests run the real binary, built once per test run. It is
// built without the race detector (which slows the pure-Go SQLite tenfold
// and would make the 10,000- and 50,000-response runs crawl); the packages'
// own tests run under -race. SURVEYSYNC_E2E_RACE=1 builds it with -race.
var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func buildBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "surveysync-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "surveysync")
		args := []string{"build", "-o", binPath}
		if raceEnabled && os.Getenv("SURVEYSYNC_E2E_RACE") == "1" {
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, ".")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// daemon is a running surveysync process.
type daemon struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	mu     *sync.Mutex
	env    []string
	waitCh chan error
}

type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func startDaemon(t *testing.T, dir string, env ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, dir: dir, logs: &bytes.Buffer{}, mu: &sync.Mutex{}, env: env}
	d.start()
	return d
}

func (d *daemon) start() {
	d.t.Helper()
	d.cmd = exec.Command(buildBinary(d.t), "run", "--config", filepath.Join(d.dir, "surveysync.yaml"))
	d.cmd.Env = append(os.Environ(), d.env...)
	w := lockedBuffer{mu: d.mu, buf: d.logs}
	d.cmd.Stdout, d.cmd.Stderr = w, w
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.waitCh = make(chan error, 1)
	go func() { d.waitCh <- d.cmd.Wait() }()
	d.t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			_ = d.cmd.Process.Kill()
			<-d.waitCh
		}
	})
}

// kill9 kills the daemon the way a crash or the OOM killer would.
func (d *daemon) kill9() {
	d.t.Helper()
	_ = d.cmd.Process.Kill()
	<-d.waitCh
}

// stop sends SIGTERM and waits for a graceful exit.
func (d *daemon) stop() error {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-d.waitCh:
		return err
	case <-time.After(45 * time.Second):
		_ = d.cmd.Process.Kill()
		return fmt.Errorf("daemon did not stop within 45s")
	}
}

func (d *daemon) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

// cli runs a one-shot command against the same configuration.
func cli(t testing.TB, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append(args, "--config", filepath.Join(dir, "surveysync.yaml"))...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

func readStatus(t *testing.T, dir string, env []string) *engine.Status {
	t.Helper()
	out, errOut, code := cli(t, dir, env, "status", "--json")
	if code != 0 {
		t.Fatalf("status exited %d: %s", code, errOut)
	}
	var s engine.Status
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return &s
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitReady waits until the daemon listening on listen answers /readyz
// with 200.
func waitReady(t *testing.T, listen string) {
	t.Helper()
	waitFor(t, 30*time.Second, "the daemon to be ready", func() bool {
		resp, err := http.Get("http://" + listen + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
}

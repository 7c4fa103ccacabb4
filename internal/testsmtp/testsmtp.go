// Package testsmtp gives tests a real SMTP server to send mail to: Mailpit,
// an SMTP sink whose HTTP API lists what it received. The binary is built
// once from the version pinned in ./mailpit (a separate module) into the
// user's cache directory, and one instance serves every test of a test
// binary; tests tell their messages apart by recipient.
package testsmtp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testnet"
)

// Version is the Mailpit version pinned in ./mailpit/go.mod.
const Version = "v1.27.11"

// Server is a running Mailpit.
type Server struct {
	smtpAddr string
	apiURL   string
	cmd      *exec.Cmd
	done     chan struct{}
	logs     *lockedWriter
}

// Message is one received email as Mailpit parsed it.
type Message struct {
	ID      string
	From    string
	To      []string
	Subject string
	Text    string
	HTML    string
	Headers map[string][]string
}

var (
	mu     sync.Mutex
	shared *Server
	users  int
)

// Start returns the test binary's Mailpit, starting it if no test is using
// it, and releases it when t ends (it stops when its last user ends).
// A test calling Start must not run in a binary where Mailpit cannot be
// built; it fails, it does not skip.
func Start(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		s, err := start()
		if err != nil {
			t.Fatalf("testsmtp: %v", err)
		}
		shared = s
	}
	users++
	s := shared
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		users--
		if users == 0 && shared == s {
			s.stop()
			shared = nil
		}
	})
	return s
}

// Addr is the SMTP server's host:port (no TLS, no auth required; any
// credentials are accepted).
func (s *Server) Addr() string { return s.smtpAddr }

// APIURL is the base URL of Mailpit's HTTP API and web UI.
func (s *Server) APIURL() string { return s.apiURL }

// Messages returns every message received so far, newest first.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	ms, err := s.search("")
	if err != nil {
		t.Fatalf("testsmtp: %v", err)
	}
	return ms
}

// To returns the messages received so far for address to, newest first.
// Mailpit matches the To header, not the SMTP envelope.
func (s *Server) To(t testing.TB, to string) []Message {
	t.Helper()
	ms, err := s.search(to)
	if err != nil {
		t.Fatalf("testsmtp: %v", err)
	}
	return ms
}

// WaitFor waits up to 10 seconds for at least one message to address to,
// and returns all messages to it, newest first.
func (s *Server) WaitFor(t testing.TB, to string) []Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms, err := s.search(to)
		if err != nil {
			t.Fatalf("testsmtp: %v", err)
		}
		if len(ms) > 0 {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("testsmtp: no message to %s within 10s", to)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type summary struct {
	ID   string
	From struct{ Address string }
	To   []struct{ Address string }
}

func (s *Server) search(to string) ([]Message, error) {
	var list struct{ Messages []summary }
	path := "/api/v1/messages?limit=1000"
	if to != "" {
		path = "/api/v1/search?limit=1000&query=" + url.QueryEscape(`to:"`+to+`"`)
	}
	if err := s.get(path, &list); err != nil {
		return nil, err
	}
	var out []Message
	for _, sm := range list.Messages {
		// Mailpit's to: search matches substrings; keep exact recipients.
		if to != "" && !hasRecipient(sm, to) {
			continue
		}
		var full struct {
			ID      string
			From    struct{ Address string }
			To      []struct{ Address string }
			Subject string
			Text    string
			HTML    string
		}
		if err := s.get("/api/v1/message/"+sm.ID, &full); err != nil {
			return nil, err
		}
		m := Message{ID: full.ID, From: full.From.Address, Subject: full.Subject, Text: full.Text, HTML: full.HTML}
		for _, a := range full.To {
			m.To = append(m.To, a.Address)
		}
		if err := s.get("/api/v1/message/"+sm.ID+"/headers", &m.Headers); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func hasRecipient(sm summary, to string) bool {
	for _, a := range sm.To {
		if strings.EqualFold(a.Address, to) {
			return true
		}
	}
	return false
}

func (s *Server) get(path string, v any) error {
	resp, err := http.Get(s.apiURL + path)
	if err != nil {
		return fmt.Errorf("mailpit API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("mailpit API GET %s: %s: %s", path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Binary returns the path of the pinned Mailpit binary, building it into
// the user's cache directory first if it is not there. $VOW_MAILPIT names
// a binary to use instead.
func Binary() (string, error) {
	if p := os.Getenv("VOW_MAILPIT"); p != "" {
		return p, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the mailpit binary: %w", err)
	}
	bin := filepath.Join(cache, "vow", "bin", "mailpit-"+Version)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the testsmtp source directory")
	}
	modDir := filepath.Join(filepath.Dir(self), "mailpit")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	// Build to a temporary name and rename, so that test binaries building
	// at the same time never run a half-written file.
	tmp := fmt.Sprintf("%s.%d.tmp", bin, os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, "github.com/axllent/mailpit")
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("building mailpit %s (in %s): %v\n%s", Version, modDir, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", err
	}
	return bin, nil
}

func start() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port can be taken between probing and binding
		s, err := launch(bin)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func launch(bin string) (*Server, error) {
	smtpPort, err := testnet.FreePort()
	if err != nil {
		return nil, err
	}
	httpPort, err := testnet.FreePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "vow-mailpit-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		smtpAddr: fmt.Sprintf("127.0.0.1:%d", smtpPort),
		apiURL:   fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		done:     make(chan struct{}),
		logs:     &lockedWriter{},
	}
	s.cmd = exec.Command(bin,
		"--smtp", s.smtpAddr,
		"--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--max", "0",
		"--smtp-auth-accept-any", "--smtp-auth-allow-insecure",
		"--disable-version-check",
		"--quiet",
	)
	s.cmd.Stdout = s.logs
	s.cmd.Stderr = s.cmd.Stdout
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() {
		_ = s.cmd.Wait()
		os.RemoveAll(dir)
		close(s.done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if err := s.ready(); err == nil {
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("mailpit exited at start: %s", s.logs.String())
		case <-ctx.Done():
			s.stop()
			return nil, fmt.Errorf("mailpit did not answer within 20s: %s", s.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) ready() error {
	c, err := net.DialTimeout("tcp", s.smtpAddr, time.Second)
	if err != nil {
		return err
	}
	c.Close()
	var info map[string]any
	return s.get("/api/v1/info", &info)
}

func (s *Server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// lockedWriter keeps the first 64 KiB of Mailpit's output for errors.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() < 64<<10 {
		w.b.Write(p)
	}
	return len(p), nil
}

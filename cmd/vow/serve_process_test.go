package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
)

// TestHelperServe is not a test: TestTwoProcesses runs this test binary
// again with VOW_HELPER_ARGS set, making the child process a `vow` command.
func TestHelperServe(t *testing.T) {
	args := os.Getenv("VOW_HELPER_ARGS")
	if args == "" {
		t.Skip("helper process for TestTwoProcesses")
	}
	ctx, stop := context.WithCancel(context.Background())
	go func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGTERM, os.Interrupt)
		<-ch
		stop()
	}()
	os.Exit(run(ctx, strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// TestTwoProcesses runs two `vow serve` processes on one PostgreSQL state
// store: a consent change made through either is seen by the other within
// a second, and both stop gracefully on SIGTERM.
func TestTwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes; skipped with -short")
	}
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	pol := demoPolicy(t, dir)
	stateURL := testdb.Postgres(t)
	code, out, errOut := vow(t, "token", "create", "app", "--scope", "consent", "--state", stateURL, "--data-dir", data, "--format", "json")
	if code != 0 {
		t.Fatalf("token: %s %s", out, errOut)
	}
	var tok struct{ Secret string }
	_ = json.Unmarshal([]byte(out), &tok)

	start := func() (string, *exec.Cmd) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServe$")
		cmd.Env = append(os.Environ(), "VOW_HELPER_ARGS="+strings.Join([]string{"serve", pol, "--addr", "127.0.0.1:0", "--state", stateURL, "--data-dir", data}, "\x1f"))
		stdout, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		urls := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			re := regexp.MustCompile(`listening on (http://\S+)`)
			for sc.Scan() {
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					urls <- m[1]
				}
			}
		}()
		select {
		case u := <-urls:
			return u, cmd
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("vow serve did not start")
		}
		return "", nil
	}
	a, pa := start()
	b, pb := start()
	defer func() {
		for _, p := range []*exec.Cmd{pa, pb} {
			_ = p.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- p.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("vow serve exited: %v", err)
				}
			case <-time.After(20 * time.Second):
				_ = p.Process.Kill()
				t.Error("vow serve did not stop on SIGTERM")
			}
		}
	}()

	do := func(method, url, body string) string {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.Secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
		}
		return string(b)
	}
	allowed := func(base string) bool {
		return strings.Contains(do("GET", base+"/v1/consent/user-77?purpose=marketing", ""), `"allowed":true`)
	}
	for i, want := range []bool{true, false} {
		writer, reader := []string{a, b}[i], []string{b, a}[i]
		if allowed(reader) == want {
			t.Fatalf("step %d: already %v", i, want)
		}
		status := map[bool]string{true: "granted", false: "withdrawn"}[want]
		do("POST", writer+"/v1/consent/user-77", `{"purposes":{"marketing":"`+status+`"}}`)
		deadline := time.Now().Add(time.Second)
		for allowed(reader) != want {
			if time.Now().After(deadline) {
				t.Fatalf("step %d: the other process did not see the change within a second", i)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

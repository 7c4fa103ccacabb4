package dsr_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/keyring"
)

// TestSIGKILLResume kills the vow binary with SIGKILL in the middle of an
// erasure and checks that the next run resumes it and finishes correctly.
func TestSIGKILLResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the vow binary")
	}
	t.Parallel()
	f := newFixture(t, "postgres")
	dir := t.TempDir()
	bin := filepath.Join(dir, "vow")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/vowprivacy/vow/cmd/vow").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	src, _ := os.ReadFile("testdata/policy.yaml")
	policyFile := filepath.Join(dir, "vow.yaml")
	os.WriteFile(policyFile, bytes.Replace(src, []byte("KIND"), []byte("postgres"), 1), 0o644)
	vow := func(args ...string) *exec.Cmd {
		args = append(args, "--state", filepath.Join(dir, "state.db"), "--data-dir", filepath.Join(dir, "data"))
		if args[0] == "request" {
			args = append(args, "--policy", policyFile)
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "APP_DSN="+f.appDSN, "BILLING_DSN="+f.bill, "VOW_MASTER_KEY=")
		return cmd
	}
	out, err := vow("request", "create", "--type", "erasure", "--email", "ada@example.com", "--trusted", "--format", "json").Output()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	var r dsr.Request
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("create output %q: %v", out, err)
	}

	run := vow("request", "run", r.ID, "--pause", "400ms")
	stdout, _ := run.StdoutPipe()
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		// The billing system is done and committed; the app system's
		// transaction is half-way (posts deleted, users not yet).
		if strings.Contains(sc.Text(), "app:posts") {
			run.Process.Signal(syscall.SIGKILL)
			killed = true
			break
		}
	}
	run.Wait()
	if !killed {
		t.Fatal("the run finished before it could be killed")
	}
	if got := query(t, "postgres", f.appDSN, "SELECT count(*) FROM posts"); got[0] != "3" {
		t.Errorf("posts after SIGKILL = %s, want 3 (the app transaction rolled back)", got[0])
	}
	if got := query(t, "sqlite", f.bill, "SELECT count(*) FROM customers"); got[0] != "1" {
		t.Errorf("billing customers after SIGKILL = %s, want 1 (billing committed before the kill)", got[0])
	}

	deadline := time.Now().Add(time.Minute)
	for {
		out, err = vow("request", "run", "--due", "--format", "json").CombinedOutput()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	k, err := keyring.Load(filepath.Join(dir, "data"), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	f.keys = k // the binary pseudonymised with its own key
	checkErased(t, f)
	cert, err := vow("request", "export", r.ID, "--certificate").Output()
	if err != nil {
		t.Fatal(err)
	}
	c, err := dsr.VerifyCertificate(cert, k.PublicKey())
	if err != nil {
		t.Fatalf("certificate: %v", err)
	}
	for _, tr := range c.Tables {
		if tr.Table == "customers" && tr.Rows != 1 {
			t.Errorf("certificate: customers %d rows, want 1 (recorded before the kill)", tr.Rows)
		}
	}
	certFile := filepath.Join(dir, "certificate.json")
	os.WriteFile(certFile, cert, 0o644)
	if out, err := vow("certificate", "verify", certFile).CombinedOutput(); err != nil || !strings.Contains(string(out), "valid: erasure certificate for request "+r.ID) {
		t.Errorf("vow certificate verify: %v\n%s", err, out)
	}
	os.WriteFile(certFile, bytes.Replace(cert, []byte(`"deleted"`), []byte(`"kept"`), 1), 0o644)
	if out, err := vow("certificate", "verify", certFile).CombinedOutput(); err == nil {
		t.Errorf("vow certificate verify of a tampered certificate succeeded:\n%s", out)
	}
}

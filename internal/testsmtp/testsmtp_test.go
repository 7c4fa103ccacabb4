package testsmtp

import (
	"net/smtp"
	"os"
	"strings"
	"testing"
)

// The binary's name carries Version; it must be the version go.mod pins,
// or a stale binary would be used after an upgrade.
func TestVersionPinned(t *testing.T) {
	mod, err := os.ReadFile("mailpit/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "github.com/axllent/mailpit "+Version) {
		t.Fatalf("mailpit/go.mod does not pin mailpit %s; update Version", Version)
	}
}

func TestStartShared(t *testing.T) {
	a := Start(t)
	b := Start(t)
	if a != b {
		t.Fatal("two servers in one test binary")
	}
	body := "To: shared@example.com, other@example.com\r\nSubject: hello\r\n\r\nhi there\r\n"
	if err := smtp.SendMail(a.Addr(), nil, "from@example.com", []string{"shared@example.com", "other@example.com"}, []byte(body)); err != nil {
		t.Fatal(err)
	}
	ms := a.WaitFor(t, "shared@example.com")
	if len(ms) != 1 || ms[0].Subject != "hello" || !strings.Contains(ms[0].Text, "hi there") {
		t.Fatalf("got %+v", ms)
	}
	if got := a.To(t, "hared@example.com"); len(got) != 0 {
		t.Errorf("To matched a substring of an address: %+v", got)
	}
	if got := a.Messages(t); len(got) < 1 {
		t.Errorf("Messages = %d", len(got))
	}
}

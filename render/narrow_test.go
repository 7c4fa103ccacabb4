package render_test

import (
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTablesOnAPhone opens the rendered policy in headless Chromium at a
// phone's width: no table cell cuts a word (its text fits its width), a
// table wider than the screen scrolls inside its own box without widening
// the page, and the box shows that it scrolls (shadows at its edges).
func TestTablesOnAPhone(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("starts a browser; skipped with -short")
	}
	src, err := os.ReadFile("testdata/demo.html")
	if err != nil {
		t.Fatal(err)
	}
	probe := `<pre id="result"></pre><script>
var out = {cut: [], boxes: 0, scrolls: 0, unmarked: 0, pageWider: document.documentElement.scrollWidth > window.innerWidth + 1};
document.querySelectorAll(".table").forEach(function (b) {
  out.boxes++;
  var st = getComputedStyle(b);
  if (st.overflowX === "auto" && b.scrollWidth > b.clientWidth) {
    out.scrolls++;
    // A box cut at the screen's edge must show that it scrolls.
    if (st.backgroundImage.indexOf("gradient") < 0) out.unmarked++;
  }
});
document.querySelectorAll("td, th").forEach(function (c) {
  if (c.scrollWidth > c.clientWidth + 1) out.cut.push(c.textContent.slice(0, 40));
});
document.getElementById("result").textContent = JSON.stringify(out);
</script>`
	page := filepath.Join(t.TempDir(), "policy.html")
	if err := os.WriteFile(page, []byte(strings.Replace(string(src), "</body>", probe+"</body>", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
		"--user-data-dir="+t.TempDir(), "--window-size=375,800", "--virtual-time-budget=1000", "--dump-dom", "file://"+page).Output()
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	m := regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no result: %.300s", out)
	}
	var r struct {
		Cut                      []string
		Boxes, Scrolls, Unmarked int
		PageWider                bool
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cut) > 0 {
		t.Errorf("cells cut at a phone's width: %q", r.Cut)
	}
	if r.Unmarked > 0 {
		t.Errorf("%d of %d scrolling tables show no sign that they scroll", r.Unmarked, r.Scrolls)
	}
	if r.Boxes == 0 || r.PageWider {
		t.Errorf("tables: %d boxes, page wider than the screen: %v", r.Boxes, r.PageWider)
	}
	t.Logf("%d table boxes, %d of them scroll at 375 px", r.Boxes, r.Scrolls)
}

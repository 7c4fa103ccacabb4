package consent_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/consent"
)

func TestBannerServed(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	code, js := e.do(t, call{method: "GET", path: "/consent/banner.js", token: "-"})
	if code != 200 {
		t.Fatalf("%d %s", code, js)
	}
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write(js)
	w.Close()
	t.Logf("banner.js: %d bytes, %d gzipped", len(js), gz.Len())
	if gz.Len() > 15<<10 {
		t.Fatalf("banner.js is %d bytes gzipped, over the 15 KB budget", gz.Len())
	}
	for _, want := range []string{`"organization":"Lumen"`, `"version":"` + e.svc.Version() + `"`, `"name":"analytics"`, `"purposes":["analytics"]`, `"essential":true`} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("banner.js lacks %s", want)
		}
	}
	if bytes.Contains(js, []byte("/*VOW_CONFIG*/")) {
		t.Error("configuration placeholder left in the script")
	}
	code, cfg := e.do(t, call{method: "GET", path: "/consent/banner/config", token: "-"})
	if code != 200 || !bytes.Contains(cfg, []byte(`"gpc":["analytics cookies"]`)) {
		t.Fatalf("config: %d %s", code, cfg)
	}
	// CORS preflight for the choice endpoint, called from the company's pages.
	req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/consent/banner/choice", nil)
	req.Header.Set("Origin", "https://www.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
}

// The page a company would serve: a blocked analytics script, the banner,
// and a driver that acts like a visitor and reports what happened.
const bannerPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>
<script>if (location.search.indexOf("gpc=1") >= 0) Object.defineProperty(navigator, "globalPrivacyControl", {value: true});</script>
<script type="text/plain" data-category="analytics">document.documentElement.setAttribute("data-analytics", "ran")</script>
<script src="%s/consent/banner.js"></script></head>
<body><pre id="result"></pre><button id="before">search</button>
<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var b = document.getElementById("vow-banner"), out = {};
    out.banner = !!b;
    out.ranBefore = document.documentElement.getAttribute("data-analytics");
    if (b) {
      out.role = b.getAttribute("role");
      out.title = document.getElementById(b.getAttribute("aria-labelledby")).textContent;
      out.focused = document.activeElement && document.activeElement.id;
      out.version = document.getElementById("vow-version").textContent;
      document.getElementById("vow-customise").click();
      var boxes = b.querySelectorAll("input[type=checkbox]"), unlabelled = 0;
      for (var i = 0; i < boxes.length; i++) if (!boxes[i].labels || boxes[i].labels.length === 0) unlabelled++;
      out.boxes = boxes.length;
      out.unlabelled = unlabelled;
      out.essentialLocked = document.getElementById("vow-cat-essential").disabled;
      var link = document.getElementById("vow-policy");
      out.policyLink = link ? link.getAttribute("href") : "";
      out.describes = document.getElementById("vow-categories").textContent;
      var click = "%s";
      if (click === "escape") {
        b.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true}));
      } else {
        document.getElementById(click).click();
      }
      out.focusAfter = document.activeElement && document.activeElement.id;
    }
    out.ranAfter = document.documentElement.getAttribute("data-analytics");
    out.stored = JSON.parse(localStorage.getItem("vow_consent"));
    out.bannerAfter = !!document.getElementById("vow-banner");
    setTimeout(function () { document.getElementById("result").textContent = JSON.stringify(out); }, 500);
  }, 50);
});
</script></body></html>`

type visit struct {
	PolicyLink, Describes, FocusAfter string
	Banner, BannerAfter               bool
	RanBefore, RanAfter               string
	Role, Title                       string
	Focused, Version                  string
	Boxes, Unlabelled                 int
	EssentialLocked                   bool
	Stored                            struct {
		Device  string          `json:"device"`
		Version string          `json:"version"`
		Choices map[string]bool `json:"choices"`
	}
}

// TestBannerInChromium loads a page using the banner in headless Chromium
// (skipped when chromium is not installed): accept, remember, reject.
func TestBannerInChromium(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	if testing.Short() {
		t.Skip("starts a browser three times; skipped with -short")
	}
	t.Parallel()
	e := setup(t, "sqlite")
	button := "vow-accept"
	// The page comes from another origin than Vow, as on a real site.
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, bannerPage, e.srv.URL, r.URL.Query().Get("click"))
	}))
	t.Cleanup(site.Close)
	profile := t.TempDir()
	run := func(profile, click string) visit {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir="+profile, "--virtual-time-budget=2000", "--dump-dom", site.URL+"/?click="+click).Output()
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		m := regexp.MustCompile(`(?s)<pre id="result">(.*?)</pre>`).FindSubmatch(out)
		if m == nil || len(m[1]) == 0 {
			t.Fatalf("no result in page: %s", out)
		}
		var v visit
		if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &v); err != nil {
			t.Fatalf("result %s: %v", m[1], err)
		}
		return v
	}
	waitRecorded := func(device string, want consent.Status) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			st, err := e.svc.State(context.Background(), device)
			if err == nil && st.Purposes["analytics"].Status == want && st.Purposes["analytics"].Source == "banner" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("choice for %s not recorded as %s: %+v %v", device, want, st, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// First visit: the banner shows, the script waits; accept all runs it.
	v := run(profile, button)
	if !v.Banner || v.RanBefore != "" || v.RanAfter != "ran" || v.BannerAfter {
		t.Fatalf("accept: %+v", v)
	}
	if v.Role != "dialog" || !strings.Contains(v.Title, "Lumen") || v.Focused != "vow-accept" || v.Unlabelled != 0 || v.Boxes != 2 || !v.EssentialLocked {
		t.Fatalf("accessibility: %+v", v)
	}
	if !strings.Contains(v.Version, e.svc.Version()) || v.Stored.Version != e.svc.Version() || !v.Stored.Choices["analytics"] || !strings.HasPrefix(v.Stored.Device, "device:") {
		t.Fatalf("remembered: %+v", v)
	}
	waitRecorded(v.Stored.Device, consent.Granted)

	// Second visit, same browser: remembered, no banner, the script runs at once.
	v2 := run(profile, button)
	if v2.Banner || v2.RanBefore != "ran" || v2.Stored.Device != v.Stored.Device {
		t.Fatalf("second visit: %+v", v2)
	}

	// A new browser rejecting all: the script never runs.
	v3 := run(t.TempDir(), "vow-reject")
	if !v3.Banner || v3.RanAfter != "" || v3.Stored.Choices["analytics"] {
		t.Fatalf("reject: %+v", v3)
	}
	waitRecorded(v3.Stored.Device, consent.Denied)
	if !strings.HasSuffix(v.PolicyLink, "/privacy") || !strings.Contains(v.Describes, "(cookies:") {
		t.Errorf("the banner links the policy (%q) and describes its categories (%q)", v.PolicyLink, v.Describes)
	}

	// Escape refuses, and gives the focus back instead of dropping it to
	// <body>.
	v4 := run(t.TempDir(), "escape")
	if v4.BannerAfter || v4.RanAfter != "" || v4.Stored.Choices["analytics"] {
		t.Fatalf("escape: %+v", v4)
	}
	waitRecorded(v4.Stored.Device, consent.Denied)
	if v4.FocusAfter == "" {
		t.Errorf("after a choice the focus fell to <body>")
	}

	// With Global Privacy Control on, Vow hears the signal from the page
	// (which cannot send Sec-GPC itself): analytics stays off even after
	// "accept all", and the device's refusal is recorded as GPC's.
	v5 := run(t.TempDir(), "vow-accept&gpc=1")
	if v5.RanAfter != "" || v5.Stored.Choices["analytics"] {
		t.Fatalf("accept all under GPC: %+v", v5)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := e.svc.State(context.Background(), v5.Stored.Device)
		hist, _ := e.svc.History(context.Background(), v5.Stored.Device)
		fromGPC := false
		for _, ev := range hist {
			fromGPC = fromGPC || (ev.Purpose == "analytics" && ev.Source == consent.SourceGPC)
		}
		if err == nil && !st.Purposes["analytics"].Allowed && fromGPC {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GPC not recorded for %s: %+v %+v %v", v5.Stored.Device, st, hist, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBannerSendsGPC: a banner choice carrying the browser's Global
// Privacy Control signal (which a page cannot send as Sec-GPC) is recorded
// as an opt-out from GPC for the device, even with no choice made.
func TestBannerSendsGPC(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	code, b := e.do(t, call{method: "POST", path: "/consent/banner/choice", token: "-", body: `{"device":"device:g1","choices":{},"gpc":true}`})
	if code != 200 {
		t.Fatalf("choice with gpc: %d %s", code, b)
	}
	st, err := e.svc.State(context.Background(), "device:g1")
	if err != nil {
		t.Fatal(err)
	}
	gpcPurposes := e.svc.GPCPurposes()
	if len(gpcPurposes) == 0 {
		t.Fatal("the demo policy has no GPC purpose")
	}
	recorded := 0
	for _, p := range gpcPurposes {
		ps := st.Purposes[p]
		if ps.Allowed {
			t.Errorf("%s after a GPC signal: %+v; want refused", p, ps)
		}
		if ps.Source == consent.SourceGPC {
			recorded++
		}
	}
	if recorded == 0 {
		t.Errorf("no opt-out was recorded from the signal (source gpc): %+v", st.Purposes)
	}
}

// TestBannerVersionedURL: the stable URL names the versioned one, which is
// cached for good; an outdated version's URL leads to the current one.
func TestBannerVersionedURL(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(e.srv.URL + "/consent/banner.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// Both name the public base URL: behind a proxy that serves Vow under
	// a path prefix, a bare "/consent/…" would miss.
	m := regexp.MustCompile(`^<(` + regexp.QuoteMeta(e.srv.URL) + `/consent/banner/[0-9a-f]+/banner\.js)>; rel="canonical"$`).FindStringSubmatch(resp.Header.Get("Link"))
	if m == nil {
		t.Fatalf("Link %q; want the versioned URL under %s", resp.Header.Get("Link"), e.srv.URL)
	}
	resp, err = client.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("versioned URL: %d %q; want 200, immutable", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, err = client.Get(e.srv.URL + "/consent/banner/0123456789abcdef/banner.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != m[1] {
		t.Errorf("an old version's URL: %d → %q; want 302 to %s", resp.StatusCode, resp.Header.Get("Location"), m[1])
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/server"
)

// demoConsent starts the real API on loopback and walks through consent:
// defaults, a grant with its receipt, a Global Privacy Control signal, a
// batch question, a one-click unsubscribe (and its replay refused), bad
// input, and erasure down to proof of opt-out.
func demoConsent(cmd *cobra.Command, a *app, denv *demoEnv) (any, error) {
	ctx := cmd.Context()
	k, err := a.openKeyring(cmd, denv.DataDir, denv.Store)
	if err != nil {
		return nil, err
	}
	tokens := apitoken.New(denv.Store)
	tokens.Actor = "vow demo"
	tok, secret, err := tokens.Create(ctx, fmt.Sprintf("demo-%d", time.Now().UnixNano()), []string{apitoken.ScopeAdmin})
	if err != nil {
		return nil, err
	}
	// The demo's token is for the demo only: an admin token left behind
	// would open the state to whoever reads this terminal's scrollback.
	defer func() {
		if _, err := tokens.Revoke(context.WithoutCancel(ctx), tok.ID); err != nil {
			a.logger.Warn("demo: revoke its API token", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	env := &serveEnv{Policy: denv.Policy, PolicyFile: denv.Policy.File, Store: denv.Store, Keyring: k, Tokens: tokens,
		Logger: a.logger, DataDir: denv.DataDir, BaseURL: "http://" + ln.Addr().String()}
	defer env.close()
	mux := server.NewMux(tokens, a.logger)
	if err := mountConsent(env, mux); err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- server.New(mux, server.Config{}, a.logger).Serve(sctx, ln) }()
	defer func() { stop(); <-served }()

	type shown struct {
		Call   string          `json:"call"`
		Status int             `json:"status"`
		Body   json.RawMessage `json:"body"`
	}
	var steps []shown
	call := func(say, method, path, body string, header ...string) (json.RawMessage, error) {
		u := path
		if !strings.HasPrefix(u, "http") {
			u = env.BaseURL + path
		}
		req, _ := http.NewRequestWithContext(ctx, method, u, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		line := method + " " + strings.TrimPrefix(path, env.BaseURL)
		if len(line) > 70 {
			line = line[:67] + "..."
		}
		if json.Valid(b) {
			steps = append(steps, shown{line, resp.StatusCode, json.RawMessage(b)})
		} else {
			steps = append(steps, shown{line, resp.StatusCode, json.RawMessage(`{}`)})
		}
		if a.format == "text" {
			fmt.Fprintf(a.stdout, "%-44s %-60s → %d %s\n", say, line, resp.StatusCode, summary(b))
		}
		return b, nil
	}
	// Fresh subject names per run: a demo run again on the same state store
	// would otherwise meet the proof of opt-out the last run's erasure kept.
	suffix := fmt.Sprintf("%04x", time.Now().UnixNano()&0xffff)
	u1, u2, u3 := "ada-"+suffix, "bob-"+suffix, "cy-"+suffix
	var res struct {
		Receipts []struct{ URL string } `json:"receipts"`
		URL      string                 `json:"url"`
	}
	receipt := func() string {
		if len(res.Receipts) == 0 {
			return "/receipts/none"
		}
		return res.Receipts[0].URL
	}
	unsub := func() string { return res.URL }
	fixed := func(p string) func() string { return func() string { return p } }
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	script := []struct {
		say, method string
		path        func() string
		body        string
		header      []string
		keep        bool // decode the answer into res for later steps
	}{
		{"defaults from the policy", "GET", fixed("/v1/consent/" + u1), "", nil, false},
		{"user grants marketing", "POST", fixed("/v1/consent/" + u1), `{"purposes":{"marketing":"granted"}}`, nil, true},
		{"signed receipt link (public)", "GET", receipt, "", nil, false},
		{"browser sends Sec-GPC: 1", "POST", fixed("/v1/consent/" + u2), `{"purposes":{"marketing":"granted"}}`, []string{"Sec-GPC", "1"}, false},
		{"who may get marketing email?", "POST", fixed("/v1/consent/batch"), `{"purpose":"marketing","subjects":["` + u1 + `","` + u2 + `","` + u3 + `"]}`, nil, false},
		{"unsubscribe link for a newsletter", "POST", fixed("/v1/preferences/" + u1 + "/unsubscribe-link"), `{"topic":"newsletter"}`, nil, true},
		{"one click (RFC 8058)", "POST", unsub, "List-Unsubscribe=One-Click", form, false},
		{"the same link again", "POST", unsub, "List-Unsubscribe=One-Click", form, false},
		{"bad input: unknown purpose", "POST", fixed("/v1/consent/" + u1), `{"purposes":{"ads":"granted"}}`, nil, false},
		{"bad input: essential purpose", "POST", fixed("/v1/consent/" + u1), `{"purposes":{"service":"withdrawn"}}`, nil, false},
		{"user withdraws marketing", "POST", fixed("/v1/consent/" + u1), `{"purposes":{"marketing":"withdrawn"}}`, nil, false},
		{"erasure keeps proof of opt-out", "POST", fixed("/v1/consent/" + u1 + "/erase"), "", nil, false},
		{"after erasure", "GET", fixed("/v1/consent/" + u1 + "?purpose=marketing"), "", nil, false},
	}
	for _, st := range script {
		b, err := call(st.say, st.method, st.path(), st.body, st.header...)
		if err != nil {
			return nil, err
		}
		if st.keep {
			_ = json.Unmarshal(b, &res)
		}
	}
	if a.format == "text" {
		fmt.Fprintln(a.stdout, "\nvow serve also serves the cookie banner built from this policy's cookies at /consent/banner.js (docs/api.md).")
	}
	return map[string]any{"calls": steps}, nil
}

// summary shortens a JSON answer to one line for the demo.
func summary(b []byte) string {
	var v map[string]any
	if json.Unmarshal(b, &v) != nil {
		return strings.TrimSpace(string(b))
	}
	if e, ok := v["error"].(map[string]any); ok {
		return fmt.Sprintf("%v: %v", e["code"], e["message"])
	}
	parts := []string{}
	if ps, ok := v["purposes"].(map[string]any); ok {
		for _, name := range []string{"marketing", "analytics"} {
			if p, ok := ps[name].(map[string]any); ok {
				parts = append(parts, fmt.Sprintf("%s=%v(%v)", name, p["status"], p["source"]))
			}
		}
	}
	for _, k := range []string{"allowed", "status", "source", "unsubscribed", "kept", "deleted", "pseudonym"} {
		if x, ok := v[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", k, x))
		}
	}
	if r, ok := v["receipt"]; ok {
		if m, ok := r.(map[string]any); ok {
			parts = append(parts, fmt.Sprintf("receipt %v signed", m["version"]))
		}
	}
	if u, ok := v["url"].(string); ok {
		parts = append(parts, "url="+u[:min(len(u), 48)]+"…")
	}
	return strings.Join(parts, " ")
}

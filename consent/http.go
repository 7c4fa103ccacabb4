package consent

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/server"
)

// MaxBatch is the most subjects one batch request may ask about.
const MaxBatch = 10_000

// Mount mounts the consent, preference, receipt, unsubscribe and banner
// routes on mux. baseURL (no trailing slash) is this server's public URL,
// used in the links it hands out.
func (s *Service) Mount(mux *server.Mux, baseURL string) error {
	h := &handlers{s: s, base: strings.TrimSuffix(baseURL, "/")}
	banner, err := s.bannerScript()
	if err != nil {
		return err
	}
	h.banner = banner
	c := apitoken.ScopeConsent
	mux.Handle("GET /v1/consent/{subject}", c, h.get)
	mux.Handle("POST /v1/consent/{subject}", c, h.record)
	mux.Handle("GET /v1/consent/{subject}/history", c, h.history)
	mux.Handle("POST /v1/consent/{subject}/link", c, h.link)
	mux.Handle("POST /v1/consent/{subject}/erase", apitoken.ScopeAdmin, h.erase)
	mux.Handle("POST /v1/consent/batch", c, h.batch, server.MaxBody(8<<20))
	mux.Handle("GET /v1/receipts/{id}", c, h.receipt)
	mux.Handle("GET /v1/preferences/{subject}", c, h.prefs)
	mux.Handle("PUT /v1/preferences/{subject}", c, h.setPrefs)
	mux.Handle("POST /v1/preferences/{subject}/unsubscribe-link", c, h.unsubLink)
	mux.Handle("GET /receipts/{token}", server.Public, h.receiptByToken)
	mux.Handle("GET /unsubscribe/{token}", server.Public, h.unsubPage)
	mux.Handle("POST /unsubscribe/{token}", server.Public, h.unsubscribe, server.MaxBody(4<<10), server.RateLimit(5, 20))
	mux.Handle("GET /consent/banner.js", server.Public, h.bannerJS, server.CORS())
	mux.Handle("GET /consent/banner/{hash}/banner.js", server.Public, h.bannerVersioned, server.CORS())
	mux.Handle("GET /consent/banner/config", server.Public, h.bannerConfig, server.CORS())
	mux.Handle("POST /consent/banner/choice", server.Public, h.bannerChoice, server.CORS(), server.MaxBody(8<<10), server.RateLimit(10, 50))
	return nil
}

type handlers struct {
	s      *Service
	base   string
	banner []byte
}

// apiError turns the package's errors into API errors.
func apiError(err error) error {
	var ie *InputError
	switch {
	case errors.As(err, &ie):
		code := map[error]string{ErrUnknownPurpose: "unknown_purpose", ErrEssential: "essential_purpose",
			ErrUnknownTopic: "unknown_topic", ErrEssentialTopic: "essential_topic", ErrDeviceOnlyLinks: "invalid"}[ie.Err]
		if code == "" {
			code = "invalid"
		}
		return &server.Error{Status: http.StatusBadRequest, Code: code, Field: ie.Field, Message: ie.Msg}
	case errors.Is(err, ErrNotFound):
		return server.NotFound("%s", strings.TrimPrefix(err.Error(), "consent: not found: "))
	case errors.Is(err, ErrNoReceipt):
		return &server.Error{Status: http.StatusGone, Code: "no_receipt", Message: strings.TrimPrefix(err.Error(), ErrNoReceipt.Error()+": ")}
	case errors.Is(err, ErrLinkUsed):
		return &server.Error{Status: http.StatusGone, Code: "link_used", Message: "this link has been used already; nothing was changed"}
	case errors.Is(err, ErrBadLink):
		return &server.Error{Status: http.StatusBadRequest, Code: "invalid_link", Message: strings.TrimPrefix(err.Error(), ErrBadLink.Error()+": ") + "; nothing was changed"}
	}
	return err
}

var jsonCT = []string{"application/json"}

// get is the hot path: the subject's state comes from the cache as
// pre-rendered JSON.
func (h *handlers) get(w http.ResponseWriter, r *http.Request) error {
	snap, err := h.s.snapshot(r.Context(), r.PathValue("subject"))
	if err != nil {
		return apiError(err)
	}
	body := snap.all
	if r.URL.RawQuery != "" {
		if p := queryValue(r.URL.RawQuery, "purpose"); p != "" {
			if _, err := h.s.checkPurpose("purpose", p); err != nil {
				return apiError(err)
			}
			body = snap.per[p]
		}
	}
	w.Header()["Content-Type"] = jsonCT
	_, err = w.Write(body)
	return err
}

type recordBody struct {
	Purposes map[string]Status `json:"purposes"`
	Source   string            `json:"source"`
}

// receiptRef is a receipt handed back after a change.
type receiptRef struct {
	ID      string `json:"id"`
	Purpose string `json:"purpose"`
	Status  Status `json:"status"`
	Source  string `json:"source"`
	URL     string `json:"url"`
}

func (h *handlers) refs(events []Event) []receiptRef {
	out := make([]receiptRef, 0, len(events))
	for _, e := range events {
		out = append(out, receiptRef{ID: e.ID, Purpose: e.Purpose, Status: e.Status, Source: e.Source, URL: h.base + "/receipts/" + h.s.ReceiptToken(e.ID)})
	}
	return out
}

// gpc reports whether the request carries the Global Privacy Control signal.
func gpc(r *http.Request) bool { return strings.TrimSpace(r.Header.Get("Sec-GPC")) == "1" }

func (h *handlers) change(ctx context.Context, r *http.Request, subject string, purposes map[string]Status, source, by string) (map[string]any, error) {
	if len(purposes) == 0 && !gpc(r) {
		return nil, server.BadRequest("purposes", "give at least one purpose and its status (granted, denied or withdrawn); consent purposes are: %s", strings.Join(h.s.Purposes(), ", "))
	}
	names := make([]string, 0, len(purposes))
	for p := range purposes {
		names = append(names, p)
	}
	slices.Sort(names)
	gpcOn := gpc(r)
	changes := make([]Change, 0, len(names))
	for _, p := range names {
		// A GPC signal is an opt-out the request itself cannot override.
		if gpcOn && purposes[p] == Granted && h.s.byName[p] != nil && h.s.byName[p].GPC {
			continue
		}
		changes = append(changes, Change{Subject: subject, Purpose: p, Status: purposes[p], Source: source, RecordedBy: by})
	}
	for i, c := range changes {
		if err := h.s.validate(-1, c); err != nil {
			var ie *InputError
			if errors.As(err, &ie) && ie.Field != "subject" {
				ie.Field = "purposes." + changes[i].Purpose
			}
			return nil, apiError(err)
		}
	}
	events, err := h.s.Record(ctx, changes)
	if err != nil {
		return nil, apiError(err)
	}
	if gpcOn {
		gev, err := h.s.ApplyGPC(ctx, subject, by)
		if err != nil {
			return nil, apiError(err)
		}
		events = append(events, gev...)
	}
	st, err := h.s.State(ctx, subject)
	if err != nil {
		return nil, apiError(err)
	}
	return map[string]any{"subject": subject, "purposes": st.Purposes, "receipts": h.refs(events), "gpc": gpcOn}, nil
}

func (h *handlers) record(w http.ResponseWriter, r *http.Request) error {
	var b recordBody
	if err := server.DecodeJSON(r, &b); err != nil {
		return err
	}
	if b.Source == "" {
		b.Source = SourceAPI
	}
	if !slices.Contains(sources, b.Source) || b.Source == SourceGPC {
		return server.BadRequest("source", "source %q is not one of api, banner, import (GPC is read from the Sec-GPC header)", b.Source)
	}
	out, err := h.change(r.Context(), r, r.PathValue("subject"), b.Purposes, b.Source, server.CallerName(r.Context()))
	if err != nil {
		return err
	}
	server.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *handlers) history(w http.ResponseWriter, r *http.Request) error {
	evs, err := h.s.History(r.Context(), r.PathValue("subject"))
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"subject": r.PathValue("subject"), "events": evs})
	return nil
}

func (h *handlers) link(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Device string `json:"device"`
	}
	if err := server.DecodeJSON(r, &b); err != nil {
		return err
	}
	evs, err := h.s.Link(r.Context(), b.Device, r.PathValue("subject"), server.CallerName(r.Context()))
	if err != nil {
		return apiError(err)
	}
	st, err := h.s.State(r.Context(), r.PathValue("subject"))
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"subject": st.Subject, "purposes": st.Purposes, "receipts": h.refs(evs)})
	return nil
}

func (h *handlers) erase(w http.ResponseWriter, r *http.Request) error {
	e, err := h.s.Erase(r.Context(), r.PathValue("subject"))
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, e)
	return nil
}

func (h *handlers) batch(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Purpose  string   `json:"purpose"`
		Subjects []string `json:"subjects"`
	}
	if err := server.DecodeJSON(r, &b); err != nil {
		return err
	}
	switch {
	case b.Purpose == "":
		return server.BadRequest("purpose", "purpose is required; consent purposes are: %s", strings.Join(h.s.Purposes(), ", "))
	case len(b.Subjects) == 0:
		return server.BadRequest("subjects", "give at least one subject")
	case len(b.Subjects) > MaxBatch:
		return server.BadRequest("subjects", "at most %d subjects per request, got %d", MaxBatch, len(b.Subjects))
	}
	allowed, refused, err := h.s.Batch(r.Context(), b.Purpose, b.Subjects)
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"purpose": b.Purpose, "allowed": allowed, "refused": refused})
	return nil
}

func (h *handlers) receipt(w http.ResponseWriter, r *http.Request) error {
	rc, err := h.s.Receipt(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, rc)
	return nil
}

func (h *handlers) receiptByToken(w http.ResponseWriter, r *http.Request) error {
	rc, err := h.s.ReceiptByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		return apiError(err)
	}
	w.Header().Set("Cache-Control", "private, no-store")
	server.WriteJSON(w, http.StatusOK, rc)
	return nil
}

func (h *handlers) prefs(w http.ResponseWriter, r *http.Request) error {
	p, err := h.s.Preferences(r.Context(), r.PathValue("subject"))
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *handlers) setPrefs(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Topics map[string]bool `json:"topics"`
	}
	if err := server.DecodeJSON(r, &b); err != nil {
		return err
	}
	p, err := h.s.SetPreferences(r.Context(), r.PathValue("subject"), b.Topics, SourceAPI, server.CallerName(r.Context()))
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (h *handlers) unsubLink(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Topic string `json:"topic"`
	}
	if err := server.DecodeJSON(r, &b); err != nil {
		return err
	}
	tok, err := h.s.UnsubscribeToken(r.PathValue("subject"), b.Topic)
	if err != nil {
		return apiError(err)
	}
	u := h.base + "/unsubscribe/" + tok
	server.WriteJSON(w, http.StatusOK, map[string]any{
		"url": u,
		"headers": map[string]string{
			"List-Unsubscribe":      "<" + u + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	})
	return nil
}

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.Title}}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Form}}<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>{{end}}
</body></html>`))

type page struct {
	Title, Text string
	Form        bool
}

func writePage(w http.ResponseWriter, status int, p page) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// As the policy pages, and more: the page's URL carries the token, so
	// no referrer leaves it, and no other site may frame its button.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

// unsubPage answers GET on an unsubscribe link with a confirmation form:
// GET must change nothing (mail scanners follow links), RFC 8058 §3.
func (h *handlers) unsubPage(w http.ResponseWriter, r *http.Request) error {
	_, topic, err := h.s.OpenUnsubscribe(r.PathValue("token"))
	if err != nil {
		writePage(w, http.StatusBadRequest, page{Title: "Link not valid", Text: "This unsubscribe link is not valid or has expired. Nothing was changed."})
		return nil
	}
	title := topic
	if t := h.s.topics[topic]; t != nil && t.Title != "" {
		title = t.Title
	}
	writePage(w, http.StatusOK, page{Title: "Unsubscribe from " + title + "?", Text: "You will no longer receive these messages.", Form: true})
	return nil
}

// unsubscribe is the one-click POST of RFC 8058 (body
// "List-Unsubscribe=One-Click"), also sent by the confirmation form.
func (h *handlers) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return server.BadRequest("List-Unsubscribe", "the body must be the form List-Unsubscribe=One-Click")
	}
	if v := r.PostForm.Get("List-Unsubscribe"); v != "One-Click" {
		return server.BadRequest("List-Unsubscribe", "the body must be the form List-Unsubscribe=One-Click (RFC 8058), got %q", v)
	}
	_, topic, err := h.s.Unsubscribe(r.Context(), r.PathValue("token"))
	if err != nil {
		if strings.Contains(r.Header.Get("Accept"), "text/html") {
			status := http.StatusBadRequest
			if errors.Is(err, ErrLinkUsed) {
				status = http.StatusGone
			}
			writePage(w, status, page{Title: "Link not valid", Text: "This unsubscribe link is not valid, has expired or has been used already. Nothing was changed."})
			return nil
		}
		return apiError(err)
	}
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		// The page template escapes Text.
		writePage(w, http.StatusOK, page{Title: "Unsubscribed", Text: fmt.Sprintf("You will no longer receive %s messages.", topic)})
		return nil
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"unsubscribed": true, "topic": topic})
	return nil
}

// bannerChoice records a cookie-banner choice for an anonymous device.
// It is public (the banner runs on the company's pages), so it may only
// write consent for device ids, never for a known subject.
func (h *handlers) bannerChoice(w http.ResponseWriter, r *http.Request) error {
	var b struct {
		Device  string          `json:"device"`
		Choices map[string]bool `json:"choices"`
		// GPC is the browser's Global Privacy Control signal, which a
		// page's script reads but cannot send as Sec-GPC.
		GPC bool `json:"gpc"`
	}
	if err := server.DecodeJSON(r, &b); err != nil {
		return err
	}
	if b.GPC {
		r.Header.Set("Sec-GPC", "1")
	}
	if !strings.HasPrefix(b.Device, DevicePrefix) {
		return server.BadRequest("device", "device must be an anonymous device id starting %q", DevicePrefix)
	}
	purposes := map[string]Status{}
	cats := h.s.bannerCategories()
	for name, on := range b.Choices {
		var cat *bannerCategory
		for i := range cats {
			if cats[i].Name == name {
				cat = &cats[i]
			}
		}
		if cat == nil {
			var valid []string
			for _, c := range cats {
				if !c.Essential {
					valid = append(valid, c.Name)
				}
			}
			return server.BadRequest("choices."+name, "unknown cookie category %q; the banner's categories are: %s", name, strings.Join(valid, ", "))
		}
		if cat.Essential {
			if !on {
				return server.BadRequest("choices."+name, "category %q is essential and cannot be refused", name)
			}
			continue
		}
		st := Denied
		if on {
			st = Granted
		}
		for _, p := range cat.Purposes {
			purposes[p] = st
		}
	}
	if len(purposes) == 0 && !gpc(r) {
		return server.BadRequest("choices", "give a choice for at least one non-essential category")
	}
	out, err := h.change(r.Context(), r, b.Device, purposes, SourceBanner, "banner")
	if err != nil {
		return err
	}
	out["policy_version"] = h.s.version
	server.WriteJSON(w, http.StatusOK, out)
	return nil
}

// queryValue returns the first value of key in a raw query string without
// building the map url.Values would (the hot path's allocation budget).
func queryValue(raw, key string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			if u, err := url.QueryUnescape(k); err == nil {
				k = u
			}
		}
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if u, err := url.QueryUnescape(v); err == nil {
				return u
			}
		}
		return v
	}
	return ""
}

package dsr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/webhook"
)

// Mount adds the requests API to mux. Every route needs a token with the
// requests scope except the download of an access package, which is
// authorised by its signed, expiring link. baseURL is the server's public
// URL, for those links.
func (s *Service) Mount(mux *server.Mux, baseURL string) {
	h := &handlers{s: s, base: baseURL}
	mux.Handle("POST /v1/requests", apitoken.ScopeRequests, h.create)
	mux.Handle("GET /v1/requests", apitoken.ScopeRequests, h.list)
	mux.Handle("GET /v1/requests/{id}", apitoken.ScopeRequests, h.get)
	mux.Handle("POST /v1/requests/{id}/verify", apitoken.ScopeRequests, h.verify)
	mux.Handle("POST /v1/requests/{id}/resend-code", apitoken.ScopeRequests, h.resend)
	mux.Handle("POST /v1/requests/{id}/extend", apitoken.ScopeRequests, h.extend)
	mux.Handle("POST /v1/requests/{id}/cancel", apitoken.ScopeRequests, h.cancel)
	// Letting an erasure past the brake is an operator's decision, not the
	// application's that files requests: it needs an admin token.
	mux.Handle("POST /v1/requests/{id}/approve", apitoken.ScopeAdmin, h.approve)
	mux.Handle("POST /v1/requests/{id}/retry", apitoken.ScopeRequests, h.retry)
	mux.Handle("GET /v1/requests/{id}/export-link", apitoken.ScopeRequests, h.exportLink)
	mux.Handle("GET /v1/requests/{id}/certificate", apitoken.ScopeRequests, h.certificate)
	mux.Handle("GET /v1/exports/{token}", server.Public, h.download)
	mux.Handle("POST /v1/callbacks/{token}", server.Public, h.callback, server.MaxBody(webhook.MaxResponse))
}

type handlers struct {
	s    *Service
	base string
}

// apiError maps the package's errors onto API errors.
func apiError(err error) error {
	var fe *FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return server.BadRequest(fe.Field, "%s", fe.Reason)
	case errors.Is(err, ErrNotFound):
		return server.NotFound("%s", "no such request")
	case errors.Is(err, ErrTooManyCodes):
		return &server.Error{Status: http.StatusTooManyRequests, Code: "too_many_codes", Message: trimPrefix(err), Err: err}
	case errors.Is(err, ErrVerification):
		return &server.Error{Status: http.StatusUnprocessableEntity, Code: "verification_failed", Message: trimPrefix(err), Err: err}
	case errors.Is(err, ErrState), errors.Is(err, ErrBusy):
		return &server.Error{Status: http.StatusConflict, Code: "conflict", Message: trimPrefix(err), Err: err}
	}
	return err
}

func trimPrefix(err error) string {
	msg := err.Error()
	const p = "dsr: "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

func (h *handlers) create(w http.ResponseWriter, r *http.Request) error {
	var n NewRequest
	if err := server.DecodeJSON(r, &n); err != nil {
		return err
	}
	n.CreatedBy = server.CallerName(r.Context())
	req, err := h.s.Create(r.Context(), n)
	if err != nil && req == nil {
		return apiError(err)
	}
	status := http.StatusCreated
	if err != nil {
		// Recorded, but the code could not be sent: say so, with the request.
		h.s.log().ErrorContext(r.Context(), "dsr: send code", "request", req.ID, "err", err)
		status = http.StatusAccepted
	}
	server.WriteJSON(w, status, req)
	return nil
}

func (h *handlers) list(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := ListFilter{Status: Status(q.Get("status"))}
	if v := q.Get("overdue"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return server.BadRequest("overdue", "overdue must be true or false, not %q", v)
		}
		f.Overdue = b
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return server.BadRequest("limit", "limit must be a number from 1 to 1000")
		}
		f.Limit = n
	}
	if f.Status != "" && !validStatus(f.Status) {
		return server.BadRequest("status", "unknown status %q", f.Status)
	}
	rs, err := h.s.List(r.Context(), f)
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []*Request{}
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"requests": rs})
	return nil
}

func validStatus(s Status) bool {
	switch s {
	case Received, Verifying, Executing, Waiting, Scheduled, AwaitingApproval, Completed, Failed, Cancelled:
		return true
	}
	return false
}

func (h *handlers) get(w http.ResponseWriter, r *http.Request) error {
	req, err := h.s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, req)
	return nil
}

func (h *handlers) verify(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Code string `json:"code"`
	}
	if err := server.DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Code == "" {
		return server.BadRequest("code", "the code the subject received by email is required")
	}
	if err := h.s.Verify(r.Context(), r.PathValue("id"), body.Code); err != nil {
		return apiError(err)
	}
	return h.get(w, r)
}

func (h *handlers) resend(w http.ResponseWriter, r *http.Request) error {
	if err := h.s.SendCode(r.Context(), r.PathValue("id")); err != nil {
		return apiError(err)
	}
	return h.get(w, r)
}

func (h *handlers) extend(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Days   int    `json:"days"`
		Reason string `json:"reason"`
	}
	if err := server.DecodeJSON(r, &body); err != nil {
		return err
	}
	req, err := h.s.Extend(r.Context(), r.PathValue("id"), body.Days, body.Reason)
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, req)
	return nil
}

func (h *handlers) cancel(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Reason string `json:"reason"`
	}
	if err := server.DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Reason == "" {
		return server.BadRequest("reason", "say why the request is cancelled")
	}
	if err := h.s.Cancel(r.Context(), r.PathValue("id"), body.Reason, server.CallerName(r.Context())); err != nil {
		return apiError(err)
	}
	return h.get(w, r)
}

func (h *handlers) approve(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Note string `json:"note"`
	}
	if err := server.DecodeJSON(r, &body); err != nil {
		return err
	}
	if _, err := h.s.Approve(r.Context(), r.PathValue("id"), server.CallerName(r.Context()), body.Note); err != nil {
		return apiError(err)
	}
	return h.get(w, r)
}

func (h *handlers) retry(w http.ResponseWriter, r *http.Request) error {
	if _, err := h.s.Retry(r.Context(), r.PathValue("id"), server.CallerName(r.Context())); err != nil {
		return apiError(err)
	}
	return h.get(w, r)
}

func (h *handlers) exportLink(w http.ResponseWriter, r *http.Request) error {
	req, err := h.s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	tok, err := h.s.ExportLink(req)
	if err != nil {
		return apiError(err)
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{
		"url":        h.base + "/v1/exports/" + tok,
		"expires_at": req.Result.ExportExpires.Format(time.RFC3339),
	})
	return nil
}

func (h *handlers) certificate(w http.ResponseWriter, r *http.Request) error {
	req, err := h.s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return apiError(err)
	}
	if req.Result == nil || len(req.Result.Certificate) == 0 {
		return server.Conflict("no_certificate", "request %s has no certificate: only completed erasures have one", req.ID)
	}
	w.Header().Set("Content-Type", "application/json")
	_, err = w.Write(req.Result.Certificate)
	return err
}

func (h *handlers) download(w http.ResponseWriter, r *http.Request) error {
	f, req, err := h.s.OpenExport(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, keyring.ErrExpired):
		return server.Errorf(http.StatusGone, "expired", "this download link has expired; ask for the data again")
	case errors.Is(err, keyring.ErrBadToken):
		return server.NotFound("%s", "no such download")
	case errors.Is(err, ErrPackageGone):
		return server.Errorf(http.StatusGone, "gone", "this data package has been deleted; ask for the data again")
	case err != nil:
		return apiError(err)
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-data.zip"`, req.ID))
	w.Header().Set("Cache-Control", "no-store")
	_, err = io.Copy(w, f)
	return err
}

// Work runs due requests every interval and purges expired packages,
// until ctx is done; on starting it minimises the requests that ended
// before requests kept identities only while they ran. It is the background worker of vow serve; several
// servers may run it at once, since each request is leased to one.
func (s *Service) Work(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	if n, err := s.Minimise(ctx); err != nil && ctx.Err() == nil {
		s.log().ErrorContext(ctx, "dsr: minimise the requests that ended", "err", err)
	} else if n > 0 {
		s.log().InfoContext(ctx, "dsr: requests that ended now keep only pseudonyms", "requests", n)
	}
	for {
		ids, err := s.Due(ctx)
		if err != nil && ctx.Err() == nil {
			s.log().ErrorContext(ctx, "dsr: due requests", "err", err)
		}
		for _, id := range ids {
			if _, err := s.Run(ctx, id, nil); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
				s.log().WarnContext(ctx, "dsr: run", "request", id, "err", err)
			}
		}
		if _, err := s.PurgeExports(ctx); err != nil && ctx.Err() == nil {
			s.log().ErrorContext(ctx, "dsr: purge exports", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

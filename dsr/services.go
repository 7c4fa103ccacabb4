package dsr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/webhook"
)

// ServiceCall is what Vow POSTs to a webhook system.
type ServiceCall struct {
	RequestID  string     `json:"request_id"`
	Type       Type       `json:"type"`
	Identities Identities `json:"identities"`
	// CallbackURL, when set, lets the service answer later: it replies
	// 202 now and POSTs its ServiceResult there, signed with the same
	// secret, within 30 days. Until it does, the call is sent again
	// daily with the same RequestID and a fresh CallbackURL.
	CallbackURL string `json:"callback_url,omitempty"`
}

// ServiceResult is a service's answer, at once (200) or by callback.
type ServiceResult struct {
	// Status is "completed" or "failed" ("accepted" with a 202).
	Status string `json:"status"`
	// Records counts what was exported or erased.
	Records int64 `json:"records"`
	// Kept counts records the service had to keep, and Message says why.
	Kept    int64  `json:"kept,omitempty"`
	Message string `json:"message,omitempty"`
	// Data is the subject's data (access requests): any JSON value.
	Data json.RawMessage `json:"data,omitempty"`
}

// errAwaiting marks a run that must wait for services' callbacks.
var errAwaiting = errors.New("waiting for services to answer")

// callbackTTL is how long a service may take to call back; a request
// still waiting for its answer after that fails.
const callbackTTL = 30 * 24 * time.Hour

// defaultResend is how long Vow waits for a callback before it sends the
// call again, when Service.ServiceResend is zero.
const defaultResend = 24 * time.Hour

func (s *Service) resendAfter() time.Duration {
	if s.ServiceResend > 0 {
		return s.ServiceResend
	}
	return defaultResend
}

// sentMark records a call a service accepted (202) and has not yet
// answered: when it was first and last sent, and how often.
type sentMark struct {
	At    time.Time `json:"at"`
	Last  time.Time `json:"last,omitzero"`
	Sends int       `json:"sends,omitempty"`
}

// fill completes a mark written before re-sends were recorded.
func (m *sentMark) fill() {
	if m.Last.IsZero() {
		m.Last = m.At
	}
	if m.Sends == 0 {
		m.Sends = 1
	}
}

// callServices asks each service of the plan to do typ for the subject,
// and returns the answers of all of them; if some answer later, it
// returns an error wrapping errAwaiting and the run waits.
func (s *Service) callServices(ctx context.Context, plan *Plan, r *Request, typ Type) (map[string]*ServiceResult, error) {
	out := map[string]*ServiceResult{}
	var pending []string
	for _, sv := range plan.Services {
		if typ == Erasure && !sv.Erase {
			continue
		}
		key := "webhook:" + sv.System + ":" + string(typ)
		if data, done, err := s.stepDone(ctx, r.ID, key); err != nil {
			return nil, err
		} else if done {
			var res ServiceResult
			if err := json.Unmarshal(data, &res); err != nil {
				return nil, fmt.Errorf("dsr: request %s: stored answer of %s: %w", r.ID, sv.System, err)
			}
			if res.Status == "failed" {
				return nil, fmt.Errorf("dsr: service %s could not do the %s: %s", sv.System, typ, res.Message)
			}
			out[sv.System] = &res
			continue
		}
		data, sent, err := s.stepDone(ctx, r.ID, "sent:"+key)
		if err != nil {
			return nil, err
		}
		var mark sentMark
		if sent {
			if err := json.Unmarshal(data, &mark); err != nil {
				return nil, fmt.Errorf("dsr: request %s: record of the call to %s: %w", r.ID, sv.System, err)
			}
			mark.fill()
			now := s.now()
			if now.Sub(mark.At) >= callbackTTL {
				return nil, fmt.Errorf("dsr: service %s accepted the %s on %s and was asked %d times, but never answered within %s; "+
					"ask the service's owners what happened, then create a new request",
					sv.System, typ, mark.At.Format(time.DateOnly), mark.Sends, callbackTTL)
			}
			if now.Sub(mark.Last) < s.resendAfter() {
				pending = append(pending, sv.System)
				continue
			}
		}
		// A lost callback must not stall the request for good: the call is
		// sent again (same request_id, so the service can tell it is a
		// repeat) each resendAfter until the service answers. Its callback
		// link expires when Vow stops waiting, whichever send it came with.
		first := s.now()
		if sent {
			first = mark.At
		}
		res, err := s.call(ctx, sv, r, typ, first.Add(callbackTTL))
		if err != nil && sent && !errors.Is(err, webhook.ErrUnavailable) && !errors.Is(err, webhook.ErrForbiddenAddress) {
			// The service already accepted this call; a repeat it refuses
			// or answers oddly (409: "already working on it") means it is
			// still on it. Only its answer, or the 30 days, end the wait.
			s.event(ctx, r, "request.service_resend_refused", map[string]any{"system": sv.System, "type": typ, "error": err.Error()})
			res, err = nil, nil
		}
		if err != nil {
			return nil, err
		}
		if res == nil {
			now := s.now()
			if !sent {
				err = s.markDone(ctx, r.ID, "sent:"+key, sentMark{At: now, Last: now, Sends: 1})
			} else {
				mark.Last, mark.Sends = now, mark.Sends+1
				err = s.updateStep(ctx, r.ID, "sent:"+key, mark)
				s.event(ctx, r, "request.service_resent", map[string]any{"system": sv.System, "type": typ, "sends": mark.Sends, "first_sent_at": ts(mark.At)})
			}
			if err != nil {
				return nil, err
			}
			pending = append(pending, sv.System)
			continue
		}
		if err := s.markDone(ctx, r.ID, key, res); err != nil {
			return nil, err
		}
		if res.Status == "failed" {
			return nil, fmt.Errorf("dsr: service %s could not do the %s: %s", sv.System, typ, res.Message)
		}
		out[sv.System] = res
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("%w: %s", errAwaiting, strings.Join(pending, ", "))
	}
	return out, nil
}

// call POSTs one request; a nil result means the service accepted it and
// will call back.
func (s *Service) call(ctx context.Context, sv *ServiceStep, r *Request, typ Type, callbackExpires time.Time) (*ServiceResult, error) {
	secret, err := s.secret(sv.System)
	if err != nil {
		return nil, err
	}
	body := ServiceCall{RequestID: r.ID, Type: typ, Identities: Identities{}}
	for _, k := range sv.Identities {
		body.Identities[k] = r.Identities[k]
	}
	if s.BaseURL != "" {
		tok := s.Keys.Token("dsr callback", []byte(r.ID+"|"+sv.System+"|"+string(typ)), callbackExpires)
		body.CallbackURL = strings.TrimSuffix(s.BaseURL, "/") + "/v1/callbacks/" + tok
	}
	client := webhook.New(sv.AllowPrivate, 30*time.Second)
	if s.webhookBackoff > 0 {
		client.Backoff = s.webhookBackoff
	}
	resp, err := client.Post(ctx, sv.URL, []byte(secret), body)
	if err != nil {
		return nil, fmt.Errorf("dsr: service %s: %w", sv.System, err)
	}
	if resp.Status == http.StatusAccepted {
		if body.CallbackURL == "" {
			return nil, fmt.Errorf("dsr: service %s answered later (202), but Vow has no public URL for its callback (set --base-url on vow serve, or VOW_BASE_URL)", sv.System)
		}
		s.event(ctx, r, "request.service_accepted", map[string]any{"system": sv.System, "type": typ})
		return nil, nil
	}
	var res ServiceResult
	if err := json.Unmarshal(resp.Body, &res); err != nil || (res.Status != "completed" && res.Status != "failed") {
		return nil, fmt.Errorf("dsr: service %s answered %d with %q; want {\"status\": \"completed\"|\"failed\", …}", sv.System, resp.Status, snippet(resp.Body))
	}
	s.event(ctx, r, "request.service_answered", map[string]any{"system": sv.System, "type": typ, "status": res.Status, "records": res.Records})
	return &res, nil
}

func snippet(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// secret resolves a webhook system's signing secret through the
// datastores' resolver (its connection names an env var or file).
func (s *Service) secret(system string) (string, error) {
	sys := s.Policy.System(system)
	if sys == nil {
		return "", fmt.Errorf("dsr: system %s is not in the policy", system)
	}
	r, ok := s.Datastores.(interface {
		DSN(*policy.System) (string, error)
	})
	if !ok {
		return "", fmt.Errorf("dsr: cannot resolve the signing secret of %s", system)
	}
	return r.DSN(sys)
}

// serviceRecords turns services' answers into certificate records.
func serviceRecords(plan *Plan, results map[string]*ServiceResult) []TableRecord {
	var out []TableRecord
	for _, sv := range plan.Services {
		res := results[sv.System]
		if res == nil {
			continue
		}
		rec := TableRecord{System: sv.System, Table: "(service)", Action: "deleted", Rows: res.Records, Reason: res.Message}
		out = append(out, rec)
		if res.Kept > 0 {
			out = append(out, TableRecord{System: sv.System, Table: "(service)", Action: "kept", Rows: res.Kept, Reason: res.Message})
		}
	}
	return out
}

// callback receives a service's later answer: the URL's token says which
// request, service and type it is for, and the body must be signed with
// the service's secret.
func (h *handlers) callback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	claim, err := h.s.Keys.OpenToken("dsr callback", r.PathValue("token"), h.s.now())
	if errors.Is(err, keyring.ErrExpired) {
		return server.Errorf(http.StatusGone, "expired", "this callback link has expired")
	}
	if err != nil {
		return server.NotFound("%s", "no such callback")
	}
	parts := strings.SplitN(string(claim), "|", 3)
	if len(parts) != 3 {
		return server.NotFound("%s", "no such callback")
	}
	id, system, typ := parts[0], parts[1], parts[2]
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return server.BadRequest("", "read the body: %v", err)
	}
	secret, err := h.s.secret(system)
	if err != nil {
		return err
	}
	if err := webhook.Verify([]byte(secret), r.Header.Get(webhook.Header), body, h.s.now(), 5*time.Minute); err != nil {
		return server.Errorf(http.StatusUnauthorized, "bad_signature", "%v", err)
	}
	var res ServiceResult
	if err := json.Unmarshal(body, &res); err != nil {
		return server.BadRequest("", "the body is not a JSON result: %v", err)
	}
	if res.Status != "completed" && res.Status != "failed" {
		return server.BadRequest("status", "status must be completed or failed")
	}
	key := "webhook:" + system + ":" + typ
	if _, done, err := h.s.stepDone(ctx, id, key); err != nil {
		return err
	} else if !done {
		if err := h.s.markDone(ctx, id, key, res); err != nil {
			return err
		}
	}
	// Wake the request: the next worker pass continues it.
	if _, err := h.s.Store.DB().ExecContext(ctx, h.s.Store.Rebind(`UPDATE requests SET next_attempt_at = ? WHERE id = ? AND status IN ('executing', 'waiting')`), ts(h.s.now()), id); err != nil {
		return h.s.Store.Wrap(err, "dsr: wake request %s", id)
	}
	h.s.eventID(ctx, id, "request.service_answered", map[string]any{"system": system, "type": typ, "status": res.Status, "records": res.Records, "callback": true})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

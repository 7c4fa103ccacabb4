package breach

import (
	"errors"
	"net/http"
	"time"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/server"
)

// incidentBody is the JSON of POST and PATCH /v1/incidents.
type incidentBody struct {
	Title        *string    `json:"title"`
	Description  *string    `json:"description"`
	DiscoveredAt *time.Time `json:"discovered_at"`
	OccurredAt   *time.Time `json:"occurred_at"`
	Systems      *[]string  `json:"systems"`
	Categories   *[]string  `json:"categories"`
	Risk         *string    `json:"risk"`
	Consequences *string    `json:"consequences"`
	Measures     *string    `json:"measures"`
	DelayReason  *string    `json:"delay_reason"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// apiErr maps the register's errors onto the API's.
func apiErr(err error) error {
	var in *InputError
	switch {
	case errors.As(err, &in):
		return server.BadRequest(in.Field, "%s", in.Msg)
	case errors.Is(err, ErrNotFound):
		return server.NotFound("no such incident")
	case errors.Is(err, ErrState):
		return server.Conflict("incident_state", "%s", err.Error())
	}
	return err
}

// Mount mounts the register's API on mux, for admin tokens: POST and GET
// /v1/incidents, GET and PATCH /v1/incidents/{id}, POST …/contain,
// …/assess, …/notified, …/close, and GET …/draft?to=authority|subjects.
func (reg *Register) Mount(mux *server.Mux) {
	caller := func(r *http.Request) string { return "api:" + server.CallerName(r.Context()) }
	reply := func(w http.ResponseWriter, status int, inc *Incident, err error) error {
		if err != nil {
			return apiErr(err)
		}
		server.WriteJSON(w, status, inc)
		return nil
	}
	mux.Handle("POST /v1/incidents", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		var b incidentBody
		if err := server.DecodeJSON(r, &b); err != nil {
			return err
		}
		if b.DelayReason != nil {
			return server.BadRequest("delay_reason", "a new incident has no delay yet: set it with PATCH when you notify late")
		}
		inc, err := reg.Open(r.Context(), New{
			Title: deref(b.Title), Description: deref(b.Description), Discovered: deref(b.DiscoveredAt), Occurred: deref(b.OccurredAt),
			Systems: deref(b.Systems), Categories: deref(b.Categories), Risk: Risk(deref(b.Risk)),
			Consequences: deref(b.Consequences), Measures: deref(b.Measures), By: caller(r),
		})
		return reply(w, http.StatusCreated, inc, err)
	}, server.MaxBody(64<<10))
	mux.Handle("GET /v1/incidents", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		incs, err := reg.List(r.Context(), r.URL.Query().Get("all") == "true")
		if err != nil {
			return err
		}
		server.WriteJSON(w, http.StatusOK, map[string]any{"incidents": incs})
		return nil
	})
	mux.Handle("GET /v1/incidents/{id}", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		inc, err := reg.Get(r.Context(), r.PathValue("id"))
		return reply(w, http.StatusOK, inc, err)
	})
	mux.Handle("PATCH /v1/incidents/{id}", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		var b incidentBody
		if err := server.DecodeJSON(r, &b); err != nil {
			return err
		}
		if b.Title != nil {
			return server.BadRequest("title", "cannot change: it names the record")
		}
		if b.DiscoveredAt != nil {
			return server.BadRequest("discovered_at", "cannot change: the deadline runs from it")
		}
		c := Change{Description: b.Description, Occurred: b.OccurredAt, Systems: b.Systems, Categories: b.Categories,
			Consequences: b.Consequences, Measures: b.Measures, DelayReason: b.DelayReason, By: caller(r)}
		if b.Risk != nil {
			rk := Risk(*b.Risk)
			c.Risk = &rk
		}
		inc, err := reg.Update(r.Context(), r.PathValue("id"), c)
		return reply(w, http.StatusOK, inc, err)
	}, server.MaxBody(64<<10))
	mux.Handle("POST /v1/incidents/{id}/contain", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		inc, err := reg.Contain(r.Context(), r.PathValue("id"), caller(r))
		return reply(w, http.StatusOK, inc, err)
	})
	mux.Handle("POST /v1/incidents/{id}/assess", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		inc, err := reg.Assess(r.Context(), r.PathValue("id"), caller(r))
		return reply(w, http.StatusOK, inc, err)
	})
	mux.Handle("POST /v1/incidents/{id}/notified", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		var b struct {
			To        string     `json:"to"`
			At        *time.Time `json:"at"`
			Reference string     `json:"reference"`
		}
		if err := server.DecodeJSON(r, &b); err != nil {
			return err
		}
		inc, err := reg.Notify(r.Context(), r.PathValue("id"), Notification{To: Party(b.To), At: deref(b.At), Reference: b.Reference, By: caller(r)})
		return reply(w, http.StatusOK, inc, err)
	}, server.MaxBody(4<<10))
	mux.Handle("POST /v1/incidents/{id}/close", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		inc, err := reg.Close(r.Context(), r.PathValue("id"), caller(r))
		return reply(w, http.StatusOK, inc, err)
	})
	mux.Handle("GET /v1/incidents/{id}/draft", apitoken.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) error {
		to := r.URL.Query().Get("to")
		if to == "" {
			to = string(Authority)
		}
		d, err := reg.Draft(r.Context(), r.PathValue("id"), Party(to))
		if err != nil {
			return apiErr(err)
		}
		server.WriteJSON(w, http.StatusOK, d)
		return nil
	})
}

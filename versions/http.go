package versions

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/server"
)

// Mount mounts the published policy's stable public URLs on mux, and the
// API that records acceptances (scope consent):
//
//	GET  /privacy                          the version in effect, HTML
//	GET  /privacy/policy.md                … as Markdown
//	GET  /privacy/summary.md               … its quick summary
//	GET  /privacy/versions                 every version, JSON (id, hash, effective, changes, links)
//	GET  /privacy/versions/{id}            a version, HTML ({id}: v3, 3 or a hash prefix)
//	GET  /privacy/versions/{id}/policy.md  a version, Markdown
//	GET  /privacy/versions/{id}/summary.md a version's quick summary
//	GET  /privacy/versions/{id}/vow.yaml   the policy file it was published from (admin: it is the data map)
//	POST /v1/policy/acceptances            record that a subject accepted a version
//	GET  /v1/policy/acceptances/{subject}  a subject's acceptances
//
// A published version never changes, so its URLs may be cached for good;
// the /privacy URLs follow the version in effect.
func (s *Service) Mount(mux *server.Mux) {
	for _, rt := range []struct {
		pattern, scope string
		h              server.HandlerFunc
	}{
		{"GET /privacy", server.Public, s.current("html")},
		{"GET /privacy/policy.md", server.Public, s.current("md")},
		{"GET /privacy/summary.md", server.Public, s.current("summary")},
		{"GET /privacy/versions", server.Public, s.list},
		{"GET /privacy/versions/{id}", server.Public, s.version("html")},
		{"GET /privacy/versions/{id}/policy.md", server.Public, s.version("md")},
		{"GET /privacy/versions/{id}/summary.md", server.Public, s.version("summary")},
		{"GET /privacy/versions/{id}/vow.yaml", apitoken.ScopeAdmin, s.version("yaml")},
		{"GET /v1/policy/acceptances/{subject}", apitoken.ScopeConsent, s.acceptances},
	} {
		mux.Handle(rt.pattern, rt.scope, rt.h)
	}
	mux.Handle("POST /v1/policy/acceptances", apitoken.ScopeConsent, s.accept, server.MaxBody(4<<10))
}

// policyErr is the API's answer to the service's errors.
func policyErr(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return server.NotFound("no such policy version")
	case errors.Is(err, ErrNoVersions):
		return server.Errorf(http.StatusNotFound, "not_published", "no privacy policy has been published yet")
	}
	return err
}

func (s *Service) current(kind string) server.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.Current(r.Context())
		if err != nil {
			return policyErr(err)
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Link", `</privacy/versions/`+v.ID+`>; rel="canonical"`)
		serveVersion(w, r, v, kind)
		return nil
	}
}

func (s *Service) version(kind string) server.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		v, err := s.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return policyErr(err)
		}
		// The source is for admins: no shared cache may keep it.
		if kind == "yaml" {
			w.Header().Set("Cache-Control", "private, no-store")
		} else {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		serveVersion(w, r, v, kind)
		return nil
	}
}

func (s *Service) accept(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Subject string `json:"subject"`
		Version string `json:"version"`
		Source  string `json:"source"`
	}
	if err := server.DecodeJSON(r, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Subject) == "" {
		return server.BadRequest("subject", "subject is required: the email address or user id that accepted")
	}
	acc, err := s.Accept(r.Context(), in.Subject, in.Version, cmp.Or(in.Source, "api:"+server.CallerName(r.Context())))
	switch {
	case errors.Is(err, ErrNotFound):
		return server.BadRequest("version", "no such policy version %q", in.Version)
	case errors.Is(err, ErrNoVersions):
		return server.Conflict("not_published", "no privacy policy has been published yet")
	case err != nil:
		return err
	}
	server.WriteJSON(w, http.StatusOK, acc)
	return nil
}

func (s *Service) acceptances(w http.ResponseWriter, r *http.Request) error {
	list, err := s.Acceptances(r.Context(), r.PathValue("subject"))
	if err != nil {
		return err
	}
	if list == nil {
		list = []Acceptance{}
	}
	server.WriteJSON(w, http.StatusOK, map[string]any{"acceptances": list})
	return nil
}

func serveVersion(w http.ResponseWriter, r *http.Request, v *Version, kind string) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	var body string
	switch kind {
	case "html":
		// The page is self-contained: it needs no script, image or font.
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
		h.Set("Content-Type", "text/html; charset=utf-8")
		body = v.HTML
	case "md":
		h.Set("Content-Type", "text/markdown; charset=utf-8")
		body = v.Markdown
	case "summary":
		h.Set("Content-Type", "text/markdown; charset=utf-8")
		body = v.Summary
	case "yaml":
		h.Set("Content-Type", "application/yaml; charset=utf-8")
		body = v.Source
	}
	// One version's page never changes: its hash and kind name it, on the
	// current URL too.
	server.WriteBody(w, r, http.StatusOK, []byte(body), v.Hash+"-"+kind)
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) error {
	vs, err := s.List(r.Context())
	if err != nil {
		return policyErr(err)
	}
	current := ""
	if c, err := s.Current(r.Context()); err == nil {
		current = c.ID
	}
	type link struct {
		*Version
		Current bool              `json:"current"`
		Links   map[string]string `json:"links"`
	}
	out := struct {
		Versions []link `json:"versions"`
	}{Versions: []link{}}
	for _, v := range vs {
		base := "/privacy/versions/" + v.ID
		out.Versions = append(out.Versions, link{v, v.ID == current, map[string]string{
			"html": base, "markdown": base + "/policy.md", "summary": base + "/summary.md"}})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=60")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
	return nil
}

package versions

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/vowprivacy/vow/server"
)

// Route is one GET route of the published policy.
type Route struct {
	Pattern string // a net/http ServeMux pattern
	Handler http.HandlerFunc
	// Private routes are for the company only: the policy file a version
	// was published from is the whole data map — tables, columns, the
	// names of environment variables, internal webhook URLs.
	Private bool
}

// Routes are the stable public URLs of the policy:
//
//	GET /privacy                           the policy in effect, HTML
//	GET /privacy/policy.md                 the same, Markdown
//	GET /privacy/summary.md                its quick summary
//	GET /privacy/versions                  every version, JSON (id, hash, effective, changes, links)
//	GET /privacy/versions/{id}             a version, HTML ({id}: v3, 3 or a hash prefix)
//	GET /privacy/versions/{id}/policy.md   a version, Markdown
//	GET /privacy/versions/{id}/summary.md  a version's quick summary
//	GET /privacy/versions/{id}/vow.yaml    the policy file it was published from (private)
//
// A published version never changes, so its URLs may be cached for good;
// the /privacy URLs follow the version in effect.
func (s *Service) Routes() []Route {
	return []Route{
		{"GET /privacy", s.current("html"), false},
		{"GET /privacy/policy.md", s.current("md"), false},
		{"GET /privacy/summary.md", s.current("summary"), false},
		{"GET /privacy/versions", s.list, false},
		{"GET /privacy/versions/{id}", s.version("html"), false},
		{"GET /privacy/versions/{id}/policy.md", s.version("md"), false},
		{"GET /privacy/versions/{id}/summary.md", s.version("summary"), false},
		{"GET /privacy/versions/{id}/vow.yaml", s.version("yaml"), true},
	}
}

// Handler serves the public Routes on its own mux, for use outside `vow
// serve`.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.Routes() {
		if !r.Private {
			mux.HandleFunc(r.Pattern, r.Handler)
		}
	}
	return mux
}

func (s *Service) current(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Current(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Header().Set("Link", `</privacy/versions/`+v.ID+`>; rel="canonical"`)
		serveVersion(w, r, v, kind)
	}
}

func (s *Service) version(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := s.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			fail(w, err)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		w.Header().Set("ETag", `"`+v.Hash+`-`+kind+`"`)
		serveVersion(w, r, v, kind)
	}
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
	server.WriteBody(w, r, http.StatusOK, []byte(body))
}

func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	vs, err := s.List(r.Context())
	if err != nil {
		fail(w, err)
		return
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
}

// fail writes a short JSON error; internals never reach the reader.
func fail(w http.ResponseWriter, err error) {
	status, code, msg := http.StatusInternalServerError, "internal", "the policy could not be read"
	switch {
	case errors.Is(err, ErrNotFound):
		status, code, msg = http.StatusNotFound, "not_found", "no such policy version"
	case errors.Is(err, ErrNoVersions):
		status, code, msg = http.StatusNotFound, "not_published", "no privacy policy has been published yet"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	_, _ = w.Write(append(b, '\n'))
}

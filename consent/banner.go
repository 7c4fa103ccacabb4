package consent

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/vowprivacy/vow/server"
)

//go:embed banner/banner.js
var bannerSource []byte

// bannerPlaceholder is replaced by the banner's configuration.
var bannerPlaceholder = []byte("/*VOW_CONFIG*/null")

// bannerCategory is a cookie category as the banner shows it.
type bannerCategory struct {
	Name        string         `json:"name"`
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	Essential   bool           `json:"essential"`
	GPC         bool           `json:"gpc,omitempty"`
	Purposes    []string       `json:"purposes"`
	Cookies     []bannerCookie `json:"cookies"`
}

type bannerCookie struct {
	Name        string `json:"name"`
	Provider    string `json:"provider,omitempty"`
	Duration    string `json:"duration"`
	Description string `json:"description,omitempty"`
}

// bannerConfig is what the banner script is built from.
type bannerConfig struct {
	Organization string           `json:"organization"`
	Version      string           `json:"version"`
	Categories   []bannerCategory `json:"categories"`
	GPC          []string         `json:"gpc"`
}

var categoryTitles = map[string]string{
	"essential":  "Essential",
	"functional": "Functional",
	"analytics":  "Analytics",
	"marketing":  "Marketing",
}

// bannerCategories groups the policy's cookies by category, essential
// first; each non-essential category carries the consent purposes of its
// cookies.
func (s *Service) bannerCategories() []bannerCategory {
	var out []bannerCategory
	idx := map[string]int{}
	for _, c := range s.p.Cookies {
		i, ok := idx[c.Category]
		if !ok {
			title := categoryTitles[c.Category]
			if title == "" {
				title = strings.ToUpper(c.Category[:1]) + c.Category[1:]
			}
			out = append(out, bannerCategory{Name: c.Category, Title: title, Essential: c.Category == "essential", Purposes: []string{}})
			i = len(out) - 1
			idx[c.Category] = i
		}
		bc := &out[i]
		dur := "session"
		if !c.Duration.IsZero() {
			dur = c.Duration.Human()
		}
		bc.Cookies = append(bc.Cookies, bannerCookie{Name: c.Name, Provider: c.Provider, Duration: dur, Description: c.Description})
		if cp := s.byName[c.Purpose]; cp != nil && !bc.Essential {
			if !containsStr(bc.Purposes, c.Purpose) {
				bc.Purposes = append(bc.Purposes, c.Purpose)
			}
			bc.GPC = bc.GPC || cp.GPC
		}
	}
	// Essential first: it is shown (locked on) before the choices.
	for i := range out {
		if out[i].Essential && i > 0 {
			e := out[i]
			copy(out[1:i+1], out[:i])
			out[0] = e
		}
	}
	// A category is described by what its purposes are for, in the
	// policy's words, then by its cookies.
	for i := range out {
		var why, names []string
		for _, p := range out[i].Purposes {
			if pp := s.p.Purpose(p); pp != nil && pp.Description != "" {
				why = append(why, pp.Description)
			}
		}
		for _, c := range out[i].Cookies {
			names = append(names, c.Name)
		}
		out[i].Description = strings.Join(why, "; ")
		if len(names) > 0 {
			if out[i].Description != "" {
				out[i].Description += " "
			}
			out[i].Description += "(cookies: " + strings.Join(names, ", ") + ")"
		}
	}
	return out
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Service) bannerConfig() bannerConfig {
	cfg := bannerConfig{Organization: s.p.Organization.Name, Version: s.version, Categories: s.bannerCategories(), GPC: []string{}}
	for _, c := range cfg.Categories {
		if c.GPC {
			cfg.GPC = append(cfg.GPC, strings.ToLower(c.Title)+" cookies")
		}
	}
	return cfg
}

// bannerScript is the banner with its configuration built in.
func (s *Service) bannerScript() ([]byte, error) {
	cfg, err := json.Marshal(s.bannerConfig())
	if err != nil {
		return nil, fmt.Errorf("consent: banner: %w", err)
	}
	// </script> inside a string cannot end an inline copy of the script.
	cfg = bytes.ReplaceAll(cfg, []byte("</"), []byte(`<\/`))
	if !bytes.Contains(bannerSource, bannerPlaceholder) {
		return nil, fmt.Errorf("consent: banner: the script has no configuration placeholder")
	}
	return bytes.Replace(bannerSource, bannerPlaceholder, cfg, 1), nil
}

// BannerScript returns the cookie banner script for the policy, as served
// at /consent/banner.js.
func (s *Service) BannerScript() ([]byte, error) { return s.bannerScript() }

// bannerHash names this version of the banner (its script with the
// policy's configuration built in).
func (h *handlers) bannerHash() string {
	sum := sha256.Sum256(h.banner)
	return hex.EncodeToString(sum[:8])
}

// bannerJS serves the banner at its stable URL, cached five minutes (a
// new policy version shows within that), naming its versioned URL in a
// Link header.
func (h *handlers) bannerJS(w http.ResponseWriter, r *http.Request) error {
	hash := h.bannerHash()
	w.Header().Set("Link", "<"+h.base+"/consent/banner/"+hash+"/banner.js>; rel=\"canonical\"")
	return h.writeBanner(w, r, hash, "public, max-age=300")
}

// bannerVersioned serves the banner at its versioned URL, which never
// changes and is cached for good; an older version's URL is sent to the
// current one.
func (h *handlers) bannerVersioned(w http.ResponseWriter, r *http.Request) error {
	hash := h.bannerHash()
	if r.PathValue("hash") != hash {
		w.Header().Set("Cache-Control", "public, max-age=300")
		http.Redirect(w, r, h.base+"/consent/banner/"+hash+"/banner.js", http.StatusFound)
		return nil
	}
	return h.writeBanner(w, r, hash, "public, max-age=31536000, immutable")
}

func (h *handlers) writeBanner(w http.ResponseWriter, r *http.Request, hash, cache string) error {
	w.Header().Set("Cache-Control", cache)
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	server.WriteBody(w, r, http.StatusOK, h.banner, hash)
	return nil
}

func (h *handlers) bannerConfig(w http.ResponseWriter, r *http.Request) error {
	server.WriteJSON(w, http.StatusOK, h.s.bannerConfig())
	return nil
}

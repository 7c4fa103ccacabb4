package server

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// compressAbove is the smallest body worth compressing.
const compressAbove = 1024

// WriteBody writes body with status, gzip-compressed when the client
// accepts it and the body is large enough to gain: the policy pages and
// the cookie banner are read by every visitor, often on a phone. The
// caller sets Content-Type and any caching headers first.
//
// With a non-empty etag (an opaque tag, without quotes), the response
// carries it as a strong ETag, suffixed "-gzip" for the compressed form —
// the two forms differ in bytes, and a strong validator must name one —
// and a matching If-None-Match is answered 304 Not Modified.
func WriteBody(w http.ResponseWriter, r *http.Request, status int, body []byte, etag string) {
	h := w.Header()
	h.Add("Vary", "Accept-Encoding")
	gz := len(body) >= compressAbove && acceptsGzip(r)
	if etag != "" {
		if gz {
			etag += "-gzip"
		}
		etag = `"` + etag + `"`
		h.Set("ETag", etag)
		if status == http.StatusOK && matchesETag(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if gz {
		body = Gzip(body)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// matchesETag reports whether an If-None-Match header names etag; the
// comparison is weak, as RFC 9110 has it for If-None-Match.
func matchesETag(header, etag string) bool {
	if header == "" {
		return false
	}
	if strings.TrimSpace(header) == "*" {
		return true
	}
	for _, t := range strings.Split(header, ",") {
		if strings.TrimPrefix(strings.TrimSpace(t), "W/") == etag {
			return true
		}
	}
	return false
}

// Gzip compresses b at the best level: bodies are small and often
// compressed once and kept.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(b)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestCompression)
	return zw
}}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip
// (and does not refuse it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") && strings.TrimSpace(name) != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

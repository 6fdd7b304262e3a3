package collector

import (
	"bytes"
	"crypto/sha256"
	_ "embed" // the snippet ships inside the binary
	"encoding/hex"
	"net/http"
	"time"
)

//go:embed t.js
var snippet []byte

// snippetETag changes whenever the snippet does, so caches revalidate
// cheaply after a release.
var snippetETag = func() string {
	sum := sha256.Sum256(snippet)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}()

// snippetMaxAge is short enough that a fixed snippet reaches every
// visitor within the hour, long enough that page loads rarely ask.
const snippetMaxAge = "public, max-age=3600"

func serveSnippet(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", snippetMaxAge)
	h.Set("ETag", snippetETag)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "t.js", time.Time{}, bytes.NewReader(snippet))
}

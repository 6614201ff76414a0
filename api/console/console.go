// Package console is sfnd's web console: a single-page application served on the
// API's port (GET / and every deep link below it) and a small read-only JSON service
// for what the AWS API does not answer (verifying a history, an activity's queue).
//
// The page reads everything through the edge's POST / API, as any AWS client does:
// the Step Functions operations, and the "SfndConsole." operations registered here.
// Both go through the same edge (and so through the same authentication): the
// console is never a second way in nor a second source of truth.
//
// The built assets (dist/) are committed and embedded; their sources live in web/
// and `npm ci && npm run build` in web/ rebuilds them (TestAssetsMatchSources
// checks that the committed build is the build of the committed sources).
package console

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// AssetPrefix is the URL path the built assets are served under.
const AssetPrefix = "/_console/"

// Handler serves the console: its assets under AssetPrefix and the page itself for
// every other path (the page routes deep links such as /executions/<arn> itself).
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err)
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic(err)
	}
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if rest, ok := strings.CutPrefix(r.URL.Path, AssetPrefix); ok {
			name := path.Clean("/" + rest)
			if _, err := fs.Stat(sub, strings.TrimPrefix(name, "/")); err != nil || name == "/" || name == "/index.html" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Cache-Control", "no-cache")
			r2 := r.Clone(r.Context())
			r2.URL.Path = name
			files.ServeHTTP(w, r2)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
		w.Header().Set("X-Frame-Options", "DENY")
		http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(index))
	})
}

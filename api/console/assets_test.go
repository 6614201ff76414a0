package console

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAssetsMatchSources rebuilds the console from web/ (npm ci, then the build
// script) into a temporary directory and checks that the committed dist/ is exactly
// that build: the embedded assets are never edited by hand nor left stale. It needs
// node and npm (and the npm registry); without node it skips.
func TestAssetsMatchSources(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not installed")
	}
	work := t.TempDir()
	for _, name := range []string{"package.json", "package-lock.json", "build.mjs"} {
		copyFile(t, filepath.Join("web", name), filepath.Join(work, name))
	}
	if err := filepath.WalkDir(filepath.Join("web", "src"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel("web", path)
		copyFile(t, path, filepath.Join(work, rel))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "npm_config_update_notifier=false", "npm_config_fund=false", "npm_config_audit=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")
	out := filepath.Join(work, "out")
	run(node, "build.mjs", "--outdir", out)

	built := listFiles(t, out)
	committed := listFiles(t, "dist")
	if !slices.Equal(built, committed) {
		t.Fatalf("dist/ holds %v, the build makes %v: run `npm ci && npm run build` in api/console/web and commit dist/", committed, built)
	}
	for _, name := range built {
		a, _ := os.ReadFile(filepath.Join(out, name))
		b, _ := os.ReadFile(filepath.Join("dist", name))
		if !bytes.Equal(a, b) {
			t.Errorf("dist/%s differs from the build of web/ (%d bytes built, %d committed): run `npm ci && npm run build` in api/console/web and commit dist/", name, len(a), len(b))
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	if err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out = append(out, filepath.ToSlash(rel))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

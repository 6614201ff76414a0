// Package console_test drives sfnd's web console in headless Chromium (Debian's
// chromium package) against a real sfnd node: the pages a user opens, the graph's
// colours against the history, live following, the event filter, the start form and
// a 25,000-event history.
package console_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium (.ci/run installs it); the tests skip only
// when no browser can be had.
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{os.Getenv("SFND_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium on this machine (apt-get install -y chromium; .ci/run installs it)")
	return ""
}

// page is one browser tab on a console.
type page struct {
	t    testing.TB
	ctx  context.Context
	base string
}

// browser is the one Chromium the package's tests share (each test has its own tab).
var browser struct {
	once sync.Once
	ctx  context.Context
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	os.Exit(code)
}

func newPage(t testing.TB, base string) *page {
	t.Helper()
	path := chromiumPath(t)
	browser.once.Do(func() {
		dir, err := os.MkdirTemp("", "sfnd-console-chromium-")
		if err != nil {
			browser.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.WindowSize(1400, 1000),
			chromedp.UserDataDir(dir),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(actx)
		browser.ctx = ctx
		browser.stop = func() {
			cancelCtx()
			cancelAlloc()
			_ = os.RemoveAll(dir)
		}
		// Start the browser now, so a missing library fails here, clearly.
		browser.err = chromedp.Do(ctx)
	})
	if browser.err != nil {
		t.Fatalf("start chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &page{t: t, ctx: ctx, base: base}
}

// run runs actions with a deadline.
func (p *page) run(within time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, within)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.fail(err)
	}
}

func (p *page) fail(err error) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText : ''`))
	if len(html) > 3000 {
		html = html[:3000]
	}
	p.t.Fatalf("browser: %v\npage text: %s", err, html)
}

func (p *page) open(path string) {
	p.t.Helper()
	p.run(30*time.Second, chromedp.Navigate(p.base+path))
}

// waitJS waits until a JavaScript expression is truthy (checking every 20 ms; an
// evaluation that fails, as one does while a page loads, counts as false).
func (p *page) waitJS(within time.Duration, expr string) {
	p.t.Helper()
	// A wait for a condition, not a speed check: the browser shares the machine with
	// every other test, and a starved Chromium answers one evaluation in seconds. The
	// deadlines the tests give (what an idle machine needs, with margin) are tripled.
	within *= waitScale
	deadline := time.Now().Add(within)
	var last error
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		last = err
		if time.Now().After(deadline) {
			p.fail(fmt.Errorf("waited %v for %s (last error %v)", within, expr, last))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitScale multiplies waitJS deadlines (see there).
const waitScale = 3

// eval returns a JavaScript expression's value.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail(err)
	}
	return v
}

// selectValue picks an option of a <select> as a user does (a change event).
func (p *page) selectValue(sel, value string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true })()`, sel, value))
}

// typeInto replaces a field's text as typing does (input events).
func (p *page) typeInto(sel, text string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('input', {bubbles: true})); return true })()`, sel, text))
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.run(10*time.Second, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// screenshot writes the page to $SFND_CONSOLE_SCREENSHOTS/name.png when that
// directory is set (docs/screenshots holds the committed ones).
func (p *page) screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv("SFND_CONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fail(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func enc(arn string) string      { return strings.ReplaceAll(url.PathEscape(arn), ":", "%3A") }
func execPath(arn string) string { return "/executions/" + enc(arn) }
func smPath(arn string) string   { return "/state-machines/" + enc(arn) }

func q(s string) string { return fmt.Sprintf("%q", s) }

func nodeStatusJS(state string) string {
	return `(document.querySelector('g.node[data-state=` + q(state) + `]') || {dataset: {}}).dataset.status`
}

func contains(t testing.TB, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Fatalf("got %q, want it to contain %q", got, want)
	}
}

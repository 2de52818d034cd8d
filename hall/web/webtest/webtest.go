// Package webtest drives halld's pages in a real headless Chromium (Debian's chromium, through
// chromedp), for the tests of hall/web and of what embeds it.
package webtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is where Debian installs the browser; PATH is searched for it too.
const Chromium = "/usr/bin/chromium"

// ExecPath returns the browser to run, or "" when none is installed.
func ExecPath() string {
	if _, err := os.Stat(Chromium); err == nil {
		return Chromium
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// NeedBrowser skips t when no Chromium is installed, or fails it when env CI is set (where
// scripts/deps.sh test has installed it).
func NeedBrowser(t testing.TB) string {
	t.Helper()
	p := ExecPath()
	if p != "" {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("chromium is not installed (CI is set: scripts/deps.sh test installs it)")
	}
	t.Skip("chromium is not installed: skipping the browser tests (scripts/deps.sh test installs it)")
	return ""
}

// Options shape the browser.
type Options struct {
	Width, Height int // the page's viewport; default 1280x800
	// Mobile emulates a phone's touch and viewport (the width and height above).
	Mobile bool
}

// Browser starts a headless Chromium for t (closed when t ends) and returns the context that
// chromedp actions run in: one tab. Autoplay is allowed, as in the display's packaged session,
// and the browser's sandbox is off when running as root (as in a container). It calls
// NeedBrowser first.
func Browser(t testing.TB, o Options) context.Context {
	t.Helper()
	path := NeedBrowser(t)
	if o.Width == 0 {
		o.Width, o.Height = 1280, 800
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancelA := context.WithCancel(context.Background())
	actx, cancelAlloc := chromedp.NewExecAllocator(actx, opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelA()
	})
	// The first run starts the browser, bound to the context it runs in: so ctx itself, not one
	// with a timeout that would end it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	// The page gets exactly Width x Height (the window's frame would take some of it).
	var vo []chromedp.EmulateViewportOption
	if o.Mobile {
		vo = append(vo, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(o.Width), int64(o.Height), vo...)); err != nil {
		t.Fatalf("setting the viewport: %v", err)
	}
	return ctx
}

// Do runs actions in ctx, in order, failing t on an error or when they take longer than d.
func Do(t testing.TB, ctx context.Context, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatal(err)
	}
}

// Eval returns the value of the JavaScript expression js in the page (a promise is awaited).
func Eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// WaitTrue waits until the JavaScript expression js is true in the page, checking every 10 ms
// (through navigations: an evaluation a page load interrupts is tried again), and fails t after
// d; it returns how long it took.
func WaitTrue(t testing.TB, ctx context.Context, d time.Duration, js string) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(d)
	var last error
	for {
		c, cancel := context.WithDeadline(ctx, deadline)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return time.Since(start)
		}
		if err != nil {
			last = err
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			t.Fatalf("waited %v for %s (last error: %v)", d, js, last)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Screenshot saves the whole page as a PNG at path when env UPDATE_SCREENSHOTS=1 (the reference
// pictures in docs/img/); otherwise it does nothing.
func Screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	if os.Getenv("UPDATE_SCREENSHOTS") != "1" {
		return
	}
	c, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(c, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(png))
}

// contrastJS finds every element with text of its own and measures its text colour against
// the first opaque background behind it (WCAG 2 contrast ratio); it returns those below min.
const contrastJS = `((min) => {
  const lum = (c) => {
    const v = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((x) => {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const opaque = (c) => { const m = c.match(/[\d.]+/g); return m && (m.length < 4 || Number(m[3]) > 0.99); };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim() !== "");
    if (!own || el.offsetParent === null && getComputedStyle(el).position !== "fixed") continue;
    const fg = getComputedStyle(el).color;
    let bg = null;
    for (let e = el; e; e = e.parentElement) {
      const b = getComputedStyle(e).backgroundColor;
      if (opaque(b)) { bg = b; break; }
    }
    bg = bg || "rgb(255, 255, 255)";
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < min) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : "") +
      " " + JSON.stringify(el.textContent.trim().slice(0, 20)) + " " + fg + " on " + bg + " = " + ratio.toFixed(2));
  }
  return out;
})`

// CheckContrast fails t for every visible text in the page whose colour has less than min
// contrast (WCAG 2) with the background behind it. Run it when no animation is on.
func CheckContrast(t testing.TB, ctx context.Context, min float64) {
	t.Helper()
	settled(t, ctx)
	for _, bad := range Eval[[]string](t, ctx, fmt.Sprintf("%s(%g)", contrastJS, min)) {
		t.Errorf("low contrast: %s", bad)
	}
}

// settled waits until the page and every stylesheet it links have loaded: a check run on a page
// just navigated to, under load, could otherwise measure the browser's default colours.
func settled(t testing.TB, ctx context.Context) {
	t.Helper()
	WaitTrue(t, ctx, 10*time.Second, `document.readyState === "complete" &&
		Array.from(document.querySelectorAll('link[rel=stylesheet]')).every((l) => l.sheet !== null)`)
}

// edgesJS measures each visible element matching the selector: the contrast (WCAG 2) of its
// border, or of its own background where it has no border, against the first opaque background
// behind it; it returns those below min (a control must stand out from what is behind it,
// WCAG 1.4.11: 3:1).
const edgesJS = `((sel, min) => {
  const lum = (c) => {
    const v = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((x) => {
      x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const opaque = (c) => { const m = c.match(/[\d.]+/g); return m && (m.length < 4 || Number(m[3]) > 0.99); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    let behind = null;
    for (let e = el.parentElement; e; e = e.parentElement) {
      const b = getComputedStyle(e).backgroundColor;
      if (opaque(b)) { behind = b; break; }
    }
    behind = behind || "rgb(255, 255, 255)";
    const st = getComputedStyle(el);
    const border = parseFloat(st.borderTopWidth) > 0 && opaque(st.borderTopColor) ? st.borderTopColor : null;
    const edge = border || (opaque(st.backgroundColor) ? st.backgroundColor : null);
    if (!edge) continue;
    const got = ratio(edge, behind);
    if (got < min) out.push(el.tagName.toLowerCase() + (el.className ? "." + el.className : "") + " " +
      JSON.stringify(el.textContent.trim().slice(0, 20)) + " edge " + edge + " on " + behind + " = " + got.toFixed(2));
  }
  return out;
})`

// CheckEdges fails t for every visible element matching selector whose edge (its border, or
// its background when it has none) has less than min contrast (WCAG 2) with the background
// behind it.
func CheckEdges(t testing.TB, ctx context.Context, selector string, min float64) {
	t.Helper()
	settled(t, ctx)
	sel, _ := json.Marshal(selector)
	for _, bad := range Eval[[]string](t, ctx, fmt.Sprintf("%s(%s, %g)", edgesJS, sel, min)) {
		t.Errorf("low edge contrast: %s", bad)
	}
}

// Package browser drives the web console (/console/) in a real headless
// Chromium, the way a person uses it: it clicks, types and reads what the
// page shows. Debian's chromium package is the browser; outside CI a
// machine without one skips these tests (and says so), under CI=true that
// is a failure.
//
// A test fails on any uncaught JavaScript exception, any console error
// other than a failed network request, and any Content-Security-Policy
// violation the page reports.
//
// Each page the tests visit is also checked for what docs/console.md
// promises on accessibility: every control has a name, a page has one h1,
// and text meets the WCAG AA contrast ratio.
//
// IDPOOL_CONSOLE_SCREENSHOTS=<absolute dir> saves a screenshot of each
// page into dir; docs/console's pictures are made that way:
//
//	IDPOOL_CONSOLE_SCREENSHOTS=$PWD/docs/console go test ./test/browser
package browser

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// testTimeout bounds everything one test does in the browser; pollTimeout
// bounds one wait for the page to show something.
const (
	testTimeout = 120 * time.Second
	pollTimeout = 20 * time.Second
)

// chromiumPath finds the browser: $IDPOOL_CHROMIUM, or chromium (Debian's
// package), chromium-browser or google-chrome on the PATH.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("IDPOOL_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const why = "no chromium on this machine (apt-get install chromium, or set IDPOOL_CHROMIUM)"
	if os.Getenv("CI") == "true" {
		t.Fatal(why + "; under CI=true the browser tests must run")
	}
	t.Skip(why)
	return ""
}

// Tab is one browser tab on a console. Its methods fail the test at the
// first step that does not work, naming the step.
type Tab struct {
	t    *testing.T
	ctx  context.Context
	base string // the server's URL

	mu       sync.Mutex
	problems []string // exceptions, console errors, CSP violations
}

// cspProbe runs in every document before the page's own scripts (the
// DevTools protocol injects it, so the page's CSP does not apply to it)
// and keeps the CSP violations the page reports.
const cspProbe = `window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + e.sourceFile + ":" + e.lineNumber);
});`

// NewTab starts a headless Chromium with one tab. The browser is stopped
// when the test ends.
func NewTab(t *testing.T, baseURL string) *Tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelTimeout := context.WithTimeout(context.Background(), testTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	tab := &Tab{t: t, ctx: tabCtx, base: baseURL}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	// Starting the browser takes the first call.
	if _, err := chromedp.Call(tabCtx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspProbe}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(tabCtx, tab.watch); err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
	return tab
}

// watch keeps what would go unseen in a browser: uncaught exceptions and
// console errors. A failed request is the network's business (a 403 is
// what some tests want), so network entries are left out.
func (b *Tab) watch(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = fmt.Sprintf("uncaught exception: %s", d.Text)
		if d.Exception != nil && d.Exception.Description != "" {
			problem += " " + d.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, strings.Trim(string(a.Value), `"`)+a.Description)
			}
			problem = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level == log.EntryLevelError && e.Source != log.EntrySourceNetwork {
			problem = fmt.Sprintf("%s error: %s (%s:%d)", e.Source, e.Text, e.URL, e.LineNumber)
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// Check fails the test if the page threw, logged an error or broke its
// Content-Security-Policy so far.
func (b *Tab) Check() {
	b.t.Helper()
	csp := Eval[[]string](b, "CSP violations", `window.__csp || []`)
	b.mu.Lock()
	problems := append(append([]string(nil), b.problems...), csp...)
	b.mu.Unlock()
	for _, p := range problems {
		b.t.Errorf("browser: %s", p)
	}
}

// Do runs actions as one step; what names the step in a failure.
func (b *Tab) Do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pollTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

func (b *Tab) fail(what string, err error) {
	b.t.Helper()
	b.mu.Lock()
	problems := strings.Join(b.problems, "; ")
	b.mu.Unlock()
	// What a person would see: the page, its message, a sign-in error.
	seen, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`[document.body.dataset.ready, ...["#flash", "#signin-error"].map((s) => (document.querySelector(s) || {}).textContent)].filter(Boolean).join(" | ")`))
	b.t.Fatalf("%s: %v (page: %q; browser problems: %s)", what, err, seen, problems)
}

// Eval evaluates a JavaScript expression in the page.
func Eval[T any](b *Tab, what, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// Open loads the console at a route ("#/pools") and waits for the page.
func (b *Tab) Open(route, ready string) {
	b.t.Helper()
	b.Do("open "+route, chromedp.Navigate(b.base+"/console/"+route))
	b.Ready(ready)
}

// Ready waits until the console says the page named ready has loaded
// (body[data-ready]).
func (b *Tab) Ready(ready string) {
	b.t.Helper()
	b.Until("page "+ready, fmt.Sprintf(`document.body.dataset.ready === %q`, ready))
}

// Until waits until the JavaScript condition holds.
func (b *Tab) Until(what, cond string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(pollTimeout))); err != nil {
		b.fail("wait for "+what+" ("+cond+")", err)
	}
}

// Text returns the text of the first element sel matches, once it is
// there.
func (b *Tab) Text(sel string) string {
	b.t.Helper()
	b.Until(sel, fmt.Sprintf(`document.querySelector(%q) !== null`, sel))
	return Eval[string](b, "text of "+sel, fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
}

// Click clicks the element sel matches, once it is visible.
func (b *Tab) Click(sel string) {
	b.t.Helper()
	b.Do("click "+sel, chromedp.Click(sel, chromedp.NodeVisible))
}

// Type empties the field sel matches and types text into it, key by key.
func (b *Tab) Type(sel, text string) {
	b.t.Helper()
	b.Do("type into "+sel, chromedp.WaitVisible(sel),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""; undefined`, sel)),
		chromedp.SendKeys(sel, text))
	if got := Eval[string](b, "value of "+sel, fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != text {
		b.t.Fatalf("typed %q into %s, it holds %q", text, sel, got)
	}
}

// Select picks an option of the select element sel matches, as a person
// does (a change event follows).
func (b *Tab) Select(sel, value string) {
	b.t.Helper()
	b.Do("select "+value+" in "+sel, chromedp.SetValue(sel, value, chromedp.NodeVisible),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change")); undefined`, sel)))
}

// Count returns how many elements sel matches now.
func (b *Tab) Count(sel string) int {
	b.t.Helper()
	return Eval[int](b, "count "+sel, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// NoError fails the test if the console shows an error message.
func (b *Tab) NoError(after string) {
	b.t.Helper()
	if msg := Eval[string](b, "flash", `(() => { const f = document.querySelector("#flash"); return f.className === "ok" ? "" : f.textContent; })()`); msg != "" {
		b.t.Fatalf("after %s the console shows an error: %s", after, msg)
	}
}

// a11yProbe lists what keeps a person who uses a screen reader, a
// keyboard or weak eyes from the page: controls without an accessible
// name, a page without exactly one h1, text below WCAG AA contrast (4.5:1,
// 3:1 for large text) against the background it is drawn on.
const a11yProbe = `(() => {
  const out = [];
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  for (const el of document.querySelectorAll("input, select, textarea, button, a[href]")) {
    if (!visible(el) || el.type === "hidden") continue;
    const name = (el.labels && [...el.labels].map((l) => l.textContent).join(" ")) || el.getAttribute("aria-label") ||
      (el.getAttribute("aria-labelledby") && document.getElementById(el.getAttribute("aria-labelledby"))?.textContent) ||
      (["button", "a"].includes(el.localName) ? el.textContent : "") || el.title;
    if (!name || !name.trim()) out.push("no accessible name: " + el.outerHTML.slice(0, 120));
  }
  const h1s = [...document.querySelectorAll("h1")].filter(visible).length;
  if (h1s !== 1) out.push(h1s + " visible h1 elements");
  const rgb = (c) => { const m = c.match(/[\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.a > 0) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el) || el.closest("svg") || el.disabled) continue;
    const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
    if (!text) continue;
    const st = getComputedStyle(el);
    const fg = rgb(st.color), bg = background(el);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) out.push("contrast " + ratio.toFixed(2) + " < " + need + ": " + JSON.stringify(text.slice(0, 40)) + " (" + st.color + " on " + JSON.stringify(bg) + ")");
  }
  return out;
})()`

// Accessible fails the test on what a11yProbe finds on the page now.
func (b *Tab) Accessible(page string) {
	b.t.Helper()
	for _, p := range Eval[[]string](b, "accessibility of "+page, a11yProbe) {
		b.t.Errorf("%s page: %s", page, p)
	}
}

// Shot saves a screenshot of the whole page as <name>.png into
// $IDPOOL_CONSOLE_SCREENSHOTS, when that is set.
func (b *Tab) Shot(name string) {
	b.t.Helper()
	dir := os.Getenv("IDPOOL_CONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	// Screenshots show a page at rest: no focus ring, no blinking caret.
	Eval[bool](b, "blur", `(document.activeElement && document.activeElement.blur(), true)`)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

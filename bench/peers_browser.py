"""Peers in Chromium: from navigation to the article's spans drawn, per tool.

Each tool gives the page its editor opens on the article, the cookies of a signed-in
session, the elements that are its drawn spans and, optionally, a condition for the page
being ready to use. A first load, left until the count of those elements has not changed
for a second, says how many there are once the page has drawn all it draws (a span cut by
another is drawn in pieces, so the count is the tool's own; doccano draws only the lines in
view). Every timed load then records, from a script that runs before the page's own, the
first animation frame at which that many are in the document (``performance.now()``:
milliseconds since navigation began). The tools take turns load by load, in one browser,
as in the HTTP figures.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from dataclasses import dataclass

LOADS = int(os.environ.get("FRAMING_BENCH_PEERS_BROWSER_LOADS", "10"))
SETTLE_S = 1.0  # a count unchanged this long is "everything drawn"
TIMEOUT_MS = 120_000

# Checked at every animation frame from the start of the document.
WATCH = """
(() => {
  const selector = %(selector)s, want = %(want)d;
  const ready = () => %(ready)s;
  window.__drawn = null;
  const check = () => {
    if (document.querySelectorAll(selector).length >= want && ready()) {
      window.__drawn = performance.now();
    } else {
      requestAnimationFrame(check);
    }
  };
  requestAnimationFrame(check);
})();
"""


@dataclass(frozen=True)
class BrowserView:
    url: str
    cookies: list[dict]
    selector: str  # the elements that draw the spans
    ready: str = "true"  # a JavaScript expression: the page is usable
    what: str = ""  # what the figure measures, for the report


def session_cookies(client) -> list[dict]:
    """The cookies of a signed-in ``peers_http.Client``, for the browser."""
    return [{"name": n, "value": v, "url": client.base} for n, v in client.cookies.items()]


def measure(tools: list, problems: dict) -> dict[str, dict]:
    """``{tool: {"drawn": [ms, ...], "count": elements, "what": ...}}`` for the tools that
    give a ``browser_view()``; a tool that gives a reason instead, or fails, is in
    ``problems``."""
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    views, out = {}, {}
    for tool in tools:
        view = getattr(tool, "browser_view", None)
        if view is None:
            continue
        answer = view()
        if isinstance(answer, str):
            problems[f"{tool.name} (browser)"] = answer
        else:
            views[tool.name] = answer
    if not views:
        return out
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = {}
        try:
            for name, view in views.items():
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_cookies(view.cookies)
                page = context.new_page()
                try:
                    count = _settled_count(page, view)
                except Exception as error:  # a peer whose page cannot be driven is reported
                    if name == "Framing":
                        raise
                    problems[f"{name} (browser)"] = f"{type(error).__name__}: {error}"[:300]
                    context.close()
                    continue
                watch = WATCH % {
                    "selector": json.dumps(view.selector),
                    "want": count,
                    "ready": view.ready,
                }
                context.add_init_script(watch)
                pages[name] = page
                out[name] = {"drawn": [], "count": count, "what": view.what}
            for number in range(LOADS + 1):
                for name, page in pages.items():
                    page.goto(views[name].url, wait_until="commit")
                    page.wait_for_function(
                        "() => window.__drawn !== null && window.__drawn !== undefined",
                        timeout=TIMEOUT_MS,
                    )
                    if number:  # the first load warms the server and the browser's caches
                        out[name]["drawn"].append(page.evaluate("window.__drawn"))
        finally:
            browser.close()
    return out


def _settled_count(page, view: BrowserView) -> int:
    """How many span elements the page has once it has drawn everything."""
    page.goto(view.url, wait_until="load")
    page.wait_for_function(f"() => {view.ready}", timeout=TIMEOUT_MS)
    last, since = -1, time.monotonic()
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        count = page.evaluate("s => document.querySelectorAll(s).length", view.selector)
        if count != last:
            last, since = count, time.monotonic()
        elif count and time.monotonic() - since >= SETTLE_S:
            return count
        time.sleep(0.1)
    raise TimeoutError(f"no spans drawn ({view.selector}) within {TIMEOUT_MS / 1000:.0f} s")


def figures(results: dict) -> list[dict]:
    label = "browser: navigation → spans drawn (median)"
    reference = f"Framing: {label}"
    out = []
    for name in ("Framing", "doccano", "Label Studio"):
        result = results.get(name)
        if not result or not result["drawn"]:
            continue
        drawn = result["drawn"]
        figure = {
            "name": f"{name}: {label}",
            "value": round(statistics.median(drawn), 1),
            "unit": "ms",
            "note": f"{len(drawn)} loads; {result['count']:,} span elements; {result['what']}",
        }
        if name != "Framing":
            figure["ratio_to"] = reference
        out.append(figure)
    return out

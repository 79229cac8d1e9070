"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

One browser for the whole session, a new context (fresh cookies) per test. Users are
logged in by a session cookie made with Django's test client, which keeps tests fast.
Every page is watched: a console error, an uncaught exception or a CSP violation fails
the test that caused it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from
# a thread with a running loop unless told this is deliberate.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
# 409 and 422 are answers the coding screen swaps in on purpose; chromium still logs them.
EXPECTED_STATUS = re.compile(r"Failed to load resource: .* status of (409|422)")

# Walks the text nodes of #doc-text to place a selection at UTF-16 offsets computed in
# Python, independently of the page's own conversion code, which is what is under test.
SELECT_JS = """
([start, end]) => {
  const root = document.getElementById("doc-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  function at(offset) {
    let seen = 0;
    for (const node of nodes) {
      if (offset <= seen + node.data.length) return [node, offset - seen];
      seen += node.data.length;
    }
    throw new Error("offset beyond the text: " + offset);
  }
  const [a, ao] = at(start);
  const [b, bo] = at(end);
  window.getSelection().setBaseAndExtent(a, ao, b, bo);
  return window.getSelection().toString();
}
"""


def utf16(text: str, code_points: int) -> int:
    return len(text[:code_points].encode("utf-16-le")) // 2


@dataclass
class Watcher:
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=lambda: [EXPECTED_STATUS])

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def watch(self, page) -> None:
        def on_console(message):
            if message.type in ("error", "warning") and not any(
                p.search(message.text) for p in self.allowed
            ):
                self.problems.append(f"console {message.type}: {message.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            "Debian's chromium is not installed; run make test as root or apt-get install chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def server(request):
    # WhiteNoise warns (an error under our filterwarnings) when STATIC_ROOT is missing, as
    # on a fresh checkout; the live server builds its middleware in its own thread.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    return request.getfixturevalue("live_server")


class Coding:
    """Opens pages as a given user and selects text in them."""

    def __init__(self, browser, server, watcher: Watcher):
        self.browser = browser
        self.url = server.url
        self.watcher = watcher
        self.contexts = []

    def context(self, user):
        client = Client()
        client.force_login(user)
        context = self.browser.new_context(viewport={"width": 1400, "height": 1000})
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": self.url,
                }
            ]
        )
        context.set_default_timeout(5000)
        self.contexts.append(context)
        return context

    def open(self, user_or_context, path: str):
        context = (
            user_or_context
            if hasattr(user_or_context, "new_page")
            else self.context(user_or_context)
        )
        page = context.new_page()
        self.watcher.watch(page)
        page.goto(self.url + path)
        return page

    def select(self, page, text: str, start: int, end: int) -> str:
        """Select text[start:end] (code points) in #doc-text; return what the browser selected."""
        return page.evaluate(SELECT_JS, [utf16(text, start), utf16(text, end)])

    @staticmethod
    def selection(page) -> str:
        return page.evaluate("() => window.getSelection().toString()")

    @staticmethod
    def wait_for_swap(page, previous_count: int, selector: str = "#doc-text .hl") -> None:
        page.wait_for_function(
            "([s, n]) => document.querySelectorAll(s).length !== n", arg=[selector, previous_count]
        )

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def coding(browser, server):
    watcher = Watcher()
    helper = Coding(browser, server, watcher)
    yield helper
    helper.close()
    assert not watcher.problems, "\n".join(watcher.problems)


@pytest.fixture
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS

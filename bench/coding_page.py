"""The coding page and its span writes: a 50,000-character article, 1,000 of the coder's own spans.

Server (Django's test client: middleware, view, queries, template; no network; SQLite):

- the page for a coder with 1,000 spans of their own, from the render cache (the usual
  case: the page is opened again without a write in between) and cold (the cache emptied
  before every request, as after a write); the same-run references are the page for a
  coder with no spans (the page's fixed cost) and a plain Django template drawing 1,000
  rows of two escaped strings (the machine's template speed right now);
- each span write (create, update, delete, restore) with 1,000 spans present, answered
  with only what changed (out-of-band swaps); the same-run reference is the same create
  answered with the whole workspace (what every write cost before), forced by sending a
  stale state token; queries per write counted with ``CaptureQueriesContext``.

Browser (Debian's chromium driven by Playwright against a live server on the same
database): from navigation to the page being interactive (the page's own Performance API
mark, set once its script is ready and the text drawn), and from pressing a code's key to
the new highlight being drawn; the references are the same figures for the coder with no
spans. The machine is shared: compare ratios, and the load averages in the description.
"""

from __future__ import annotations

import os
import random
import re
import time

from . import fresh_database, goal, median, p95, timed

ARTICLE_CHARS = 50_000
OWN_SPANS = 1_000
OTHER_SPANS = 1_000  # two other coders' spans on the same article (never shown)
REPEAT = 150
WRITES = 80
BROWSER_LOADS = 12
BROWSER_TAGS = 12
WORDS = [
    "the",
    "government",
    "said",
    "officials",
    "claimed",
    "foreign",
    "interference",
    "critics",
    "“confession”",
    "voluntary",
    "sham",
    "election",
    "café",
    "naïve",
    "Phnom",
    "Penh",
    "ក្មែរ",
    "opposition",
    "media",
    "👩\u200d🔬",
    "report",
    "Washington",
    "alleged",
    "campaign",
    "party",
    "court",
    "sentenced",
    "treason",
    "video",
    "statement",
]
STATE = re.compile(r'id="coding-state" data-state="([^"]*)"')


def article(rng: random.Random) -> str:
    parts: list[str] = []
    length = 0
    while length < ARTICLE_CHARS:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22))) + ". "
        if rng.random() < 0.15:
            sentence += "\n\n"
        parts.append(sentence)
        length += len(sentence)
    return "".join(parts)[: ARTICLE_CHARS - 1].rstrip() + "."


def word_starts(text: str) -> list[int]:
    return [
        i for i in range(len(text)) if not text[i].isspace() and (i == 0 or text[i - 1].isspace())
    ]


def build(rng: random.Random):
    """The article, a coder with 1,000 spans (nested and overlapping, four codes), two
    other coders with 500 each, and a coder with none."""
    from django.contrib.auth import get_user_model

    from annotations.models import Span
    from annotations.services import assignments, codebook, imports, people, projects

    project = projects.project_create(name="Benchmark", blind=True)
    codes = [
        codebook.code_create(codebook=project.codebook, name=name, shortcut=str(i))
        for i, name in enumerate(("Confession", "Interference", "Sourcing", "Loaded"), start=1)
    ]
    text = article(rng)
    document = imports.documents_import(
        project=project, files=[("long.txt", text.encode("utf-8"))]
    ).created[0]
    users = get_user_model().objects
    coders = [users.create_user(name) for name in ("coder", "other1", "other2", "empty")]
    work = []
    for coder in coders:
        people.membership_set(project=project, user=coder, role="coder")
        work.append(assignments.assignment_create(document=document, coder=coder))
    starts = word_starts(text)
    rows, seen = [], set()
    wanted = [(work[0], OWN_SPANS), (work[1], OTHER_SPANS // 2), (work[2], OTHER_SPANS // 2)]
    for assignment, count in wanted:
        made = 0
        while made < count:
            first = rng.randrange(len(starts) - 15)
            start = starts[first]
            end = starts[first + rng.randint(1, 12)]
            while text[end - 1].isspace():
                end -= 1
            code = rng.choice(codes)
            key = (assignment.pk, code.pk, start, end)
            if key in seen:
                continue
            seen.add(key)
            made += 1
            rows.append(
                Span(assignment=assignment, code=code, start=start, end=end, quote=text[start:end])
            )
    # Bulk rows: the spans are the benchmark's input, not what it measures.
    Span.objects.bulk_create(rows)
    for assignment in work[:3]:
        assignments.mark_started(assignment)
    return document, coders[0], coders[-1], codes, seen


def _load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def _plain_rows():
    """A template drawing 1,000 rows of two escaped strings: the reference for template speed
    (the same reference as the review page's benchmark)."""
    from django.template import engines

    template = engines["django"].from_string(
        "<table>{% for row in rows %}<tr><td>{{ row.name }}</td><td>{{ row.value }}</td>"
        "</tr>{% endfor %}</table>"
    )
    rows = [{"name": f"row {i}", "value": f"value <{i}>"} for i in range(1_000)]
    return lambda: template.render({"rows": rows})


def cpu_timed(call, *, repeat: int, warmup: int = 3) -> list[float]:
    """Milliseconds of this thread's CPU per call: less moved by other work on the machine."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.thread_time()
        call()
        samples.append((time.thread_time() - started) * 1000)
    return samples


class Writer:
    """Posts span writes as the page's script does (htmx headers, the state token of what
    the page shows), keeping the token from each answer."""

    def __init__(self, client, document, text: str, codes, seen: set, assignment, rng):
        self.client = client
        self.document = document
        self.text = text
        self.codes = codes
        self.seen = seen
        self.assignment = assignment
        self.rng = rng
        self.starts = word_starts(text)
        self.state = ""
        self.sizes: dict[str, list[int]] = {}

    def refresh(self) -> None:
        from django.urls import reverse

        page = self.client.get(reverse("annotate", args=[self.document.pk]))
        self.state = self._state(page.content.decode(), self.state)

    @staticmethod
    def _state(body: str, previous: str) -> str:
        found = STATE.search(body)
        return found.group(1) if found else previous

    def post(self, name: str, url: str, data: dict, *, state: str | None = None):
        data = {**data, "state": self.state if state is None else state}
        response = self.client.post(url, data, HTTP_HX_REQUEST="true")
        if response.status_code != 200:
            raise RuntimeError(f"{name} answered {response.status_code}")
        self.state = self._state(response.content.decode(), self.state)
        self.sizes.setdefault(name, []).append(len(response.content))
        return response

    def new_extent(self) -> dict:
        while True:
            first = self.rng.randrange(len(self.starts) - 15)
            start = self.starts[first]
            end = self.starts[first + self.rng.randint(1, 12)]
            while self.text[end - 1].isspace():
                end -= 1
            code = self.rng.choice(self.codes)
            key = (self.assignment.pk, code.pk, start, end)
            if key not in self.seen:
                self.seen.add(key)
                quote = self.text[start:end]
                return {"start": start, "end": end, "quote": quote, "code": code.pk}


def write_figures(client, document, codes, seen, assignment, rng) -> tuple[list[dict], dict]:
    """Create, update, delete and restore one span at a time, each timed (and once counted)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from annotations.models import Span

    writer = Writer(client, document, document.text, codes, seen, assignment, rng)
    writer.refresh()
    create_url = reverse("span-create", args=[document.pk])
    times: dict[str, list[float]] = {"create": [], "update": [], "delete": [], "restore": []}
    cpu: dict[str, list[float]] = {name: [] for name in times}
    full: list[float] = []
    queries: dict[str, list[str]] = {}

    def timed_post(name, url, data, **kwargs):
        started_cpu = time.thread_time()
        started = time.perf_counter()
        response = writer.post(name, url, data, **kwargs)
        times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        cpu.setdefault(name, []).append((time.thread_time() - started_cpu) * 1000)
        return response

    for i in range(WRITES + 3):
        warm = i < 3
        timed_post("create", create_url, writer.new_extent())
        span = Span.objects.filter(assignment=assignment).latest("pk")
        timed_post("update", reverse("span-update", args=[span.pk]), {"version": 1, "note": "n"})
        timed_post("delete", reverse("span-delete", args=[span.pk]), {"version": 2})
        timed_post("restore", reverse("span-restore", args=[span.pk]), {"version": 3})
        # Back to 1,000 spans (untimed).
        writer.post("untimed", reverse("span-delete", args=[span.pk]), {"version": 4})
        # The reference: the same create answered with the whole workspace (a stale token).
        started = time.perf_counter()
        writer.post("full", create_url, writer.new_extent(), state="stale")
        elapsed = (time.perf_counter() - started) * 1000
        extra = Span.objects.filter(assignment=assignment).latest("pk")
        writer.post("untimed", reverse("span-delete", args=[extra.pk]), {"version": 1})
        if warm:
            for name in ("create", "update", "delete", "restore"):
                times[name].pop()
                cpu[name].pop()
        else:
            full.append(elapsed)

    # Queries per write, once each, the page's token current.
    def counted(name, url, data):
        with CaptureQueriesContext(connection) as captured:
            writer.post(name, url, data)
        queries[name] = [q["sql"] for q in captured.captured_queries]

    counted("create", create_url, writer.new_extent())
    span = Span.objects.filter(assignment=assignment).latest("pk")
    counted("update", reverse("span-update", args=[span.pk]), {"version": 1, "note": "counted"})
    counted("delete", reverse("span-delete", args=[span.pk]), {"version": 2})
    counted("restore", reverse("span-restore", args=[span.pk]), {"version": 3})
    writer.post("untimed", reverse("span-delete", args=[span.pk]), {"version": 4})

    live = Span.objects.live().filter(assignment=assignment).count()
    figures = []
    reference = "Create answered with the whole workspace (median)"
    for name in ("create", "update", "delete", "restore"):
        value = median(times[name])
        figures.append(
            {
                "name": f"Span {name}, only what changed (median)",
                "value": value,
                "unit": "ms",
                "ratio_to": reference,
                "target": goal(value, "<", 10, "ms"),
                "note": (
                    f"p95 {p95(times[name]):.1f} ms; CPU median {median(cpu[name]):.1f} ms; "
                    f"answer {median(writer.sizes[name]) / 1024:.1f} KiB"
                ),
            }
        )
    figures.append(
        {
            "name": reference,
            "value": median(full),
            "unit": "ms",
            "note": f"answer {median(writer.sizes['full']) / 1024:.0f} KiB",
        }
    )
    for name in ("create", "update", "delete", "restore"):
        logged = len(queries[name])
        data = len(_data_queries(queries[name]))
        own = len(_own_queries(queries[name]))
        figures.append(
            {
                "name": f"Queries per span {name}, the write's own",
                "value": own,
                "unit": "queries",
                "target": goal(own, "<=", 6, "queries"),
                "note": (
                    f"after the session and user lookups every request makes; {data} with "
                    f"them; {logged} statements logged with BEGIN/COMMIT/SAVEPOINT (SQLite)"
                ),
            }
        )
    return figures, {"live": live, "queries": queries}


TRANSACTION = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")


def _data_queries(statements: list[str]) -> list[str]:
    """The statements that read or write data (no transaction control)."""
    return [sql for sql in statements if not sql.startswith(TRANSACTION)]


def _own_queries(statements: list[str]) -> list[str]:
    """What a write itself asks of the database: not the session and user lookups the
    authentication middleware makes for every request."""
    skip = ('FROM "django_session"', 'FROM "auth_user"')
    return [sql for sql in _data_queries(statements) if not any(s in sql for s in skip)]


def _template_and_drawing(assignment) -> tuple[list[float], list[float]]:
    """The workspace template rendered from a prepared context (no queries), as the view
    renders it; and the text and list drawn without the cache."""
    from django.template.loader import get_template

    from annotations.domain.rendering import MARK, list_html, text_html
    from annotations.models import Assignment
    from annotations.selectors import coding as selectors
    from annotations.views.coding import NOTE_LIMIT, fill_in

    assignment = Assignment.objects.select_related("document__project__codebook").get(
        pk=assignment.pk
    )
    screen = selectors.coding_screen(assignment)
    context = {
        "assignment": assignment,
        "document": assignment.document,
        "project": assignment.document.project,
        "screen": screen,
        "codes": screen.codes,
        "count": len(screen.spans),
        "token": screen.token,
        "inspected": [],
        "frozen": "",
        "feedback_ready": False,
        "note_limit": NOTE_LIMIT,
    }
    template = get_template("annotations/annotate.html#workspace")

    class Rendered:
        content = b""

    def render():
        rendered = Rendered()
        rendered.content = template.render(context).encode()
        fill_in(rendered, screen)
        return rendered

    keys = {code.pk: code.shortcut for code in screen.codes}
    text = assignment.document.text

    def draw():
        return (
            text_html(text, map(MARK, screen.spans), keys).encode(),
            list_html(screen.codes, screen.spans).encode(),
        )

    return timed(render, repeat=REPEAT), timed(draw, repeat=REPEAT)


def page_figures(client, empty_client, document, assignment) -> tuple[list[dict], dict]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("annotate", args=[document.pk])
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"the annotation page answered {response.status_code}")
    body = response.content.decode()
    shown = body.count('class="span-entry"')
    page_bytes = len(response.content)

    def get(c, **headers):
        return lambda: c.get(url, **headers)

    def cold(call):
        def uncached():
            cache.clear()
            return call()

        return uncached

    full = timed(get(client), repeat=REPEAT)
    full_cpu = cpu_timed(get(client), repeat=REPEAT)
    fragment = timed(get(client, HTTP_HX_REQUEST="true"), repeat=REPEAT)
    cold_full = timed(cold(get(client)), repeat=REPEAT)
    empty = timed(get(empty_client), repeat=REPEAT)
    empty_cpu = cpu_timed(get(empty_client), repeat=REPEAT)
    plain = timed(_plain_rows(), repeat=REPEAT)
    template, drawing = _template_and_drawing(assignment)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    with CaptureQueriesContext(connection) as none:
        empty_client.get(url)

    reference = "Page, coder with 0 spans (median)"
    page = median(full)
    figures = [
        {
            "name": "Page, 1,000 own spans (median)",
            "value": page,
            "unit": "ms",
            "ratio_to": reference,
            "target": goal(page, "<", 30, "ms"),
            "note": (
                f"{shown} spans listed; page {page_bytes / 1024:.0f} KiB; p95 {p95(full):.1f} ms"
            ),
        },
        {
            "name": "Page, 1,000 own spans ÷ empty page (median)",
            "value": page / median(empty),
            "unit": "×",
            "target": goal(page / median(empty), "<=", 4, "×"),
            "note": (
                f"CPU medians {median(full_cpu):.1f} ms and {median(empty_cpu):.1f} ms: "
                f"{median(full_cpu) / median(empty_cpu):.2f}×"
            ),
        },
        {
            "name": "Page, 1,000 own spans, render cache emptied first (median)",
            "value": median(cold_full),
            "unit": "ms",
            "ratio_to": reference,
            "target": goal(median(cold_full), "<", 30, "ms"),
            "note": "what the first load after a write costs",
        },
        {
            "name": "htmx workspace fragment, 1,000 own spans (median)",
            "value": median(fragment),
            "unit": "ms",
            "ratio_to": reference,
        },
        {"name": reference, "value": median(empty), "unit": "ms"},
        {
            "name": "Plain template, 1,000 rows of two escaped strings (median)",
            "value": median(plain),
            "unit": "ms",
            "note": "the machine's template speed in this run",
        },
        {
            "name": "Workspace template, 1,000 own spans, data ready (median)",
            "value": median(template),
            "unit": "ms",
            "ratio_to": "Plain template, 1,000 rows of two escaped strings (median)",
            "note": "the template alone: the drawn text and list put in as UTF-8 after it",
        },
        {
            "name": "Drawing the text and list of 1,000 spans, no cache (median)",
            "value": median(drawing),
            "unit": "ms",
            "ratio_to": "Plain template, 1,000 rows of two escaped strings (median)",
            "note": "what a page load after a write pays once (then cached per state)",
        },
        {
            "name": "Queries for the page, 1,000 spans",
            "value": len(many),
            "unit": "queries",
            "target": goal(len(many), "<=", len(none), "queries (as for 0 spans)"),
            "note": f"{len(none)} for the coder with no spans",
        },
    ]
    return figures, {"page_bytes": page_bytes, "shown": shown}


# --- Browser ---------------------------------------------------------------------------------

# Installed before any page script: when the page's own marks are missing (older pages),
# the same moments measured from outside. A new highlight is drawn when a mutation adds an
# element with a span id not seen before; the frame after the next paint is the moment.
OBSERVER = """
(() => {
  window.__bench = {key: null, drawn: null};
  window.addEventListener("keydown", (e) => {
    window.__bench.key = e.timeStamp;
    window.__bench.drawn = null;
  }, true);
  const seen = new Set();
  const scan = () => {
    let added = false;
    for (const el of document.querySelectorAll("#doc-text [data-span]")) {
      if (!seen.has(el.dataset.span)) { seen.add(el.dataset.span); added = true; }
    }
    return added;
  };
  document.addEventListener("DOMContentLoaded", () => {
    scan();
    new MutationObserver(() => {
      if (scan() && window.__bench.key !== null && window.__bench.drawn === null) {
        requestAnimationFrame(() => setTimeout(() => {
          window.__bench.drawn = performance.now();
        }, 0));
      }
    }).observe(document.body, {childList: true, subtree: true});
  });
})();
"""


def _utf16(text: str, code_points: int) -> int:
    return len(text[:code_points].encode("utf-16-le")) // 2


def browser_figures(document, coder, empty_coder, codes, seen, assignments) -> list[dict]:
    # The same browser and flags as the browser tests (Django is set up by now).
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        return [
            {
                "name": "Browser figures skipped",
                "value": 0,
                "unit": "",
                "note": "Debian's chromium is not installed",
            }
        ]
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs a loop
    from django.conf import settings
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread
    from django.urls import reverse
    from playwright.sync_api import sync_playwright

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override={}, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    base = f"http://127.0.0.1:{server.port}"
    url = base + reverse("annotate", args=[document.pk])
    text = document.text
    results: dict[str, dict[str, list[float]]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for label, user in (("own", coder), ("empty", empty_coder)):
                    results[label] = _browser_run(
                        browser, base, url, user, text, codes, seen, assignments[label]
                    )
            finally:
                browser.close()
    finally:
        server.terminate()

    own, empty = results["own"], results["empty"]
    figures = []
    # Targets: 2.5× ahead of doccano's 1,173 ms in the side-by-side run (make
    # bench-peers measures both peers' pages beside Framing's in one run); a response within
    # 100 ms reads as instant.
    for key, name, limit, why in (
        ("interactive", "Browser: navigation → page interactive", 469, "doccano ÷ 2.5"),
        ("tag", "Browser: code key → highlight drawn", 100, "feels instant"),
    ):
        ref_name = f"{name}, coder with 0 spans (median)"
        value = median(own[key])
        figures.append(
            {
                "name": f"{name}, 1,000 own spans (median)",
                "value": value,
                "unit": "ms",
                "ratio_to": ref_name,
                "target": goal(value, "<", limit, "ms"),
                "note": (
                    f"target: {why}; {len(own[key])} runs; measured from outside the page "
                    f"(load event; first mutation then paint): "
                    f"{median(own[key + '_outside']):.0f} ms"
                ),
            }
        )
        figures.append({"name": ref_name, "value": median(empty[key]), "unit": "ms"})
    return figures


def _browser_run(browser, base, url, user, text, codes, seen, assignment) -> dict:
    from django.conf import settings
    from django.test import Client

    # Places a selection at UTF-16 offsets without the page's own conversion code.
    from tests.browser.conftest import SELECT_JS

    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    context.add_init_script(OBSERVER)
    out: dict[str, list[float]] = {
        "interactive": [],
        "interactive_outside": [],
        "tag": [],
        "tag_outside": [],
    }
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for _ in range(BROWSER_LOADS + 1):
            page.goto(url, wait_until="load")
            page.wait_for_function(
                "() => performance.getEntriesByName('framing:interactive').length"
                " || document.readyState === 'complete'"
            )
            marks = page.evaluate(
                """() => {
                  const m = performance.getEntriesByName('framing:interactive')[0];
                  const nav = performance.getEntriesByType('navigation')[0];
                  return {mark: m ? m.startTime : null, load: nav.loadEventEnd};
                }"""
            )
            out["interactive"].append(marks["mark"] if marks["mark"] is not None else marks["load"])
            out["interactive_outside"].append(marks["load"])
        out["interactive"].pop(0)  # the first load warms the server and the browser's caches
        out["interactive_outside"].pop(0)

        rng = random.Random(7)
        starts = word_starts(text)
        page.focus("#doc-text")
        for _ in range(BROWSER_TAGS + 1):
            while True:
                first = rng.randrange(len(starts) - 5)
                start, end = starts[first], starts[first + rng.randint(1, 4)]
                while text[end - 1].isspace():
                    end -= 1
                code = rng.choice(codes)
                if (assignment.pk, code.pk, start, end) not in seen:
                    seen.add((assignment.pk, code.pk, start, end))
                    break
            count = page.evaluate("document.querySelectorAll('.span-entry').length")
            page.evaluate(SELECT_JS, [_utf16(text, start), _utf16(text, end)])
            page.keyboard.press(code.shortcut)
            page.wait_for_function(
                "n => document.querySelectorAll('.span-entry').length === n + 1"
                " && window.__bench.drawn !== null",
                arg=count,
            )
            page.wait_for_timeout(50)  # let htmx settle and the page's marks land
            timing = page.evaluate(
                """() => {
                  const key = performance.getEntriesByName('framing:tag-key').at(-1);
                  const drawn = performance.getEntriesByName('framing:tag-drawn').at(-1);
                  return {mark: key && drawn ? drawn.startTime - key.startTime : null,
                          outside: window.__bench.drawn - window.__bench.key};
                }"""
            )
            out["tag"].append(timing["mark"] if timing["mark"] is not None else timing["outside"])
            out["tag_outside"].append(timing["outside"])
        out["tag"].pop(0)
        out["tag_outside"].pop(0)
    finally:
        context.close()
    if errors:
        raise RuntimeError("errors in the page: " + "; ".join(errors))
    return out


def run() -> dict:
    from django.test import Client

    from annotations.models import Assignment

    load_before = _load()
    with fresh_database("coding_page"):
        document, coder, empty_coder, codes, seen = build(random.Random(20250723))
        client, empty_client = Client(), Client()
        client.force_login(coder)
        empty_client.force_login(empty_coder)
        assignment = Assignment.objects.get(document=document, coder=coder)
        empty_assignment = Assignment.objects.get(document=document, coder=empty_coder)
        page, _facts = page_figures(client, empty_client, document, assignment)
        writes, _write_facts = write_figures(
            client, document, codes, seen, assignment, random.Random(11)
        )
        browser = browser_figures(
            document,
            coder,
            empty_coder,
            codes,
            seen,
            {"own": assignment, "empty": empty_assignment},
        )
        length = len(document.text)
    load_after = _load()
    return {
        "title": "Coding page and span writes: server and browser time",
        "description": (
            f"{length:,}-character article (emoji, Khmer, curly quotes); the coder has "
            f"{OWN_SPANS:,} spans of their own (nested and overlapping, 4 codes), two other "
            f"coders {OTHER_SPANS:,} more (never shown). Server: Django test client, SQLite, "
            f"DEBUG off, {REPEAT} page requests and {WRITES} of each write after warm-up. "
            f"Browser: chromium (Playwright), {BROWSER_LOADS} loads and {BROWSER_TAGS} tags "
            "per coder, live server in the same process. Load average "
            f"{load_before} before, {load_after} after (2 CPUs, shared). "
            "Command: `.venv/bin/python -m bench coding_page`."
        ),
        "figures": page + writes + browser,
    }

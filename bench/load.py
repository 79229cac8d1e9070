"""Load: 50 coders at once on gunicorn, PostgreSQL and Redis while an agreement job runs.

Issue 9 asks for zero errors and p95 under 100 ms for span writes on this 2-core machine,
and that every span the clients were told was saved is in the database exactly once.

The stack is production settings on loopback (bench/_servers.py): gunicorn with 4 sync
workers, a Celery worker on the ``agreement`` queue, a fresh PostgreSQL database, Redis
database 14. 50 coders in pairs share 25 documents of about 5,000 characters, each
assignment already holding 20 spans. The client is ours (locust is not a dependency): one
thread and one keep-alive connection per coder, logged in through a session made directly in
the database, sending the CSRF cookie and header and ``HX-Request`` as htmx does. Each
coder loads the coding page, then creates, edits and deletes spans with 0.5–1.5 s of
thinking between actions, for 60 s. At a quarter, half and three quarters of the way, an
agreement job over the 25 documents (work in progress included) is requested; the writes
made while any of them ran are compared with all writes.

Afterwards every span is compared with what its coder was last told (state, version, code,
offsets, note); spans nobody was told about would be writes that committed behind an
error. Because each change to a span bumps its version and writes one audit event in the
same transaction, ``audit events == version`` for every span shows no write was half done.
"""

from __future__ import annotations

import http.client
import os
import random
import re
import statistics
import threading
import time
from dataclasses import dataclass, field

from . import _servers, goal

DB_NAME = "framing_bench"
CODERS = 50
DOC_CHARS = 5_000
SEEDED_SPANS = 20
DURATION = 60.0
THINK = (0.5, 1.5)
AGREEMENT_BOOTSTRAP = 100_000
# When agreement jobs are requested, as fractions of the run: one job's ~2 s hold about a
# hundred writes, too few for a steady p95, so the writes of three are pooled.
JOB_AT = (0.25, 0.5, 0.75)
WORDS = (
    *("government", "critics", "said", "the", "ministry", "claimed", "foreign", "interference"),
    *("was", "a", "sham", "officials", "reported", "that", "opposition", "leaders", "confessed"),
    *("on", "camera", "under", "pressure", "while", "observers", "called", "the", "trial"),
    *("political", "and", "state", "media", "praised", "the", "swift", "verdict"),
)

# An inspector block (the whole workspace or an out-of-band swap): code, id, offsets, version.
INSPECTED = re.compile(
    r'<div class="inspected code-(\d+)" id="insp-(\d+)"[^>]*>.*?'
    r"Characters (\d+)–(\d+) · version (\d+)</p>",
    re.S,
)
# The state token of what the page shows; sent back with each write as the page's script
# does, so a write is answered with only what it changed (else the whole workspace).
STATE = re.compile(r'id="coding-state" data-state="([^"]*)"')
UNDO = re.compile(r'hx-post="/spans/(\d+)/restore/" hx-vals=\'\{"version": "(\d+)"\}\'')


# --- Run in a child process against the benchmark database ---------------------------


def article(rng: random.Random, length: int) -> str:
    out, size = [], 0
    while size < length:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22)))
        sentence = sentence.capitalize() + (".\n\n" if rng.random() < 0.2 else ". ")
        out.append(sentence)
        size += len(sentence)
    return "".join(out).rstrip() + "\n"


def word_bounds(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[A-Za-z]+", text)]


def seed(*, coders: int, doc_chars: int, seeded_spans: int) -> dict:
    """A blind project; coders in pairs on documents; sessions and CSRF secrets made here."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    from annotations.models import Assignment, AssignmentStatus, Span
    from annotations.services import assignments, codebook, imports, people, projects

    rng = random.Random(9)
    project = projects.project_create(name="Load study")
    codes = [
        codebook.code_create(codebook=project.codebook, name=name, shortcut=str(i))
        for i, name in enumerate(("Conflict", "Sourcing", "Loaded", "Human interest"), 1)
    ]
    users = get_user_model().objects
    out = []
    document = None
    for number in range(coders):
        if number % 2 == 0:
            body = article(rng, doc_chars).encode()
            outcome = imports.documents_import(project=project, files=[(f"d{number}.txt", body)])
            document = outcome.created[0]
        user = users.create_user(f"coder{number:02d}")  # no password: sessions made below
        people.membership_set(project=project, user=user, role="coder")
        assignment = assignments.assignment_create(document=document, coder=user)
        bounds = word_bounds(document.text)
        chosen: set[tuple[int, int, int]] = set()
        while len(chosen) < seeded_spans:
            first = rng.randrange(len(bounds) - 5)
            last = first + rng.randint(0, 4)
            chosen.add((bounds[first][0], bounds[last][1], rng.choice(codes).pk))
        spans = Span.objects.bulk_create(
            Span(
                assignment=assignment,
                code_id=code_id,
                start=start,
                end=end,
                quote=document.text[start:end],
            )
            for start, end, code_id in sorted(chosen)
        )
        Assignment.objects.filter(pk=assignment.pk).update(status=AssignmentStatus.IN_PROGRESS)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        out.append(
            {
                "username": user.username,
                "session": session.session_key,
                "csrf": get_random_string(32),
                "document_id": document.pk,
                "assignment_id": assignment.pk,
                "text": document.text,
                "spans": [
                    {"id": s.pk, "code": s.code_id, "start": s.start, "end": s.end, "version": 1}
                    for s in spans
                ],
            }
        )
    return {"project_id": project.pk, "codes": [c.pk for c in codes], "coders": out}


def request_agreement(*, project_id: int, n_bootstrap: int) -> int:
    from annotations.models import Project
    from annotations.services import agreement

    run = agreement.agreement_request(
        project=Project.objects.get(pk=project_id),
        run_settings=agreement.RunSettings(n_bootstrap=n_bootstrap, include_in_progress=True),
    ).run
    return run.pk


def query_counts(*, username: str, document_id: int) -> dict:
    """Queries per request for each endpoint, through Django's test client."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from annotations.models import Code, Span

    setup_test_environment(debug=False)
    client = Client(SERVER_NAME="127.0.0.1", headers={"HX-Request": "true"})
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    span = Span.objects.live().filter(assignment__coder=user).order_by("pk").first()
    code = Code.objects.filter(codebook__project__documents=document_id).first()
    text = span.assignment.document.text
    bounds = [b for b in word_bounds(text) if b[0] > span.end + 200][:1][0]
    page = {"state": ""}  # the state token, sent back as the page's script does

    def post(path: str, form: dict):
        return client.post(path, {**form, "state": page["state"]})

    calls = {
        "page": lambda: client.get(f"/documents/{document_id}/code/", headers={"HX-Request": ""}),
        "span create": lambda: post(
            f"/documents/{document_id}/spans/",
            {"start": bounds[0], "end": bounds[1], "quote": text[slice(*bounds)], "code": code.pk},
        ),
        "span update": lambda: post(
            f"/spans/{span.pk}/", {"version": span.version, "note": "counted"}
        ),
        "span delete": lambda: post(f"/spans/{span.pk}/delete/", {"version": span.version + 1}),
    }
    counts = {}
    for name, call in calls.items():
        with CaptureQueriesContext(connection) as queries:
            response = call()
        assert response.status_code == 200, (name, response.status_code)
        token = STATE.search(response.content.decode())
        page["state"] = token[1] if token else page["state"]
        counts[name] = {
            "queries": len(queries),
            "spans_on_page": Span.objects.live().filter(assignment__coder=user).count(),
        }
    return counts


# --- The client, in this process ---------------------------------------------------------


@dataclass
class Sample:
    endpoint: str
    at: float  # wall clock, seconds
    ms: float
    status: int  # 0: no response (connection refused or reset, timeout)


@dataclass
class KnownSpan:
    code: int
    start: int
    end: int
    version: int
    deleted: bool = False
    note: str = ""
    # The last request about this span got no clear answer: its state is one of these.
    uncertain: list = field(default_factory=list)

    def key(self):
        return (self.code, self.start, self.end)


class Coder(threading.Thread):
    def __init__(
        self, port: int, info: dict, codes: list[int], until: float, seed: int, before=None
    ):
        super().__init__(daemon=True)
        self.port, self.info, self.codes, self.until = port, info, codes, until
        self.rng = random.Random(seed)
        self.text = info["text"]
        self.bounds = word_bounds(self.text)
        # A coder of a later phase carries on with what the earlier one was told.
        self.spans = (
            before.spans
            if before
            else {
                s["id"]: KnownSpan(s["code"], s["start"], s["end"], s["version"])
                for s in info["spans"]
            }
        )
        self.samples: list[Sample] = []
        # Creates sent without a clear answer (no response, 5xx).
        self.unknown_creates: list[tuple[int, int, int]] = before.unknown_creates if before else []
        self.bodies: dict[int, str] = {}  # what the first failure of each status said
        self.problems: list[str] = []
        self.conn: http.client.HTTPConnection | None = None
        self.state = ""  # the state token of the coder's page (see STATE)
        self.headers = {
            "Cookie": f"sessionid={info['session']}; csrftoken={info['csrf']}",
            "X-CSRFToken": info["csrf"],
            "HX-Request": "true",
            "Content-Type": "application/x-www-form-urlencoded",
        }

    def call(self, endpoint: str, method: str, path: str, form: dict | None = None):
        from urllib.parse import urlencode

        headers = dict(self.headers)
        if endpoint == "page":
            headers.pop("HX-Request")
        body = urlencode({**form, "state": self.state}) if form is not None else None
        started = time.perf_counter()
        at = time.time()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            status = response.status
        except (OSError, http.client.HTTPException):
            if self.conn is not None:
                self.conn.close()
            self.conn = None
            text, status = "", 0
        self.samples.append(Sample(endpoint, at, (time.perf_counter() - started) * 1000, status))
        token = STATE.search(text)
        if token is not None:
            self.state = token[1]
        if not 200 <= status < 300:
            self.bodies.setdefault(status, " ".join(re.sub(r"<[^>]+>", " ", text).split())[:160])
        return status, text

    def live(self) -> list[int]:
        return [pk for pk, s in self.spans.items() if not s.deleted and not s.uncertain]

    def taken(self) -> set:
        return {s.key() for s in self.spans.values() if not s.deleted or s.uncertain}

    def create(self) -> None:
        taken = self.taken() | set(self.unknown_creates)
        for _ in range(20):
            first = self.rng.randrange(len(self.bounds) - 5)
            start, end = self.bounds[first][0], self.bounds[first + self.rng.randint(0, 4)][1]
            code = self.rng.choice(self.codes)
            if (code, start, end) not in taken:
                break
        else:
            return
        status, text = self.call(
            "span create",
            "POST",
            f"/documents/{self.info['document_id']}/spans/",
            {"start": start, "end": end, "quote": self.text[start:end], "code": code},
        )
        if status == 200:
            found = [m for m in INSPECTED.finditer(text) if int(m[3]) == start and int(m[4]) == end]
            if len(found) != 1 or "Tagged" not in text:
                self.problems.append(f"create answered 200 without the span: {text[:200]!r}")
                return
            pk = int(found[0][2])
            self.spans[pk] = KnownSpan(code, start, end, int(found[0][5]))
        elif status == 0 or status >= 500:
            self.unknown_creates.append((code, start, end))

    def update(self) -> None:
        live = self.live()
        if not live:
            return
        pk = self.rng.choice(live)
        span = self.spans[pk]
        form: dict = {"version": span.version}
        after = KnownSpan(span.code, span.start, span.end, span.version + 1, note=span.note)
        roll = self.rng.random()
        taken = self.taken()
        if roll < 0.2:
            code = self.rng.choice(self.codes)
            if code != span.code and (code, span.start, span.end) not in taken:
                form["code"] = after.code = code
        elif roll < 0.4:
            nxt = [b for b in self.bounds if b[0] > span.end][:1]
            if nxt and (span.code, span.start, nxt[0][1]) not in taken:
                form["end"] = after.end = nxt[0][1]
        if len(form) == 1:
            form["note"] = after.note = f"note {self.rng.randrange(10**6)}"
        status, text = self.call("span update", "POST", f"/spans/{pk}/", form)
        if status == 200:
            found = [m for m in INSPECTED.finditer(text) if int(m[2]) == pk]
            if len(found) != 1 or "Saved." not in text:
                self.problems.append(f"update answered 200 without the span: {text[:200]!r}")
                return
            after.version = int(found[0][5])
            after.code = int(found[0][1])
            self.spans[pk] = after
        elif status == 0 or status >= 500:
            span.uncertain = [after]

    def delete(self) -> None:
        live = self.live()
        if len(live) < 5:
            return
        pk = self.rng.choice(live)
        span = self.spans[pk]
        status, text = self.call(
            "span delete", "POST", f"/spans/{pk}/delete/", {"version": span.version}
        )
        if status == 200:
            undo = UNDO.search(text)
            if undo is None or int(undo[1]) != pk:
                self.problems.append(f"delete answered 200 without undo: {text[:200]!r}")
                return
            span.deleted, span.version = True, int(undo[2])
        elif status == 0 or status >= 500:
            gone = KnownSpan(span.code, span.start, span.end, span.version + 1, True, span.note)
            span.uncertain = [gone]

    def page(self) -> None:
        self.call("page", "GET", f"/documents/{self.info['document_id']}/code/")

    def run(self) -> None:
        self.page()
        while time.monotonic() < self.until:
            time.sleep(self.rng.uniform(*THINK))
            if time.monotonic() >= self.until:
                break
            roll = self.rng.random()
            if roll < 0.08:
                self.page()
            elif roll < 0.50 or not self.live():
                self.create()
            elif roll < 0.80:
                self.update()
            else:
                self.delete()
        if self.conn is not None:
            self.conn.close()


def run_coders(
    port: int, seeded: dict, duration: float, *, during=None, before=None, count=None
) -> list[Coder]:
    """Start the coders, call ``during(elapsed)`` about every 0.25 s, return when all stop.

    ``before``: the coders of an earlier phase, whose knowledge these carry on with."""
    until = time.monotonic() + duration
    infos = seeded["coders"][:count]
    coders = [
        Coder(
            port,
            info,
            seeded["codes"],
            until,
            seed=n + 1000 * bool(before),
            before=before[n] if before else None,
        )
        for n, info in enumerate(infos)
    ]
    started = time.monotonic()
    for coder in coders:
        coder.start()
        time.sleep(0.02)  # do not log 50 people in within the same millisecond
    while any(c.is_alive() for c in coders):
        if during is not None:
            during(time.monotonic() - started)
        time.sleep(0.25)
    for coder in coders:
        coder.join()
    return coders


# --- Checking the database against what the clients were told ------------------------------


def verify(database: str, coders: list[Coder]) -> dict:
    """Compare every span with its coder's last answer; check audit events == version."""
    rows = _servers.sql_rows(
        database,
        'SELECT s.id, s.assignment_id, s.code_id, s.start, s."end", s.version, '
        "s.deleted_at IS NOT NULL, s.note, "
        "(SELECT count(*) FROM annotations_auditevent a "
        " WHERE a.object_type = 'span' AND a.object_id = s.id) "
        "FROM annotations_span s",
    )
    by_id = {r[0]: r for r in rows}
    seeded = {s["id"] for c in coders for s in c.info["spans"]}
    result = dict.fromkeys(
        ("told_saved", "as_told", "missing", "mismatched", "uncertain", "uncertain_resolved"), 0
    )
    result.update(unexplained=0, committed_behind_error=0, audit_mismatch=0)
    details: list[str] = []

    def shape(s: KnownSpan) -> tuple:
        return (s.code, s.start, s.end, s.version, s.deleted, s.note)

    for coder in coders:
        for pk, span in coder.spans.items():
            row = by_id.get(pk)
            result["uncertain" if span.uncertain else "told_saved"] += 1
            if row is None:
                result["missing"] += 1
                details.append(f"span {pk} of {coder.info['username']} is missing")
                continue
            found = KnownSpan(*row[2:8])
            # After an error the write either happened completely or not at all.
            allowed = [span, *span.uncertain]
            if shape(found) not in [shape(s) for s in allowed]:
                result["mismatched"] += 1
                details.append(f"span {pk}: database {shape(found)}, client {shape(span)}")
            elif span.uncertain:
                result["uncertain_resolved"] += 1
            else:
                result["as_told"] += 1
        for row in rows:
            if row[1] != coder.info["assignment_id"] or row[0] in coder.spans:
                continue
            if (row[2], row[3], row[4]) in coder.unknown_creates:
                result["committed_behind_error"] += 1  # saved, but the answer was lost
            else:
                result["unexplained"] += 1
                details.append(f"span {row[0]} is in the database; no client was told of it")
    for row in rows:
        expected_events = row[5] - 1 if row[0] in seeded else row[5]
        if row[8] != expected_events:
            result["audit_mismatch"] += 1
            details.append(f"span {row[0]}: version {row[5]} but {row[8]} audit events")
    result["creates_without_answer"] = sum(len(c.unknown_creates) for c in coders)
    result["details"] = details[:20]
    return result


# --- Figures ---------------------------------------------------------------------------------


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


ENDPOINTS = ("page", "span create", "span update", "span delete")


def latency_figures(samples: list[Sample], label: str = "") -> list[dict]:
    figures = []
    for endpoint in ENDPOINTS:
        ok = [s.ms for s in samples if s.endpoint == endpoint and 200 <= s.status < 300]
        if not ok:
            continue
        for q in (50, 95, 99):
            figures.append(
                {
                    "name": f"{endpoint} p{q}{label}",
                    "value": round(pct(ok, q), 1),
                    "unit": "ms",
                    "note": f"{len(ok)} requests" if q == 50 else "",
                }
            )
    return figures


ROUTES = (
    (re.compile(r"^/documents/\d+/code/$"), "page"),
    (re.compile(r"^/documents/\d+/spans/$"), "span create"),
    (re.compile(r"^/spans/\d+/delete/$"), "span delete"),
    (re.compile(r"^/spans/\d+/$"), "span update"),
)


def server_times(access_log) -> dict[str, list[float]]:
    """Milliseconds each gunicorn worker spent per request, by endpoint (queueing excluded)."""
    times: dict[str, list[float]] = {e: [] for e in ENDPOINTS}
    for line in access_log.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[2].startswith("2"):
            continue
        for pattern, endpoint in ROUTES:
            if pattern.match(parts[1]):
                times[endpoint].append(int(parts[3]) / 1000)
    return times


def pg_table_stats(database: str) -> dict:
    rows = _servers.sql_rows(
        database,
        "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), n_live_tup "
        "FROM pg_stat_user_tables",
    )
    return {r[0]: r[1:] for r in rows}


def run() -> dict:
    _servers.flush_redis()
    with _servers.database(DB_NAME) as env:
        seeded = _servers.django_call(
            env,
            "bench.load:seed",
            coders=CODERS,
            doc_chars=DOC_CHARS,
            seeded_spans=SEEDED_SPANS,
        )
        with (
            _servers.gunicorn(env, workers=4) as (base, access_log),
            _servers.celery_worker(env, queues="agreement", name="bench-agreement"),
        ):
            port = int(base.rsplit(":", 1)[1])
            before = pg_table_stats(DB_NAME)
            jobs: list[dict] = []
            lock_waits: list[int] = []

            def during(elapsed: float) -> None:
                waiting = _servers.sql_rows(
                    DB_NAME,
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = %s AND wait_event_type = 'Lock'",
                    (DB_NAME,),
                )[0][0]
                lock_waits.append(waiting)
                if len(jobs) < len(JOB_AT) and elapsed >= JOB_AT[len(jobs)] * DURATION:
                    job: dict = {}

                    def ask() -> None:
                        job["run_id"] = _servers.django_call(
                            env,
                            "bench.load:request_agreement",
                            project_id=seeded["project_id"],
                            n_bootstrap=AGREEMENT_BOOTSTRAP,
                        )

                    job["thread"] = threading.Thread(target=ask, daemon=True)
                    job["thread"].start()
                    jobs.append(job)

            wall_started = time.time()
            cpu_before = _servers.cpu_seconds()
            coders = run_coders(port, seeded, DURATION, during=during)
            cpu_after = _servers.cpu_seconds()
            wall = time.time() - wall_started
            runs = []
            for job in jobs:
                job["thread"].join(timeout=60)
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    run_row = _servers.sql_rows(
                        DB_NAME,
                        "SELECT status, extract(epoch from started_at), "
                        "extract(epoch from finished_at), timings, attempts "
                        "FROM annotations_agreementrun WHERE id = %s",
                        (job["run_id"],),
                    )
                    if run_row and run_row[0][0] in ("done", "failed"):
                        break
                    time.sleep(0.5)
                runs.append(run_row[0])
            after = pg_table_stats(DB_NAME)
        verdict = verify(DB_NAME, coders)
        counts = _servers.django_call(
            env,
            "bench.load:query_counts",
            username=seeded["coders"][0]["username"],
            document_id=seeded["coders"][0]["document_id"],
        )
    server = server_times(access_log)
    samples = [s for c in coders for s in c.samples]
    problems = [p for c in coders for p in c.problems]
    errors = [s for s in samples if not 200 <= s.status < 300]
    # (start, end) of each job that ran; numeric from extract()
    windows = [(float(r[1]), float(r[2])) for r in runs if r[1] and r[2]]
    during_job = [s for s in samples if any(start <= s.at <= end for start, end in windows)]
    writes = [s.ms for s in samples if s.endpoint != "page" and 200 <= s.status < 300]
    figures = [
        {"name": "coders", "value": CODERS, "unit": "threads", "note": f"{DURATION:.0f} s"},
        {
            "name": "throughput",
            "value": round(len(samples) / wall, 1),
            "unit": "req/s",
            "note": f"{len(samples)} requests in {wall:.1f} s",
        },
        {
            "name": "errors",
            "value": len(errors) + len(problems),
            "unit": "requests",
            "target": goal(len(errors) + len(problems), "<=", 0, "requests"),
            "note": ", ".join(
                f"{code}: {sum(1 for e in errors if e.status == code)}"
                for code in sorted({e.status for e in errors})
            )
            or "none",
        },
        *latency_figures(samples),
        *[
            {
                "name": f"{endpoint} p95 in the worker",
                "value": round(pct(times, 95), 1),
                "unit": "ms",
                "note": f"p50 {pct(times, 50):.1f} ms; gunicorn's own time, without queueing",
            }
            for endpoint, times in server.items()
            if times
        ],
        {
            "name": "span writes p95",
            "value": round(pct(writes, 95), 1),
            "unit": "ms",
            "target": goal(pct(writes, 95), "<", 100, "ms"),
        },
    ]
    if during_job:
        job_writes = [s.ms for s in during_job if s.endpoint != "page" and 200 <= s.status < 300]
        figures.append(
            {
                "name": "span writes p95 while the agreement job ran",
                "value": round(pct(job_writes, 95), 1),
                "unit": "ms",
                "ratio_to": "span writes p95",
                "target": goal(pct(job_writes, 95) / pct(writes, 95), "<=", 2, "× all writes' p95"),
                "note": f"{len(job_writes)} writes while one of {len(windows)} jobs ran",
            }
        )
    # Every part shares the same cores (the load client too): what each one used.
    cores = os.cpu_count() or 1
    for part, seconds in cpu_after.items():
        used = seconds - cpu_before.get(part, 0.0)
        figures.append(
            {
                "name": f"cores used by {part}",
                "value": round(used / wall, 2),
                "unit": "cores",
                "note": f"{used:.1f} CPU s in {wall:.1f} s, of {cores} cores on the machine",
            }
        )
    figures += [
        {
            "name": "agreement job (median of the jobs)",
            "value": round(statistics.median([end - start for start, end in windows]), 2)
            if windows
            else 0,
            "unit": "s",
            "note": f"{len(runs)} jobs: "
            + "; ".join(
                f"{status}, {float(end or 0) - float(start or 0):.2f} s, attempts {attempts}"
                for status, start, end, _, attempts in runs
            )
            + f"; n_bootstrap {AGREEMENT_BOOTSTRAP}, 25 documents × 2 coders, timings of the "
            f"last {runs[-1][3] if runs else {}}",
        },
        {"name": "spans told saved", "value": verdict["told_saved"], "unit": "spans"},
        {
            "name": "spans found exactly as told",
            "value": verdict["as_told"],
            "unit": "spans",
            "ratio_to": "spans told saved",
            "target": goal(verdict["as_told"], ">=", verdict["told_saved"], "spans (every one)"),
            "note": f"{verdict['missing']} missing, {verdict['mismatched']} different",
        },
        {
            "name": "spans nobody was told of",
            "value": verdict["unexplained"],
            "unit": "spans",
            "note": "writes committed behind an error",
        },
        {
            "name": "spans whose audit events ≠ version",
            "value": verdict["audit_mismatch"],
            "unit": "spans",
            "note": "half-done writes",
        },
        {
            "name": "lock waits seen",
            "value": max(lock_waits or [0]),
            "unit": "sessions",
            "note": f"most backends waiting on a lock at once, {len(lock_waits)} samples",
        },
    ]
    for name, count in counts.items():
        figures.append(
            {
                "name": f"queries per {name}",
                "value": count["queries"],
                "unit": "queries",
                "note": f"{count['spans_on_page']} live spans on the page",
            }
        )
    scans = {
        table: (after[table][0] - before[table][0], after[table][1] - before[table][1])
        for table in after
        if table in before
    }
    for table, (seq, tuples) in sorted(scans.items(), key=lambda i: -i[1][1])[:4]:
        figures.append(
            {
                "name": f"seq scans on {table}",
                "value": seq,
                "unit": "scans",
                "note": f"{tuples} rows read by sequential scans during the load",
            }
        )
    return {
        "title": "Load: 50 coders on gunicorn + PostgreSQL + Redis during an agreement job",
        "description": (__doc__ or "").split("\n\n")[1].replace("\n", " "),
        "figures": figures,
        "verification": verdict,
        "problems": problems[:20],
    }

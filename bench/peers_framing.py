"""Framing in the peers benchmark: gunicorn with one sync worker, production settings
(``DJANGO_DEBUG=false``), a fresh SQLite database under var/peers/framing/, the article
and spans loaded through the import pipeline (``imports.jsonl_import``, Framing's
doccano-shaped JSONL in code points), requests as the coding page's htmx sends them.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator

from . import _servers
from . import peers_data as data
from .peers_http import PEERS_DIR, Client, MemoryWatch, process, wait_for

HOME = PEERS_DIR / "framing"
STATE = re.compile(r'id="coding-state" data-state="([^"]*)"')


def env() -> dict:
    """bench/_servers.py's production settings, on SQLite and the embedded broker."""
    out = _servers.stack_env("peers")
    out.pop("CELERY_BROKER_URL")
    var = HOME / "var"
    out.update(
        DATABASE_URL=f"sqlite:///{HOME / 'db.sqlite3'}",
        FRAMING_VAR_DIR=str(var),
        FRAMING_STATIC_ROOT=str(var / "static"),
    )
    return out


# --- In a child process, on the benchmark's database -------------------------------------------


def _session(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key


def seed(*, export_sizes: list[int]) -> dict:
    """An admin (manager), a coder, the article with the coder's 1,000 spans in one project
    and each export corpus in another, each through ``imports.jsonl_import``."""
    from django.contrib.auth import get_user_model

    from annotations.models import Assignment, Code
    from annotations.services import codebook, imports, people, projects

    users = get_user_model().objects
    admin = users.create_superuser("admin", "admin@example.org", "bench-admin-password")
    coder = users.create_user("coder")
    out = {"sessions": {"admin": _session(admin), "coder": _session(coder)}}
    article = data.article()
    work = [("Peers", [(article, data.spans(article))])]
    for size in export_sizes:
        work.append((f"Peers export {size}", data.corpus(size)))
    for name, documents in work:
        project = projects.project_create(name=name, blind=True)
        for code, colour in zip(data.CODES, data.COLOURS, strict=True):
            codebook.code_create(codebook=project.codebook, name=code, colour=colour)
        people.membership_set(project=project, user=admin, role="manager")
        people.membership_set(project=project, user=coder, role="coder")
        imports.jsonl_import(
            project=project, name=f"{name}.jsonl", data=data.framing_jsonl(documents), coder=coder
        )
        out[name] = {"project": project.pk}
    project = out["Peers"]["project"]
    assignment = Assignment.objects.get(document__project_id=project, coder=coder)
    out["Peers"].update(
        document=assignment.document_id,
        codes={c.name: c.pk for c in Code.objects.filter(codebook__project_id=project)},
        spans=assignment.spans.count(),
        text_ok=assignment.document.text == article,
    )
    return out


# --- In the benchmark's process ------------------------------------------------------------------


class Framing:
    name = "Framing"

    def __init__(self, *, export_sizes: list[int]):
        self.export_sizes = export_sizes
        self.notes: dict = {}
        self.server = "gunicorn, 1 sync worker, DJANGO_DEBUG=false"
        self.undo_of: tuple[int, int, int] | None = None  # start, end, code id
        self.state = ""  # the coding page's state token (see save)

    def install(self) -> None:
        """Nothing to install: the working tree as it is, whose commit the report names."""
        from importlib.metadata import version

        def git(*args: str) -> str:
            done = subprocess.run(
                ["git", *args], cwd=_servers.BASE_DIR, capture_output=True, text=True, check=False
            )
            return done.stdout.strip()

        dirty = (
            ", with uncommitted changes"
            if git("status", "--porcelain", "--untracked-files=no")
            else ""
        )
        self.version = (
            f"{version('framing')} (working tree at {git('rev-parse', '--short', 'HEAD')}{dirty})"
        )

    @contextlib.contextmanager
    def running(self) -> Iterator[Framing]:
        shutil.rmtree(HOME, ignore_errors=True)
        (HOME / "var" / "static").mkdir(parents=True)
        settings = env()
        _servers.manage(settings, "migrate", "--noinput")
        _servers.manage(settings, "collectstatic", "--noinput")
        self.seeded = _servers.django_call(
            settings, "bench.peers_framing:seed", export_sizes=self.export_sizes
        )
        port = _servers.free_port()
        self.base = f"http://127.0.0.1:{port}"
        log = HOME / "gunicorn.log"
        args = [
            str(_servers.VENV_BIN / "gunicorn"),
            "framing.wsgi",
            "--workers=1",
            f"--bind=127.0.0.1:{port}",
            "--graceful-timeout=5",
        ]
        with process(args, env=settings, cwd=_servers.BASE_DIR, log=log) as child:
            wait_for(f"{self.base}/accounts/login/", child, log)
            self.pid = child.pid
            peers = self.seeded["Peers"]
            self.document, self.codes = peers["document"], peers["codes"]
            self.coder = self._client("coder")
            self.admin = self._client("admin")
            self.checks = {
                "spans": peers["spans"],
                "article stored unchanged": peers["text_ok"],
            }
            try:
                yield self
            finally:
                self.coder.close()
                self.admin.close()

    def _client(self, who: str) -> Client:
        client = Client(self.base)
        client.cookies = {"sessionid": self.seeded["sessions"][who], "csrftoken": "b" * 32}
        return client

    def browser_view(self):
        from .peers_browser import BrowserView

        return BrowserView(
            url=f"{self.base}/documents/{self.document}/code/",
            cookies=[
                {"name": "sessionid", "value": self.seeded["sessions"]["coder"], "url": self.base}
            ],
            selector="#doc-text .hl",
            ready="performance.getEntriesByName('framing:interactive').length > 0",
            what="the coding page: highlights drawn by the server, and its script ready "
            "(its framing:interactive mark)",
        )

    # What the coding page does.

    def open(self) -> int:
        _, body, _ = self.coder.request("GET", f"/documents/{self.document}/code/")
        self.state = STATE.search(body.decode())[1]
        return len(body)

    def save(self, text: str, span: data.Span) -> int:
        form = {
            "start": span.start,
            "end": span.end,
            "quote": text[span.start : span.end],
            "code": self.codes[span.code],
            # The state token of the open page, which the page's script sends: the answer
            # is then only what the write changed. (Each save is undone, and the token
            # names the live spans and their versions, so it stays the page's token.)
            "state": self.state or self._page_state(),
        }
        started = time.perf_counter()
        _, body, _ = self.coder.request(
            "POST", f"/documents/{self.document}/spans/", form=form, headers={"HX-Request": "true"}
        )
        self.post_ms = (time.perf_counter() - started) * 1000
        self.undo_of = (span.start, span.end, form["code"])
        return len(body)

    def _page_state(self) -> str:
        self.open()
        return self.state

    def undo(self) -> None:
        """Through the JSON API, which does not change with the page's markup."""
        spans = self.coder.json("GET", f"/api/v1/documents/{self.document}/spans")
        made = [s for s in spans if (s["start"], s["end"], s["code"]) == self.undo_of]
        if len(made) != 1:
            raise RuntimeError(f"span-create answered 200 but stored {len(made)} such spans")
        self.coder.request("DELETE", f"/api/v1/spans/{made[0]['id']}?version={made[0]['version']}")

    def export(self, documents: int, *, cap_mb: float) -> dict:
        """spans.jsonl of an export project (all coders' layer), streamed."""
        project = self.seeded[f"Peers export {documents}"]["project"]
        with MemoryWatch([self.pid], cap_mb=cap_mb) as watch:
            started = time.perf_counter()
            status, body, _ = self.admin.request(
                "GET", f"/projects/{project}/export/spans.jsonl", expect=()
            )
            seconds = time.perf_counter() - started
        out = {"seconds": seconds, "peak_mb": watch.peak_mb, "start_mb": watch.start_mb}
        if watch.capped or status != 200:
            return {**out, "error": f"answered {status} (memory cap hit: {watch.capped})"}
        return {**out, "bytes": len(body), "spans": count_jsonl_spans(body)}


def count_jsonl_spans(body: bytes, key: str = "label") -> int:
    return sum(len(json.loads(line).get(key) or []) for line in body.splitlines() if line.strip())

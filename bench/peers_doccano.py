"""doccano 1.8.4 in the peers benchmark, driven through its own REST API (``/v1/``).

Installed from PyPI in var/peers/doccano/ with ``marshmallow<4`` and ``numpy<2`` (without
them it does not start on Python 3.11). Served as its ``doccano webserver`` command serves it
(gunicorn, ``config.settings.production``, DEBUG off) but with one worker and bound to
loopback, plus its Celery worker (``doccano task --concurrency 1``), which runs imports and
exports. Its data lives in a fresh SQLite file under var/peers/doccano-run/; the Celery
broker (SQLAlchemy transport) gets an SQLite file of its own: on doccano's default, the
app's own file, an export's long read locked the broker out here and the task failed with
"database is locked".

What its front end (the sequence-labelling page) sends, read from its shipped bundle:
opening a document is ``GET examples?limit=1&offset=…`` then the example's ``spans`` and
``relations``; adding a span is ``POST …/spans`` and then the same two lists again.
"""

from __future__ import annotations

import contextlib
import io
import json
import secrets
import shutil
import time
import zipfile
from collections.abc import Iterator

from . import peers_data as data
from .peers_http import (
    PEERS_DIR,
    Client,
    MemoryWatch,
    multipart,
    pip_version,
    process,
    run_logged,
    venv,
    wait_for,
)

REQUIREMENTS = ["doccano==1.8.4", "marshmallow<4", "numpy<2"]
HOME = PEERS_DIR / "doccano-run"
PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway local account


class Doccano:
    name = "doccano"
    server = "gunicorn, 1 sync worker (its `webserver` command's server), DEBUG off"

    def __init__(self, *, export_sizes: list[int], port: int):
        self.export_sizes, self.port = export_sizes, port
        self.base = f"http://127.0.0.1:{port}"
        self.checks: dict = {}
        self.notes: dict = {}
        self.created: int | None = None
        self.broken_export = ""

    def install(self) -> None:
        self.bin = venv("doccano", REQUIREMENTS)
        self.version = pip_version(self.bin, "doccano")

    def _env(self) -> dict:
        import os

        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "DOCCANO_HOME": str(HOME),
            "DATABASE_URL": f"sqlite:///{HOME / 'db.sqlite3'}",
            "CELERY_BROKER_URL": f"sqla+sqlite:///{HOME / 'broker.sqlite3'}",
            "MEDIA_ROOT": str(HOME / "media"),
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "STANDALONE": "True",
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
        }

    @contextlib.contextmanager
    def running(self) -> Iterator[Doccano]:
        shutil.rmtree(HOME, ignore_errors=True)
        HOME.mkdir(parents=True)
        env = self._env()
        log = HOME / "setup.log"
        doccano = str(self.bin / "doccano")
        run_logged([doccano, "init"], env=env, cwd=HOME, log=log)
        run_logged(
            [doccano, "createuser", "--username", "admin", "--password", PASSWORD],
            env=env,
            cwd=HOME,
            log=log,
        )
        backend = next((self.bin.parent / "lib").glob("python3*/site-packages/backend"))
        web = [
            str(self.bin / "gunicorn"),
            "config.wsgi",
            f"--chdir={backend}",
            "--workers=1",
            f"--bind=127.0.0.1:{self.port}",
        ]
        worker = [doccano, "task", "--concurrency", "1"]
        with (
            process(web, env=env, cwd=HOME, log=HOME / "gunicorn.log") as server,
            process(worker, env=env, cwd=HOME, log=HOME / "celery.log") as celery,
        ):
            wait_for(f"{self.base}/v1/health/", server, HOME / "gunicorn.log")
            self.server_pid, self.celery_pid = server.pid, celery.pid
            self.client = Client(self.base)
            self.client.json(
                "POST", "/v1/auth/login/", json_body={"username": "admin", "password": PASSWORD}
            )
            self._load()
            try:
                yield self
            finally:
                self.client.close()

    # --- Loading, through the API ---------------------------------------------------------

    def _project(self, name: str) -> tuple[int, dict[str, int]]:
        project = self.client.json(
            "POST",
            "/v1/projects",
            json_body={
                "name": name,
                "description": "peers benchmark",
                "guideline": "",
                "project_type": "SequenceLabeling",
                "resourcetype": "SequenceLabelingProject",
                "allow_overlapping": True,  # coders' spans overlap
                "grapheme_mode": False,  # the default: UTF-16 offsets
                "use_relation": False,
                "random_order": False,
                "collaborative_annotation": False,
            },
        )
        labels = {}
        for code, colour in zip(data.CODES, data.COLOURS, strict=True):
            made = self.client.json(
                "POST",
                f"/v1/projects/{project['id']}/span-types",
                json_body={"text": code, "background_color": colour, "text_color": "#ffffff"},
            )
            labels[code] = made["id"]
        return project["id"], labels

    def _load(self) -> None:
        text = data.article()
        self.utf16 = data.Utf16(text)
        self.project, self.labels = self._project("Peers")
        example = self.client.json(
            "POST", f"/v1/projects/{self.project}/examples", json_body={"text": text, "meta": {}}
        )
        self.example = example["id"]
        spans_url = f"/v1/projects/{self.project}/examples/{self.example}/spans"
        started = time.perf_counter()
        for span in data.spans(text):
            self.client.json("POST", spans_url, json_body=self._payload(span))
        self.notes["load 1,000 spans (one POST each)"] = f"{time.perf_counter() - started:.1f} s"
        self._check(text, spans_url)
        self.export_projects = {size: self._load_corpus(size) for size in self.export_sizes}

    def _payload(self, span: data.Span) -> dict:
        return {
            "label": self.labels[span.code],
            "start_offset": self.utf16.units(span.start),
            "end_offset": self.utf16.units(span.end),
        }

    def _check(self, text: str, spans_url: str) -> None:
        """What doccano stored: the text unchanged, and offsets that are UTF-16 code units
        (the slice a browser makes of them is each span's quote)."""
        stored = self.client.json("GET", f"/v1/projects/{self.project}/examples/{self.example}")
        listed = self.client.json("GET", spans_url)
        by_label = {v: k for k, v in self.labels.items()}
        sent = {
            (self.utf16.units(s.start), self.utf16.units(s.end), s.code) for s in data.spans(text)
        }
        back = {(s["start_offset"], s["end_offset"], by_label[s["label"]]) for s in listed}
        quotes = sum(
            data.utf16_slice(stored["text"], s["start_offset"], s["end_offset"])
            == text[self.utf16.points(s["start_offset"]) : self.utf16.points(s["end_offset"])]
            for s in listed
        )
        shifted = sum(s.start != self.utf16.units(s.start) for s in data.spans(text))
        self.checks = {
            "spans": len(listed),
            "article stored unchanged": stored["text"] == text,
            "offsets stored as sent (UTF-16 code units)": back == sent,
            "quotes matching the UTF-16 slice": f"{quotes}/{len(listed)}",
            "spans whose UTF-16 start differs from the code-point start": shifted,
        }

    def _load_corpus(self, documents: int) -> int:
        """The export corpus through its dataset upload (filepond, then the import task)."""
        project, _ = self._project(f"Peers export {documents}")
        body, content_type = multipart(
            "filepond", "corpus.jsonl", data.doccano_jsonl(data.corpus(documents)), "text/plain"
        )
        _, upload, _ = self.client.request(
            "POST", "/v1/fp/process/", body=body, headers={"Content-Type": content_type}
        )
        task = self.client.json(
            "POST",
            f"/v1/projects/{project}/upload",
            json_body={
                "format": "JSONL",
                "task": "SequenceLabeling",
                "uploadIds": [upload.decode()],
                "column_data": "text",
                "column_label": "label",
                "encoding": "utf_8",
            },
        )
        status = self._wait(task["task_id"], timeout=1800)
        if status.get("error") or (status.get("result") or {}).get("error"):
            raise RuntimeError(f"doccano's import of {documents} documents failed: {status}")
        return project

    def _wait(self, task_id: str, *, timeout: float, watch: MemoryWatch | None = None) -> dict:
        """Poll the task as its front end does; a 500 (SQLite busy) counts as not ready."""
        deadline = time.monotonic() + timeout
        self.busy_polls = 0
        while time.monotonic() < deadline:
            if watch is not None and watch.capped:
                return {"ready": False, "capped": True}
            status, body, _ = self.client.request("GET", f"/v1/tasks/status/{task_id}", expect=())
            if status == 200:
                answer = json.loads(body)
                if answer["ready"]:
                    return answer
            elif status >= 500:
                self.busy_polls += 1
            else:
                raise RuntimeError(f"task status answered {status}: {body[:200]!r}")
            time.sleep(0.2)
        return {"ready": False, "timeout": True}

    # --- What the editor does -------------------------------------------------------------

    def browser_view(self):
        from .peers_browser import BrowserView, session_cookies

        # Only ?page=1: with empty q/isChecked/ordering its page asks for q=null and
        # confirmed=null, and finds no example.
        return BrowserView(
            url=f"{self.base}/projects/{self.project}/sequence-labeling?page=1",
            cookies=session_cookies(self.client),
            selector="svg line",
            what="its labeling page, first screen only: its editor draws only the lines in "
            "view (a span's underline is an SVG line)",
        )

    def _lists(self) -> int:
        base = f"/v1/projects/{self.project}/examples/{self.example}"
        _, spans, _ = self.client.request("GET", f"{base}/spans")
        _, relations, _ = self.client.request("GET", f"{base}/relations")
        return len(spans) + len(relations)

    def open(self) -> int:
        _, page, _ = self.client.request(
            "GET", f"/v1/projects/{self.project}/examples?limit=1&offset=0&q=&confirmed=&ordering="
        )
        return len(page) + self._lists()

    def save(self, text: str, span: data.Span) -> int:
        started = time.perf_counter()
        made = self.client.json(
            "POST",
            f"/v1/projects/{self.project}/examples/{self.example}/spans",
            json_body=self._payload(span),
        )
        self.post_ms = (time.perf_counter() - started) * 1000
        self.created = made["id"]
        return self._lists()

    def undo(self) -> None:
        self.client.request(
            "DELETE",
            f"/v1/projects/{self.project}/examples/{self.example}/spans/{self.created}",
        )

    def export(self, documents: int, *, cap_mb: float) -> dict:
        """Submit the JSONL export, poll until ready, download the ZIP: timed from submit
        to the last byte; memory of web server and Celery worker together."""
        if self.broken_export:
            return {"error": self.broken_export}
        project = self.export_projects[documents]
        with MemoryWatch([self.server_pid, self.celery_pid], cap_mb=cap_mb) as watch:
            started = time.perf_counter()
            task = self.client.json(
                "POST",
                f"/v1/projects/{project}/download",
                json_body={"format": "JSONL", "exportApproved": False},
            )
            status = self._wait(task["task_id"], timeout=1800, watch=watch)
            body = b""
            if status.get("ready") and not status.get("error"):
                _, body, _ = self.client.request(
                    "GET", f"/v1/projects/{project}/download?taskId={task['task_id']}"
                )
            seconds = time.perf_counter() - started
        out = {
            "seconds": seconds,
            "peak_mb": watch.peak_mb,
            "start_mb": watch.start_mb,
            "largest_mb": watch.largest_mb,
            "busy_polls": self.busy_polls,
        }
        if watch.capped:
            self.broken_export = (
                f"stopped at the memory cap ({cap_mb / 1024:.0f} GB) after {seconds:.0f} s; "
                "its Celery worker was killed (the export loads every span together with its "
                "example's full text)"
            )
            return {**out, "error": self.broken_export}
        if not body:
            return {**out, "error": f"the export task did not finish: {status}"}
        out["bytes"] = len(body)
        out["spans"], out["unzipped_bytes"] = zip_spans(body)
        return out


def zip_spans(body: bytes) -> tuple[int, int]:
    """Spans in doccano's export ZIP (one JSONL file per member; ``label`` lists), and the
    size of the JSONL inside."""
    total = size = 0
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name in archive.namelist():
            content = archive.read(name)
            size += len(content)
            for line in content.splitlines():
                if line.strip():
                    total += len(json.loads(line).get("label") or [])
    return total, size

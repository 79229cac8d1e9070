"""Label Studio 1.23.2 in the peers benchmark, driven through its own REST API (``/api/``).

Installed from PyPI as is in var/peers/labelstudio/, plus gunicorn: ``label-studio start``
runs Django's development server, so the benchmark serves the same WSGI application
(``core.wsgi``) with gunicorn, one sync worker, ``DEBUG=false``, SQLite in a fresh data
directory under var/peers/labelstudio-run/ (``label-studio init`` migrates it and makes the
admin). It refuses legacy API tokens by default, so the client logs in with a session, as the
browser does. Its Text tag counts code points, so regions carry the same offsets as Framing.

What its front end sends, read from its shipped bundle: opening a task is ``GET
/api/tasks/<id>`` (the task with every annotation's full ``result``); "Update" is ``PATCH
/api/annotations/<id>`` with the whole ``result`` (every region), after which it loads the
task again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator

from . import peers_data as data
from .peers_http import (
    PEERS_DIR,
    Client,
    MemoryWatch,
    pip_version,
    process,
    run_logged,
    venv,
    wait_for,
)

HOME = PEERS_DIR / "labelstudio-run"
EMAIL = "admin@example.org"
PASSWORD = "bench-admin-password"  # noqa: S105 - a throwaway local account
IMPORT_CHUNK = 10  # tasks per import request


def requirements() -> list[str]:
    """Label Studio, and the gunicorn release Framing's environment runs."""
    from importlib.metadata import version

    return ["label-studio==1.23.2", f"gunicorn=={version('gunicorn')}"]


class LabelStudio:
    name = "Label Studio"
    server = "gunicorn, 1 sync worker, DEBUG=false (its `start` is Django's runserver)"

    def __init__(self, *, export_sizes: list[int], port: int):
        self.export_sizes, self.port = export_sizes, port
        self.base = f"http://127.0.0.1:{port}"
        self.checks: dict = {}
        self.notes: dict = {}

    def install(self) -> None:
        self.bin = venv("labelstudio", requirements())
        self.version = pip_version(self.bin, "label-studio")

    def _env(self) -> dict:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
            "LABEL_STUDIO_BASE_DATA_DIR": str(HOME),
            "DJANGO_DB": "sqlite",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "LATEST_VERSION_CHECK": "false",  # it would ask PyPI at start-up
            "SECRET_KEY": secrets.token_urlsafe(50),
        }

    @contextlib.contextmanager
    def running(self) -> Iterator[LabelStudio]:
        shutil.rmtree(HOME, ignore_errors=True)
        HOME.mkdir(parents=True)
        env = self._env()
        run_logged(
            [
                str(self.bin / "label-studio"),
                "init",
                "--username",
                EMAIL,
                "--password",
                PASSWORD,
                "--data-dir",
                str(HOME),
                "--quiet",
            ],
            env=env,
            cwd=HOME,
            log=HOME / "setup.log",
        )
        package = next((self.bin.parent / "lib").glob("python3*/site-packages/label_studio"))
        web = [
            str(self.bin / "gunicorn"),
            "core.wsgi:application",
            f"--chdir={package}",
            "--workers=1",
            f"--bind=127.0.0.1:{self.port}",
            "--timeout=600",  # a whole-project export is one request
        ]
        env["DJANGO_SETTINGS_MODULE"] = "core.settings.label_studio"
        with process(web, env=env, cwd=HOME, log=HOME / "gunicorn.log") as server:
            wait_for(f"{self.base}/user/login/", server, HOME / "gunicorn.log")
            self.server_pid = server.pid
            self.client = Client(self.base)
            self.client.request("GET", "/user/login/")
            self.client.request(
                "POST",
                "/user/login/",
                form={
                    "email": EMAIL,
                    "password": PASSWORD,
                    "csrfmiddlewaretoken": self.client.cookies["csrftoken"],
                },
                expect=(302,),
            )
            self._load()
            try:
                yield self
            finally:
                self.client.close()

    # --- Loading, through the API ---------------------------------------------------------

    def _project(self, title: str) -> int:
        made = self.client.json(
            "POST",
            "/api/projects",
            json_body={"title": title, "label_config": data.LABELSTUDIO_CONFIG},
        )
        return made["id"]

    def _load(self) -> None:
        text = data.article()
        self.items = data.spans(text)
        self.result = data.labelstudio_result(text, self.items)
        self.project = self._project("Peers")
        self.client.json(
            "POST", f"/api/projects/{self.project}/import", json_body=[{"data": {"text": text}}]
        )
        listed = self.client.json("GET", f"/api/tasks?project={self.project}")
        self.task = listed["tasks"][0]["id"]
        # "Submit" in the editor: one POST with every region.
        started = time.perf_counter()
        made = self.client.json(
            "POST",
            f"/api/tasks/{self.task}/annotations?project={self.project}",
            json_body=self._body(self.result),
        )
        self.notes["load 1,000 spans (one annotation POST)"] = (
            f"{time.perf_counter() - started:.1f} s"
        )
        self.annotation = made["id"]
        self._check(text)
        self.export_projects = {size: self._load_corpus(size) for size in self.export_sizes}

    def _body(self, result: list[dict]) -> dict:
        return {
            "result": result,
            "lead_time": 60.0,
            "draft_id": None,
            "parent_prediction": None,
            "parent_annotation": None,
            "started_at": dt.datetime.now(dt.UTC).isoformat(),
        }

    def _check(self, text: str) -> None:
        task = self.client.json("GET", f"/api/tasks/{self.task}/?project={self.project}")
        regions = task["annotations"][0]["result"]
        stored = task["data"]["text"]
        self.checks = {
            "spans": len(regions),
            "article stored unchanged": stored == text,
            "offsets stored as sent (code points)": sorted(
                (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in regions
            )
            == sorted((s.start, s.end, s.code) for s in self.items),
            "quotes matching the code-point slice": sum(
                stored[r["value"]["start"] : r["value"]["end"]] == r["value"]["text"]
                for r in regions
            ),
        }

    def _load_corpus(self, documents: int) -> int:
        """Tasks with their annotation, imported through the import API in chunks."""
        project = self._project(f"Peers export {documents}")
        corpus = data.corpus(documents)
        for first in range(0, len(corpus), IMPORT_CHUNK):
            tasks = [
                {
                    "data": {"text": text},
                    "annotations": [{"result": data.labelstudio_result(text, items)}],
                }
                for text, items in corpus[first : first + IMPORT_CHUNK]
            ]
            self.client.json("POST", f"/api/projects/{project}/import", json_body=tasks)
        return project

    # --- What the editor does -------------------------------------------------------------

    def browser_view(self):
        from .peers_browser import BrowserView, session_cookies

        return BrowserView(
            url=f"{self.base}/projects/{self.project}/data?task={self.task}",
            cookies=session_cookies(self.client),
            selector=".htx-highlight",
            what="its labeling page on the task: the regions its editor draws in the text",
        )

    def open(self) -> int:
        _, body, _ = self.client.request("GET", f"/api/tasks/{self.task}/?project={self.project}")
        return len(body)

    def _patch(self, result: list[dict]) -> None:
        self.client.json(
            "PATCH",
            f"/api/annotations/{self.annotation}/?taskID={self.task}&project={self.project}",
            json_body=self._body(result),
        )

    def save(self, text: str, span: data.Span) -> int:
        started = time.perf_counter()
        self._patch([*self.result, data.labelstudio_region(text, span, len(self.result))])
        self.post_ms = (time.perf_counter() - started) * 1000
        return self.open()

    def undo(self) -> None:
        self._patch(self.result)

    def export(self, documents: int, *, fmt: str = "JSON_MIN", cap_mb: float) -> dict:
        """The synchronous whole-project export (``GET /api/projects/<id>/export``)."""
        project = self.export_projects[documents]
        with MemoryWatch([self.server_pid], cap_mb=cap_mb) as watch:
            started = time.perf_counter()
            status, body, _ = self.client.request(
                "GET",
                f"/api/projects/{project}/export?exportType={fmt}&download_all_tasks=true",
                expect=(),
            )
            seconds = time.perf_counter() - started
        out = {"seconds": seconds, "peak_mb": watch.peak_mb, "start_mb": watch.start_mb}
        if watch.capped or status != 200:
            return {**out, "error": f"answered {status} (memory cap hit: {watch.capped})"}
        tasks = json.loads(body)
        if fmt == "JSON_MIN":
            spans = sum(len(task.get("label") or []) for task in tasks)
        else:
            spans = sum(len(a["result"]) for task in tasks for a in task["annotations"])
        return {**out, "bytes": len(body), "spans": spans}

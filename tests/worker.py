"""Start a real Celery worker process against the test database, for tests that need one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection


def test_database_url() -> str:
    """A DATABASE_URL that points a separate process at the database the tests use."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def worker_process(*, queues: list[str] | None = None, extra_env: dict | None = None):
    """Run ``celery worker`` in its own process on private queues; yield the queue names.

    Private queue names keep a developer's running ``make run`` worker from taking the
    test's tasks (both use the same embedded broker folder).
    """
    queues = queues or [f"test-{uuid.uuid4().hex[:12]}"]
    env = {**os.environ, "DATABASE_URL": test_database_url(), **(extra_env or {})}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "framing",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=warning",
            f"--queues={','.join(queues)}",
            f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, queues
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.1, process=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if process is not None and process.poll() is not None:
            raise AssertionError(f"worker exited early:\n{process.stdout.read()}")
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")

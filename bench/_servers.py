"""The production stack on loopback for the load and fault benchmarks.

PostgreSQL (127.0.0.1:5432, user postgres) gets a database of its own, created, migrated
and dropped here; Redis (127.0.0.1:6379) is used on one database number, flushed before
and after. gunicorn and Celery run as child processes with production settings
(``DJANGO_DEBUG=false``), bound to 127.0.0.1 only, and are always stopped on the way out.
Django code that must run against that database (seeding, checks) runs in a child process
too, because the benchmark runner's own Django is set up on SQLite.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from . import BENCH_DIR

BASE_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS_URL = "redis://127.0.0.1:6379/14"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_sql(statement: str, *, database: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(dbname=database, autocommit=True, connect_timeout=5, **PG) as conn:
        conn.execute(statement)


def sql_rows(database: str, query: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(dbname=database, connect_timeout=5, **PG) as conn:
        return conn.execute(query, params).fetchall()


def wait_for_postgres(timeout: float = 60.0) -> float:
    """Seconds until PostgreSQL accepts connections again."""
    import psycopg

    started = time.monotonic()
    while True:
        try:
            with psycopg.connect(dbname="postgres", connect_timeout=2, **PG):
                return time.monotonic() - started
        except psycopg.OperationalError:
            if time.monotonic() - started > timeout:
                raise
            time.sleep(0.1)


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def stack_env(database: str) -> dict[str, str]:
    """Production settings pointed at the benchmark's database and Redis number."""
    var = BENCH_DIR / f"{database}-var"
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))},
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{database}",
        "CELERY_BROKER_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "framing.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no proxy in front to terminate TLS.
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "FRAMING_VAR_DIR": str(var),
        "FRAMING_STATIC_ROOT": str(var / "static"),
        "FRAMING_LOG_LEVEL": "WARNING",
    }


def manage(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def django_call(env: dict, target: str, **kwargs) -> object:
    """Call ``module:function(**kwargs)`` in a child process with ``env``; JSON in and out."""
    module, function = target.split(":")
    code = (
        "import json, sys, django; django.setup(); "
        f"from {module} import {function} as f; "
        "print('\\n' + json.dumps(f(**json.loads(sys.argv[1]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(kwargs)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"{target} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def database(name: str) -> Iterator[dict]:
    """A fresh, migrated PostgreSQL database with collected static files; dropped after."""
    admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_sql(f'CREATE DATABASE "{name}"')
    env = stack_env(name)
    Path(env["FRAMING_STATIC_ROOT"]).mkdir(parents=True, exist_ok=True)
    try:
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        yield env
    finally:
        wait_for_postgres()
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stop(process: subprocess.Popen, *, grace: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int = 4) -> Iterator[tuple[str, Path]]:
    """gunicorn on a free loopback port; yields its base URL once it answers, and its
    access log, whose last field is the time the worker spent on the request (µs)."""
    port = free_port()
    log = open(BENCH_DIR / f"gunicorn-{port}.log", "w")  # noqa: SIM115 - closed below
    access = BENCH_DIR / f"gunicorn-{port}-access.log"
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "framing.wsgi",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--graceful-timeout=5",
            f"--access-logfile={access}",
            "--access-logformat=%(m)s %(U)s %(s)s %(D)s",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                login = f"{base}/accounts/login/"  # http on loopback, built here
                with urllib.request.urlopen(login, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log.name}") from None
                time.sleep(0.2)
        yield base, access
    finally:
        _stop(process)
        log.close()


@contextlib.contextmanager
def celery_worker(env: dict, *, queues: str = "agreement", name: str = "bench") -> Iterator:
    log = open(BENCH_DIR / f"celery-{name}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "framing",
            "worker",
            "--pool=solo",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=warning",
            f"--queues={queues}",
            f"--hostname={name}@%h",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        _stop(process)
        log.close()


def restart_postgres() -> None:
    """Restart the local cluster (a few seconds without a database)."""
    version = next(iter(sorted(os.listdir("/etc/postgresql"))))
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


# What each part of the stack is, by the process's command line (the load client is the
# benchmark's own process).
PARTS = (
    ("gunicorn", "gunicorn"),
    ("celery", "celery"),
    ("postgres", "postgres"),
    ("redis", "redis-server"),
)


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) so far of every live process of each part of the stack,
    and of this process (the load client). Two readings around a run give the cores each
    part used: processes that ended in between are missed, so read the second before
    stopping the servers."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys([name for name, _ in PARTS], 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended while read
        fields = stat.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        for name, marker in PARTS:
            if marker in command:
                totals[name] += used
                break
    own = os.times()
    totals["load client"] = own.user + own.system
    return totals

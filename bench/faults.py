"""Faults under load: PostgreSQL restarted, the database made read-only, a long project lock.

The same stack and coders as bench/load.py (production settings, gunicorn with 4 workers,
PostgreSQL, Redis), on a database of its own. Three scenarios, each followed by the same
check as the load test: every span is as its coder was last told, or, where a request got
no clear answer, either entirely before or entirely after that change; no span exists that
nobody was told of unless a create got no answer; audit events equal versions.

1. PostgreSQL is restarted (``pg_ctlcluster ... restart``) 8 s into 25 s of load by 50
   coders; gunicorn is not touched. We count failed requests, what they said, and how long
   until requests succeed again.
2. The database is made read-only (``ALTER DATABASE ... SET
   default_transaction_read_only = on``, connections reset so that it applies) for 8 s of
   load by 20 coders, then writable again for 6 s: reads should keep working, writes fail
   and nothing changes, then writes work again without a restart.
3. agreement_request locks the project row ``FOR UPDATE`` while it gathers every span. A
   span write inserts an audit event whose foreign key to the project takes ``FOR KEY
   SHARE`` on that row, which ``FOR UPDATE`` blocks (``FOR NO KEY UPDATE`` does not). We
   hold each lock for 2 s, as a large project's gather would, and time one span write.
"""

from __future__ import annotations

import threading
import time

from . import _servers
from .load import SEEDED_SPANS, Coder, run_coders, verify

DB_NAME = "framing_bench_faults"
CODERS = 50


def outcome(coders: list[Coder], *, since: float = 0.0) -> dict:
    samples = [s for c in coders for s in c.samples if s.at >= since]
    failed = [s for s in samples if not 200 <= s.status < 300]
    statuses: dict[int, int] = {}
    for s in failed:
        statuses[s.status] = statuses.get(s.status, 0) + 1
    bodies = {}
    for c in coders:
        for status, body in c.bodies.items():
            bodies.setdefault(status, body)
    return {"requests": len(samples), "failed": len(failed), "statuses": statuses, "said": bodies}


def describe(result: dict) -> str:
    said = "; ".join(f"{k or 'no response'}: “{v[:80]}”" for k, v in result["said"].items())
    counts = ", ".join(f"{k or 'no response'} ×{v}" for k, v in result["statuses"].items())
    return f"{counts or 'none'}{' — ' + said if said else ''}"


def checks(verdict: dict) -> str:
    return (
        f"{verdict['as_told']} spans as told, {verdict['uncertain_resolved']} unanswered "
        f"changes all-or-nothing, {verdict['missing']} missing, {verdict['mismatched']} "
        f"different, {verdict['unexplained']} unexplained, {verdict['audit_mismatch']} "
        f"audit≠version, {verdict['committed_behind_error']} creates saved behind an error"
    )


def restart_during_load(port: int, seeded: dict) -> tuple[list[Coder], dict]:
    events: dict = {}

    def during(elapsed: float) -> None:
        if elapsed >= 8 and "thread" not in events:

            def restart() -> None:
                events["began"] = time.time()
                _servers.restart_postgres()
                events["back"] = time.time()

            events["thread"] = threading.Thread(target=restart, daemon=True)
            events["thread"].start()

    coders = run_coders(port, seeded, 25.0, during=during)
    events["thread"].join(timeout=120)
    samples = sorted((s for c in coders for s in c.samples), key=lambda s: s.at)
    failures = [s for s in samples if not 200 <= s.status < 300]
    last_failure = max((s.at + s.ms / 1000 for s in failures), default=events["began"])
    after = [s for s in samples if s.at > last_failure]
    return coders, {
        **outcome(coders),
        "outage_s": events["back"] - events["began"],
        "recovered_after_s": last_failure - events["began"],
        "ok_after": sum(1 for s in after if 200 <= s.status < 300),
        "requests_after": len(after),
    }


def set_read_only(on: bool) -> None:
    value = "on" if on else "off"
    _servers.admin_sql(f'ALTER DATABASE "{DB_NAME}" SET default_transaction_read_only = {value}')
    # The setting applies to new sessions: end the app's pooled ones (CONN_MAX_AGE).
    _servers.admin_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608 - a constant
        f"WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()"
    )


def counts() -> tuple[int, int]:
    return _servers.sql_rows(
        DB_NAME,
        "SELECT (SELECT count(*) FROM annotations_span), "
        "(SELECT count(*) FROM annotations_auditevent)",
    )[0]


def read_only_phase(port: int, seeded: dict, before: list[Coder]) -> tuple[list[Coder], dict]:
    set_read_only(True)
    rows_before = counts()
    try:
        started = time.time()
        read_only = run_coders(port, seeded, 8.0, before=before[:20], count=20)
    finally:
        rows_during = counts()
        set_read_only(False)
    result = outcome(read_only, since=started)
    by_endpoint: dict[str, list[int]] = {}
    for s in (s for c in read_only for s in c.samples):
        ok, total = by_endpoint.setdefault(s.endpoint, [0, 0])
        by_endpoint[s.endpoint] = [ok + (200 <= s.status < 300), total + 1]
    again = run_coders(port, seeded, 6.0, before=read_only, count=20)
    writes_again = [s for c in again for s in c.samples if s.endpoint != "page"]
    return [*again, *before[20:]], {
        **result,
        "by_endpoint": by_endpoint,
        "rows_changed": (rows_during[0] - rows_before[0], rows_during[1] - rows_before[1]),
        "writes_after": len(writes_again),
        "writes_after_ok": sum(1 for s in writes_again if 200 <= s.status < 300),
    }


def lock_probe(port: int, seeded: dict, coder: Coder) -> dict:
    """One span create while another transaction holds the project row for 2 s."""
    import psycopg

    project_id = seeded["project_id"]
    timings = {}
    for mode in ("FOR UPDATE", "FOR NO KEY UPDATE"):
        with psycopg.connect(dbname=DB_NAME, **_servers.PG) as conn:
            query = f"SELECT id FROM annotations_project WHERE id = %s {mode}"  # noqa: S608
            conn.execute(query, (project_id,))
            probe = Coder(port, coder.info, seeded["codes"], 0, seed=7, before=coder)
            releaser = threading.Timer(2.0, conn.rollback)
            releaser.start()
            probe.create()
            releaser.join()
        sample = probe.samples[-1]
        timings[mode] = (sample.ms, sample.status)
    return timings


def run() -> dict:
    _servers.flush_redis()
    with _servers.database(DB_NAME) as env:
        seeded = _servers.django_call(
            env, "bench.load:seed", coders=CODERS, doc_chars=5_000, seeded_spans=SEEDED_SPANS
        )
        with (
            _servers.gunicorn(env, workers=4) as (base, _),
            _servers.celery_worker(env, queues="agreement", name="bench-faults"),
        ):
            port = int(base.rsplit(":", 1)[1])
            coders, restart = restart_during_load(port, seeded)
            restart_check = verify(DB_NAME, coders)
            coders, read_only = read_only_phase(port, seeded, coders)
            read_only_check = verify(DB_NAME, coders)
            lock = lock_probe(port, seeded, coders[-1])
    figures = [
        {
            "name": "PostgreSQL restart: failed requests",
            "value": restart["failed"],
            "unit": "requests",
            "note": f"of {restart['requests']}; {describe(restart)}",
        },
        {
            "name": "PostgreSQL restart: database away",
            "value": round(restart["outage_s"], 2),
            "unit": "s",
            "note": "pg_ctlcluster restart, start to end",
        },
        {
            "name": "PostgreSQL restart: requests failing for",
            "value": round(restart["recovered_after_s"], 2),
            "unit": "s",
            "ratio_to": "PostgreSQL restart: database away",
            "note": f"then {restart['ok_after']}/{restart['requests_after']} requests "
            "succeeded, gunicorn never restarted",
        },
        {
            "name": "PostgreSQL restart: inconsistent spans",
            "value": restart_check["missing"]
            + restart_check["mismatched"]
            + restart_check["unexplained"]
            + restart_check["audit_mismatch"],
            "unit": "spans",
            "note": checks(restart_check),
        },
        {
            "name": "read-only database: failed requests",
            "value": read_only["failed"],
            "unit": "requests",
            "note": f"of {read_only['requests']}; ok/total by endpoint "
            f"{ {k: f'{v[0]}/{v[1]}' for k, v in read_only['by_endpoint'].items()} }; "
            f"{describe(read_only)}",
        },
        {
            "name": "read-only database: rows written",
            "value": sum(read_only["rows_changed"]),
            "unit": "rows",
            "note": "spans and audit events added while read-only",
        },
        {
            "name": "read-only database: writes after it was writable again",
            "value": read_only["writes_after_ok"],
            "unit": "ok",
            "ratio_to": "read-only database: writes sent after",
            "note": "no restart of gunicorn",
        },
        {
            "name": "read-only database: writes sent after",
            "value": read_only["writes_after"],
            "unit": "requests",
        },
        {
            "name": "read-only database: inconsistent spans",
            "value": read_only_check["missing"]
            + read_only_check["mismatched"]
            + read_only_check["unexplained"]
            + read_only_check["audit_mismatch"],
            "unit": "spans",
            "note": checks(read_only_check),
        },
        {
            "name": "span create while the project is locked FOR NO KEY UPDATE",
            "value": round(lock["FOR NO KEY UPDATE"][0], 1),
            "unit": "ms",
            "note": f"status {lock['FOR NO KEY UPDATE'][1]}; the proposed fix",
        },
        {
            "name": "span create while the project is locked FOR UPDATE",
            "value": round(lock["FOR UPDATE"][0], 1),
            "unit": "ms",
            "ratio_to": "span create while the project is locked FOR NO KEY UPDATE",
            "note": f"status {lock['FOR UPDATE'][1]}; the lock agreement_request takes while "
            "it gathers, held 2 s",
        },
    ]
    return {
        "title": "Faults under load: PostgreSQL restart, read-only database, project lock",
        "description": (__doc__ or "").split("\n\n")[1].replace("\n", " "),
        "figures": figures,
        "checks": {"restart": restart_check, "read_only": read_only_check},
    }

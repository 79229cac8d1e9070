"""Benchmarks run by ``make bench`` (``python -m bench``).

Each module here that defines ``run() -> dict`` is one benchmark. It returns
``{"title": str, "figures": [{"name", "value", "unit", "ratio_to"?, "target"?, "note"?}]}``;
``ratio_to`` names another figure of the same benchmark that the report divides by, and
``target`` (made by :func:`goal`) is the issue's goal for the figure and whether it was met.
The runner writes var/bench/report.json (merged: other benchmarks' sections are kept)
and var/bench/report.md. Benchmarks time; they never assert.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"


@contextlib.contextmanager
def fresh_database(name: str) -> Iterator[None]:
    """A freshly migrated SQLite database var/bench/<name>.sqlite3 for one benchmark,
    made and dropped with Django's test utilities (the runner has set Django up)."""
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    # WhiteNoise expects STATIC_ROOT to exist (it does after collectstatic in production).
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        BENCH_DIR / f"{name}.sqlite3"
    )
    setup_test_environment(debug=False)
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def timed(call: Callable[[], object], *, repeat: int, warmup: int = 5) -> list[float]:
    """Milliseconds per call, after a few untimed warm-up calls."""
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


GOAL_TESTS = {
    "<": lambda value, limit: value < limit,
    "<=": lambda value, limit: value <= limit,
    ">=": lambda value, limit: value >= limit,
}


def goal(value: float, op: str, limit: float, unit: str = "") -> dict:
    """A figure's target, e.g. ``goal(1.4, "<", 2, "s")``: shown and checked in the report."""
    return {
        "text": f"{op} {limit:g}{' ' + unit if unit else ''}",
        "met": GOAL_TESTS[op](value, limit),
    }


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

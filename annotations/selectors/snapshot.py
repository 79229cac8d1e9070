"""Several reads that must see one state of the database, while writers go on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, transaction


@contextlib.contextmanager
def one_snapshot() -> Iterator[None]:
    """Every query inside reads the same state of the database.

    On PostgreSQL: one REPEATABLE READ, read-only transaction, which never blocks writers.
    On SQLite, a transaction here would take the write lock (the app opens them IMMEDIATE
    so that concurrent writers queue instead of failing) and stall every coder for as long
    as the reads last, so the reads run as they are; callers say where that matters.
    Inside a transaction already (a caller's, or a test's), that transaction is the snapshot.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield

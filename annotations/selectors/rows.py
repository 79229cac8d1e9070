"""Rows as the database driver returns them, for the reads that are many and simple.

Django converts every value of every row (``from_db_value`` and the backend's converters);
for reads of whole numbers and texts that was most of their time: a span write reads all
of a coder's spans, an export and an agreement job read all of a project's. Timestamps
stay in the driver's form (SQLite's text; see ``export.shape.timestamp_text``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.db.models.sql.constants import MULTI

CHUNK = 2000


def raw_rows(queryset) -> list[tuple]:
    """All rows of a ``values_list`` queryset, in one fetch (for reads of bounded size)."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    return [row for chunk in compiler.execute_sql(MULTI) for row in chunk]


def streamed_raw_rows(queryset, chunk_size: int = CHUNK) -> Iterator[tuple]:
    """The rows of a ``values_list`` queryset, fetched ``chunk_size`` at a time (on
    PostgreSQL through a server-side cursor), so memory stays flat on a whole corpus."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    for chunk in compiler.execute_sql(MULTI, chunked_fetch=True, chunk_size=chunk_size):
        yield from chunk


class CompiledOnce:
    """A query the ORM builds and compiles once per process, then runs with another value
    in place of one parameter: for the queries every request makes, where building the SQL
    (about 6 ms for the header's rights) cost far more than the database took to answer.

    ``build(value)`` returns the queryset for a value; ``MARKER`` stands for it while
    compiling, and every parameter equal to it is replaced. Rows are dicts by column name,
    as the driver gives them (SQLite's booleans are 0 and 1)."""

    MARKER = -7_340_019  # no real id or constant is this

    def __init__(self, build):
        self._build = build
        self._compiled: tuple[str, str, tuple] | None = None

    def rows(self, value) -> list[dict]:
        with self._cursor(value) as cursor:
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def tuples(self, value) -> list[tuple]:
        """The rows as the driver's tuples, in the order of the query's columns."""
        with self._cursor(value) as cursor:
            return cursor.fetchall()

    @contextmanager
    def _cursor(self, value) -> Iterator:
        if self._compiled is None:
            queryset = self._build(self.MARKER)
            sql, params = queryset.query.sql_with_params()
            if self.MARKER not in params:
                raise ValueError("The query does not use the value it is built with.")
            self._compiled = (queryset.db, sql, tuple(params))
        database, sql, params = self._compiled
        values = [value if p == self.MARKER else p for p in params]
        with connections[database].cursor() as cursor:
            cursor.execute(sql, values)
            yield cursor


def change_mark(using: str = "default") -> tuple | None:
    """A mark that differs from any earlier one of the same connection once anything in
    the database has changed since: on SQLite, its ``data_version`` (which moves with every
    commit of another connection) and this connection's own count of rows changed. Two
    equal marks mean every read between them saw the same data. ``None`` on other
    databases, which have no such cheap and exact check."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return None
    connection.ensure_connection()
    raw = connection.connection
    (version,) = raw.execute("PRAGMA data_version").fetchone()
    return raw, version, raw.total_changes


def unchanged_since(mark: tuple | None, using: str = "default") -> bool:
    if mark is None:
        return False
    now = change_mark(using)
    # The same connection object (a mark of a closed one proves nothing), and no change.
    return now is not None and now[0] is mark[0] and now[1:] == mark[1:]

"""Rows as the database driver returns them, for the reads that are many and simple.

Django converts every value of every row (``from_db_value`` and the backend's converters);
for reads of whole numbers and texts that was most of their time: a span write reads all
of a coder's spans, an export and an agreement job read all of a project's. Timestamps
stay in the driver's form (SQLite's text; see ``export.shape.timestamp_text``).
"""

from __future__ import annotations

from collections.abc import Iterator

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

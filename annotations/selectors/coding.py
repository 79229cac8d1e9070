"""Reads for the coding screen: the coder's own spans, drawn, listed and inspected.

The page's text and span list are drawn once per state of the coder's spans and codebook
and cached under its digest (:func:`~annotations.domain.rendering.state_token`), which
every span write changes: a cached drawing can never show an old span. After a write the
page gets only what changed (:func:`write_changes`), checked against the token the page
sends back, so a page that is behind (another tab wrote) gets the whole workspace instead.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property

from django.core.cache import cache
from django.db import connection, connections
from django.utils.safestring import SafeString, mark_safe

from ..domain.rendering import (
    MARK,
    TEXT_ORDER,
    Shown,
    list_html,
    list_swaps,
    mark_selected,
    state_token,
    text_html,
    text_swaps,
)
from ..models import Assignment, Code, Span
from .rows import raw_rows

# Part of every cache key: a deploy that changes the markup never serves an old drawing.
RENDER_VERSION = 2
CACHE_SECONDS = 6 * 3600
CODE_FIELDS = ("id", "name", "shortcut", "order", "active")


@dataclass(frozen=True)
class CoderSpans:
    """The project's codes and one coder's live spans (in text order), as one write or
    one page read them."""

    codes: list[Code]
    spans: list[Shown]

    @cached_property
    def _by_id(self) -> dict[int, Shown]:
        return {span.pk: span for span in self.spans}

    @cached_property
    def token(self) -> str:
        return state_token(self.codes, self.spans)

    def find(self, span_id: int) -> Shown | None:
        return self._by_id.get(span_id)

    def code(self, code_id: int) -> Code | None:
        return next((code for code in self.codes if code.pk == code_id), None)

    def tagged(self, code_id: int, start: int, end: int, *, other_than: int = 0) -> bool:
        """Whether another live span of the coder has this code on exactly these offsets."""
        at = bisect.bisect_left(self.spans, (start, end, 0), key=TEXT_ORDER)
        for span in self.spans[at:]:
            if (span.start, span.end) != (start, end):
                return False
            if span.code_id == code_id and span.pk != other_than:
                return True
        return False

    def replaced(self, span: Span) -> CoderSpans:
        """The same after a write to ``span``: it is in the list if live, with its texts."""
        span_id = span.pk
        others = [s for s in self.spans if s.pk != span_id]
        if span.deleted_at is None:
            bisect.insort(others, shown(span), key=TEXT_ORDER)
        return CoderSpans(self.codes, others)


def shown(span: Span) -> Shown:
    return Shown(
        span.pk, span.code_id, span.start, span.end, span.version, span.quote, span.note, span.code
    )


def coder_spans(assignment: Assignment) -> CoderSpans:
    """The codes of the assignment's project and the coder's live spans, in one query (a
    span write's budget of queries): the code rows and the span rows.

    Codes come without their definitions (deferred: read on access); spans without their
    texts, which a write has for the one span it changed. The query is written out: the
    ORM took longer to build it than the database to run it."""
    with connections[Code.objects.db].cursor() as cursor:
        cursor.execute(CODER_SPANS, [assignment.document.project.codebook.pk, assignment.pk])
        rows = cursor.fetchall()
    codes = [
        # SQLite gives 0 or 1 for a boolean.
        Code.from_db(Code.objects.db, CODE_FIELDS, (row[1], *row[5:8], bool(row[8])))
        for row in rows
        if row[0] is None
    ]
    codes.sort(key=lambda code: (code.order, code.pk))
    spans = [Shown(*row[:5]) for row in rows if row[0] is not None]
    spans.sort(key=TEXT_ORDER)
    return CoderSpans(codes, spans)


def _coder_spans_sql() -> str:
    """Names from the models, values as parameters. A span row: id, code, start, end and
    version; a code row: its id in the code column, then its name, key, place and state."""
    code, span = Code._meta, Span._meta
    quote = connection.ops.quote_name

    def col(meta, name):
        return quote(meta.get_field(name).column)

    span_columns = ", ".join(col(span, name) for name in ("id", "code", "start", "end", "version"))
    code_columns = ", ".join(col(code, name) for name in CODE_FIELDS[1:])
    return (
        f"SELECT NULL, {col(code, 'id')}, NULL, NULL, NULL, {code_columns} "  # noqa: S608
        f"FROM {quote(code.db_table)} WHERE {col(code, 'codebook')} = %s "
        f"UNION ALL SELECT {span_columns}, NULL, NULL, NULL, NULL "
        f"FROM {quote(span.db_table)} "
        f"WHERE {col(span, 'assignment')} = %s AND {col(span, 'deleted_at')} IS NULL"
    )


CODER_SPANS = _coder_spans_sql()


@dataclass
class CodingScreen:
    assignment: Assignment
    codes: list[Code]
    spans: list[Shown]
    token: str
    text_html: bytes  # the inside of #doc-text, as UTF-8
    list_html: bytes  # the span list's groups, as UTF-8
    inspected: list[Shown] = field(default_factory=list)


def coding_screen(assignment: Assignment, *, selected_ids=frozenset()) -> CodingScreen:
    """Everything the coding page shows, for the coder's own spans only (2 queries).

    ``selected_ids`` are the spans the inspector shows, tinted in the text. A span's quote
    is the document's own slice (every write stores exactly that), not read again."""
    document = assignment.document
    codes = list(Code.objects.filter(codebook__project_id=document.project_id))
    by_id = {code.pk: code for code in codes}
    rows = (
        Span.objects.live()
        .filter(assignment=assignment)
        .order_by("start", "end", "pk")
        .values_list("pk", "code_id", "start", "end", "version", "note")
    )
    text = document.text
    spans = [
        Shown(pk, code_id, start, end, version, text[start:end], note, by_id[code_id])
        for pk, code_id, start, end, version, note in raw_rows(rows)
    ]
    token = state_token(codes, spans)
    drawn_text, listing = drawn(assignment, codes, spans, token)
    inspected = [span for span in spans if span.pk in selected_ids]
    return CodingScreen(
        assignment=assignment,
        codes=codes,
        spans=spans,
        token=token,
        text_html=mark_selected(drawn_text, [s.pk for s in inspected]),
        list_html=listing,
        inspected=inspected,
    )


def drawn(assignment, codes, spans: list[Shown], token: str):
    """The text and the span list as UTF-8 HTML, from the cache when this state was drawn
    last. One entry per assignment, holding the token it was drawn for: a new state
    replaces it, so the cache holds one drawing per coder and document at most. Bytes: a
    text with one emoji is four bytes a character as a Python string, and these go into
    the page as they are (see views.coding.fill_in)."""
    # The document too: an assignment withdrawn before any span was tagged may see its
    # id given again (SQLite reuses the highest), for another document.
    document = assignment.document
    key = f"framing:coding:{RENDER_VERSION}:{assignment.pk}:{document.pk}:{document.sha256}"
    hit = cache.get(key)
    if hit is not None and hit[0] == token:
        return hit[1:]
    keys = {code.pk: code.shortcut for code in codes}
    text = document.text
    result = (
        text_html(text, map(MARK, spans), keys).encode(),
        list_html(codes, spans).encode(),
    )
    cache.set(key, (token, *result), CACHE_SECONDS)
    return result


def spans_at(assignment: Assignment, offset: int) -> list[Span]:
    """The coder's live spans covering one character (the coder clicked a highlight)."""
    return list(
        assignment.spans.live()
        .filter(start__lte=offset, end__gt=offset)
        .select_related("code")
        .order_by("start", "end", "pk")
    )


@dataclass(frozen=True)
class BlockSwap:
    """A change of one span's block in the inspector: ``how`` is "replace", "delete" or
    "insert" (at ``where``, an htmx position such as ``beforebegin:#insp-12``)."""

    how: str
    span: object
    where: str = ""


@dataclass
class ScreenChanges:
    """What a write changed on the coding page, as out-of-band swaps."""

    swaps: list[SafeString]  # pieces of the text and entries of the span list
    token: str
    count: int | None = None  # the coder's span count, when it changed
    inspected: list | None = None  # the whole inspector's spans, when it is redrawn whole
    blocks: list[BlockSwap] = field(default_factory=list)  # else: its changed blocks
    title_count: int | None = None  # the inspector's new number of spans, when it changed


def write_changes(
    assignment: Assignment,
    before: CoderSpans,
    span: Span,
    *,
    shown_token: str,
    showing: set[int],
    opened: set[int],
) -> ScreenChanges | None:
    """The pieces of the page a write to ``span`` changed, or None when the page does not
    show the state before the write (``shown_token`` differs) and needs the whole workspace.

    ``showing`` are the spans the inspector showed, ``opened`` those it shows after the
    write (the live ones among them)."""
    if shown_token != before.token:
        return None
    after = before.replaced(span)
    keys = {code.pk: code.shortcut for code in before.codes}
    old, new = before.find(span.pk), after.find(span.pk)
    swaps = text_swaps(
        assignment.document.text,
        list(map(MARK, before.spans)),
        MARK(old) if old else None,
        MARK(new) if new else None,
        keys,
    )
    swaps += list_swaps(before.codes, before.spans, after.spans, span.pk)
    changes = ScreenChanges(
        swaps=[mark_safe(html) for html in swaps],  # noqa: S308 (texts escaped there)
        token=after.token,
        count=len(after.spans) if len(after.spans) != len(before.spans) else None,
    )
    shown_before = [s.pk for s in before.spans if s.pk in showing]
    shown_after = [s.pk for s in after.spans if s.pk in opened]
    if not _inspector_changes(changes, shown_before, shown_after, span):
        return None
    return changes


def _inspector_changes(changes, shown_before: list[int], shown_after: list[int], span) -> bool:
    """Only ``span``'s block of the inspector can differ (the others' spans did not
    change), so it alone is redrawn, unless the inspector holds nothing else. False when
    the other blocks differ too (the write did not come from this inspector)."""
    if [pk for pk in shown_before if pk != span.pk] != [pk for pk in shown_after if pk != span.pk]:
        return False
    if set(shown_after) <= {span.pk}:
        changes.inspected = [span] if shown_after else []
        return True
    was, now = span.pk in shown_before, span.pk in shown_after
    if len(shown_before) != len(shown_after):
        changes.title_count = len(shown_after)
    if was and now and _next(shown_before, span.pk) == _next(shown_after, span.pk):
        changes.blocks.append(BlockSwap("replace", span))
        return True
    if was:
        changes.blocks.append(BlockSwap("delete", span))
    if now:
        following = _next(shown_after, span.pk)
        where = f"beforebegin:#insp-{following}" if following else "beforeend:#inspector"
        changes.blocks.append(BlockSwap("insert", span, where))
    return True


def _next(ids: list[int], span_id: int) -> int | None:
    at = ids.index(span_id)
    return ids[at + 1] if at + 1 < len(ids) else None


def inspect_changes(before: CoderSpans, *, shown_token: str, spans: list[Span]):
    """What opening ``spans`` in the inspector changes: the inspector alone, or None when
    the page is behind and needs the whole workspace."""
    if shown_token != before.token:
        return None
    return ScreenChanges(swaps=[], token=before.token, inspected=spans)

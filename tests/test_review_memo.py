"""The review alignment memo and the review writes' transactions.

The memo keeps each document's latest alignment in the server process, so a settle and a
page shown again do not align again. It must never answer for spans or coders that have
changed, must not move the alignment into the write transaction, and must not make the
page differ from a fresh load.
"""

from __future__ import annotations

import gc
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.domain.alignment import Kind
from annotations.models import AssignmentStatus, Span
from annotations.selectors import review as review_selectors
from annotations.selectors.review import document_alignment
from annotations.services import assignments, spans
from annotations.services import review as review_services

from . import test_review_views
from .test_review_views import HX, add_spans, key_of

disputed = test_review_views.disputed  # the fixture: two coders' disagreements, both done


@pytest.fixture(autouse=True)
def _empty_memo():
    """Each test starts as a fresh server process does."""
    review_selectors._memo.clear()
    yield
    review_selectors._memo.clear()


def fresh_keys(document) -> list[str]:
    """The item keys aligned from scratch, as a process that never saw the document."""
    review_selectors._memo.clear()
    return list(document_alignment(document).item_keys())


def test_the_memo_never_answers_for_spans_or_coders_that_changed(client, disputed):
    document, a = disputed["document"], disputed["assignment_a"]
    client.force_login(disputed["reviewer"])
    url = reverse("review", args=[document.pk])
    assert client.get(url).status_code == 200  # the memo holds this document now
    first = list(document_alignment(document).item_keys())
    span = Span.objects.filter(assignment=a, quote="a sham").get()

    def coder_reopens():
        assignments.assignment_set_status(assignment=a, status=AssignmentStatus.IN_PROGRESS)

    def coder_moves_a_boundary():
        spans.span_update(span=span, expected_version=1, start=span.start - 3)

    def coder_deletes_it():
        spans.span_delete(span=Span.objects.get(pk=span.pk), expected_version=2)

    def coder_marks_something_else():
        start = document.text.index("voluntary")
        spans.span_create(
            assignment=a,
            code_id=disputed["codes"]["Sourcing"].pk,
            start=start,
            end=start + len("voluntary"),
            quote="voluntary",
        )

    def coder_is_done_again():
        assignments.assignment_set_status(assignment=a, status=AssignmentStatus.DONE)

    def check(step: str) -> None:
        # The memo still holds the alignment from before the change: it must not answer.
        answered = list(document_alignment(document).item_keys())
        assert answered == fresh_keys(document), step
        assert answered != seen[-1], step
        seen.append(answered)

    seen = [first]
    coder_reopens()
    check("a coder's work is no longer done, so no longer aligned")
    coder_moves_a_boundary()
    coder_is_done_again()
    check("a boundary moved")
    coder_reopens()
    coder_deletes_it()
    coder_is_done_again()
    check("a span deleted")
    coder_reopens()
    coder_marks_something_else()
    coder_is_done_again()
    check("a span added")
    html = client.get(url).content.decode()
    marks = re.search(r'data-marks="([^"]*)"', html).group(1).split(" ")
    assert marks == [f"{i.start}:{i.end}:{i.kind}" for i in document_alignment(document).items]
    rows = re.findall(r'<tr class="item[^"]*" data-item="\d+" data-key="([^"]*)"', html)
    assert rows and set(rows) <= set(seen[-1])


def test_an_unchanged_document_is_aligned_once_for_pages_fragments_and_a_settle(
    client, disputed, monkeypatch
):
    built = []
    real = review_selectors._aligned
    monkeypatch.setattr(
        review_selectors, "_aligned", lambda rows, done: built.append(1) or real(rows, done)
    )
    document = disputed["document"]
    client.force_login(disputed["reviewer"])
    url = reverse("review", args=[document.pk])
    assert client.get(url).status_code == 200
    assert client.get(url, **HX).status_code == 200
    settle = reverse("review-settle", args=[document.pk])
    data = {"item_key": key_of(document, Kind.MISSED), "choice": "reject"}
    assert client.post(settle, data, **HX).status_code == 200
    assert client.get(url).status_code == 200
    assert len(built) == 1


@pytest.mark.django_db(transaction=True)
def test_review_writes_align_before_their_transaction(disputed, monkeypatch):
    inside = []
    real = review_selectors.align_rows

    def align_rows(rows, coders):
        inside.append(connection.in_atomic_block)
        return real(rows, coders)

    monkeypatch.setattr(review_selectors, "align_rows", align_rows)
    document, reviewer = disputed["document"], disputed["reviewer"]
    key = key_of(document, Kind.MISSED)  # aligns (outside any transaction) and memoises
    review_selectors._memo.clear()
    inside.clear()
    review_services.gold_settle(document=document, item_key=key, action="reject", actor=reviewer)
    review_selectors._memo.clear()
    review_services.gold_accept_agreed(document=document, actor=reviewer)
    review_selectors._memo.clear()
    with pytest.raises(review_services.ServiceError, match="still to settle"):
        review_services.review_finish(document=document, actor=reviewer)
    # One alignment per write, each before its transaction began.
    assert inside == [False, False, False]


def test_a_settle_realigns_inside_its_transaction_when_the_memo_is_out_of_date(disputed):
    """A change between the memo's alignment and the settle is aligned afresh."""
    document, a = disputed["document"], disputed["assignment_a"]
    document_alignment(document)
    stale = dict(review_selectors._memo._entries)
    assignments.assignment_set_status(assignment=a, status=AssignmentStatus.IN_PROGRESS)
    start = document.text.index("voluntary")
    spans.span_create(
        assignment=a,
        code_id=disputed["codes"]["Sourcing"].pk,
        start=start,
        end=start + len("voluntary"),
        quote="voluntary",
    )
    assignments.assignment_set_status(assignment=a, status=AssignmentStatus.DONE)
    new = next(key for key in fresh_keys(document) if "|" + str(start) + "|" in key)
    review_selectors._memo._entries.update(stale)  # as another worker left it
    decision = review_services.gold_settle(
        document=document, item_key=new, action="reject", actor=disputed["reviewer"]
    )
    assert decision.item_key == new and decision.start == start


def test_the_collector_is_paused_only_while_aligning():
    assert gc.isenabled()
    with review_selectors._collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), review_selectors._collector_paused():
        raise RuntimeError
    assert gc.isenabled()
    gc.disable()
    try:
        with review_selectors._collector_paused():
            pass
        assert not gc.isenabled()  # someone else turned it off: left off
    finally:
        gc.enable()


def queries(call, *, memo: bool = False) -> int:
    """Queries of one request, by a process that has aligned nothing unless ``memo``."""
    if not memo:
        review_selectors._memo.clear()
    with CaptureQueriesContext(connection) as captured:
        assert call().status_code == 200
    return len(captured.captured_queries)


def request_queries(client, document) -> list[int]:
    """Queries of the page, a fragment, a settle, and a settle on the worker that drew
    the page (its memo holds the document)."""
    url = reverse("review", args=[document.pk])
    settle = reverse("review-settle", args=[document.pk])
    alignment = document_alignment(document)
    open_keys = [
        key
        for outline, key in zip(alignment.outlines(), alignment.item_keys(), strict=True)
        if outline.kind is not Kind.AGREED
    ]
    return [
        queries(lambda: client.get(url)),
        queries(lambda: client.get(url, **HX)),
        queries(lambda: client.post(settle, {"item_key": open_keys[0], "choice": "reject"}, **HX)),
        queries(
            lambda: client.post(settle, {"item_key": open_keys[1], "choice": "reject"}, **HX),
            memo=True,
        ),
    ]


def test_page_fragment_and_settle_queries_do_not_grow_with_the_spans(client, study):
    small, large = add_spans(study, 3), add_spans(study, 40)
    client.force_login(study["reviewer"])
    assert request_queries(client, small) == request_queries(client, large)


def test_the_panel_a_settle_answers_with_equals_a_fresh_load_of_it(client, study):
    panels_equal_fresh_loads(client, study)


@pytest.mark.django_db(transaction=True)
def test_the_panel_equals_a_fresh_load_when_the_settle_commits_for_real(client, study):
    """Committed for real, the panel shows the spans as the settle's transaction read them
    (``alignments_held``); it must still be exactly the page a fresh load draws."""
    panels_equal_fresh_loads(client, study)


def panels_equal_fresh_loads(client, study):
    document = add_spans(study, 40)
    client.force_login(study["reviewer"])
    url = reverse("review", args=[document.pk])
    settle = reverse("review-settle", args=[document.pk])
    alignment = document_alignment(document)
    chosen = [
        (index, key)
        for index, (item, key) in enumerate(
            zip(alignment.items, alignment.item_keys(), strict=True)
        )
        if item.kind is not Kind.AGREED
    ][28:34]  # across the edge of the first window
    for number, (index, key) in enumerate(chosen):
        choice = ("reject", "union", "intersection")[number % 3]
        answer = client.post(settle, {"item_key": key, "choice": choice, "rationale": "R"}, **HX)
        assert answer.status_code == 200, answer.content.decode()
        panel = answer.content.decode()
        fresh = client.get(f"{url}?item={index}", **HX).content.decode()
        # The settle's answer is the panel plus the feedback region, swapped out of band.
        assert panel.startswith(fresh) and "Settled (" in panel[len(fresh) :]


SPAN_ROWS = 'AS "assignment__coder_id"'  # the alignment's read of a document's span rows


def span_reads(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return sum(SPAN_ROWS in q["sql"] for q in captured.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_a_settle_reads_the_spans_once_when_its_worker_holds_the_alignment(client, disputed):
    document = disputed["document"]
    client.force_login(disputed["reviewer"])
    assert client.get(reverse("review", args=[document.pk])).status_code == 200
    settle = reverse("review-settle", args=[document.pk])
    data = {"item_key": key_of(document, Kind.MISSED), "choice": "reject"}
    # Once, inside its transaction: the panel after it shows what that read saw.
    assert span_reads(lambda: client.post(settle, data, **HX)) == 1


@pytest.mark.django_db(transaction=True)
def test_held_alignments_answer_only_after_a_commit_and_only_inside_the_block(disputed):
    from django.db import transaction

    document = disputed["document"]
    with review_selectors.alignments_held():
        with pytest.raises(RuntimeError), transaction.atomic():
            document_alignment(document)
            raise RuntimeError  # rolled back: nothing held
        assert span_reads(lambda: document_alignment(document)) == 1
        with transaction.atomic():
            document_alignment(document)
            assert span_reads(lambda: document_alignment(document)) == 1  # inside: checked
        assert span_reads(lambda: document_alignment(document)) == 0
    assert span_reads(lambda: document_alignment(document)) == 1


ON_SQLITE = connection.vendor == "sqlite"


@pytest.mark.django_db(transaction=True)
def test_a_settle_reads_the_spans_before_its_transaction_and_not_again_inside_it(client, disputed):
    """On SQLite a write transaction holds every other writer back: the spans are read
    before it begins, and inside it only a change mark says they are still the same."""
    document = disputed["document"]
    client.force_login(disputed["reviewer"])
    settle = reverse("review-settle", args=[document.pk])
    data = {"item_key": key_of(document, Kind.MISSED), "choice": "reject"}
    review_selectors._memo.clear()  # a worker that has not seen the document
    reads = []

    def spy(execute, sql, params, many, context):
        if SPAN_ROWS in sql:
            reads.append(connection.in_atomic_block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        assert client.post(settle, data, **HX).status_code == 200
    # SQLite: once, outside. Elsewhere the read inside the transaction checks the rows.
    assert reads == ([False] if ON_SQLITE else [False, True])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["another connection", "this connection"])
def test_spans_changed_after_the_read_before_writing_are_read_again_inside(disputed, who):
    import sqlite3

    from django.db import transaction

    document, a = disputed["document"], disputed["assignment_a"]
    before = review_selectors.align_before_writing(document)
    unchanged = list(fresh_keys(document))
    # Coder A's work stops counting (no longer done), committed after the read.
    if who == "another connection" and ON_SQLITE:
        other = sqlite3.connect(connection.settings_dict["NAME"])
        other.execute(
            "UPDATE annotations_assignment SET status = 'in_progress' WHERE id = ?", (a.pk,)
        )
        other.commit()
        other.close()
    else:
        assignments.assignment_set_status(assignment=a, status=AssignmentStatus.IN_PROGRESS)
    with transaction.atomic():
        seen = list(document_alignment(document, before=before).item_keys())
    assert seen == fresh_keys(document) != unchanged


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not ON_SQLITE, reason="the change mark is SQLite's data_version")
def test_unchanged_spans_are_not_read_again_inside_the_transaction(disputed):
    from django.db import transaction

    document = disputed["document"]
    before = review_selectors.align_before_writing(document)
    with transaction.atomic():
        assert span_reads(lambda: document_alignment(document, before=before)) == 0
    # A mark from a connection that has since been closed proves nothing.
    connection.close()
    with transaction.atomic():
        assert span_reads(lambda: document_alignment(document, before=before)) == 1

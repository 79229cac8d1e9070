"""The review area: the queue, the review page where items are settled, coders' feedback.

Reviewers and managers only, except the feedback page, which shows a coder their own
spans against the gold layer once review is finished and the project allows it. Every
action answers with the review page's ``review`` partial (htmx) or the whole page.
"""

from __future__ import annotations

from contextlib import nullcontext

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from ..domain.offsets import SpanError, check_span
from ..domain.settling import KEY_LENGTH, SETTLE_ACTIONS, Action
from ..forms import Params
from ..permissions import (
    access_document_for_review,
    access_document_to_manage,
    access_feedback,
    access_gold,
    access_review,
    reviewer_memberships,
    rights,
)
from ..selectors import review as selectors
from ..selectors import review_page
from ..selectors.labels import coder_labels
from ..services import review as services
from ..services.base import ConflictError, ServiceError
from .coding import adjusted_edge
from .htmx import is_fragment, render

HOME = "annotations/review/home.html"
QUEUE = "annotations/review/queue.html"
PAGE = "annotations/review/review.html"
FEEDBACK = "annotations/review/feedback.html"
RATIONALE_LIMIT = services.RATIONALE_LIMIT


def _coder_values(project) -> dict[str, int]:
    """The queue's coder filter values: each coder's label, never a user id."""
    return {label: uid for uid, label in coder_labels(project).items()}


@login_required
@require_GET
def queue(request, project_id: int):
    project, _ = access_review(request.user, project_id)
    params = Params(request.GET)
    coders = _coder_values(project)
    coder = params.choice("coder", coders, label="coder")
    filters = selectors.QueueFilters(
        code=params.id("code", label="the code"),
        kind=params.choice("kind", selectors.OPEN_KINDS, default="", label="type") or "",
        coder=coders[coder] if coder is not None else None,
        exclude_unfinished=params.flag("finished"),
        sort=params.choice("sort", selectors.QUEUE_SORTS, default="open", label="order") or "open",
    )
    context = {"project": project, "queue": selectors.review_queue(project, filters)}
    return render(request, QUEUE, context, partial="results")


def render_review(
    request,
    document,
    member,
    *,
    focus_key: str = "",
    message: str = "",
    error: str = "",
    status: int = 200,
):
    """The page, or its ``review`` partial, showing the window of disagreements that holds
    ``focus_key`` (the item just settled), else the ``item`` or ``row`` asked for, else
    the first open one. ``row`` also comes with every other action, to stay in place."""
    page = review_page.review_page(
        document, with_text=not is_fragment(request), focus_key=focus_key, **_position(request)
    )
    context = {
        "document": document,
        "project": document.project,
        "rights": rights(member),
        "page": page,
        "message": message,
        "error": error,
        "rationale_limit": RATIONALE_LIMIT,
    }
    return render(request, PAGE, context, partial="review", status=status)


def _position(request) -> dict:
    """Where the reviewer is in the list (parsed before anything changes)."""
    params = Params(request.POST if request.method == "POST" else request.GET)
    return {
        "item": params.integer("item", label="the item"),
        "row": params.integer("row", label="the row"),
    }


def _outcome(
    request,
    document,
    member,
    action,
    success: str,
    *,
    focus_key: str = "",
    gold_only: bool = False,
):
    """Run a service call and answer with the refreshed review partial. ``gold_only``: the
    call writes only the review layer, so the panel may show the coders' spans as the call
    read them in its transaction (see ``alignments_held``)."""
    _position(request)  # a position that does not parse refuses the action itself
    with selectors.alignments_held() if gold_only else nullcontext():
        try:
            result = action()
        except ServiceError as error:
            status = 409 if isinstance(error, ConflictError) else 422
            return render_review(
                request, document, member, focus_key=focus_key, error=str(error), status=status
            )
        return render_review(
            request, document, member, focus_key=focus_key, message=success.format(result=result)
        )


@login_required
@require_GET
def review(request, document_id: int):
    document, member = access_document_for_review(request.user, document_id)
    return render_review(request, document, member)


def _check_quote(params: Params, document, start: int | None, end: int | None) -> None:
    """Boundaries set from a selection come with the text the page showed there; a page
    out of step with the document is refused instead of storing other words."""
    quote = params.text("quote", max_length=document.length, default=None)
    if quote is None or start is None or end is None:
        return
    try:
        check_span(document.text, start, end, quote)
    except SpanError as error:
        raise ServiceError(str(error)) from None


@login_required
@require_POST
def settle(request, document_id: int):
    document, member = access_document_for_review(request.user, document_id)
    params = Params(request.POST)
    item_key = params.text("item_key", max_length=KEY_LENGTH)

    def action():
        choice = params.text("choice", max_length=200)
        how, _, who = choice.partition(":")
        if how not in SETTLE_ACTIONS:
            raise ServiceError("Choose how to settle this item.")
        start, end = params.offset("start"), params.offset("end")
        _check_quote(params, document, start, end)
        coder = None
        if how == Action.ACCEPT:
            # Lanes are addressed by label, so no user id ever reaches the page.
            coder = _coder_values(document.project).get(who)
        return services.gold_settle(
            document=document,
            item_key=item_key,
            action=how,
            coder=coder,
            code=params.id("code", label="the code"),
            start=start,
            end=end,
            rationale=params.text("rationale", max_length=RATIONALE_LIMIT),
            actor=request.user,
        )

    return _outcome(
        request,
        document,
        member,
        action,
        "Settled ({result.action}).",
        focus_key=item_key,
        gold_only=True,
    )


@login_required
@require_POST
def accept_agreed(request, document_id: int):
    document, member = access_document_for_review(request.user, document_id)
    return _outcome(
        request,
        document,
        member,
        lambda: services.gold_accept_agreed(document=document, actor=request.user),
        "Accepted {result} agreed item(s) as unanimous.",
        gold_only=True,
    )


@login_required
@require_POST
def gold_edit(request, gold_id: int):
    gold, document, member = access_gold(request.user, gold_id)
    params = Params(request.POST)

    def action():
        changes: dict = {
            "code": params.id("code", label="the code"),
            "start": params.offset("start"),
            "end": params.offset("end"),
        }
        if "rationale" in params:
            changes["rationale"] = params.text("rationale", max_length=RATIONALE_LIMIT)
        _check_quote(params, document, changes["start"], changes["end"])
        moved = adjusted_edge(params, document.text, gold.start, gold.end)
        if moved is not None:
            edge, value = moved
            changes[edge] = value
        return services.gold_edit(
            gold_span=gold,
            expected_version=params.integer("version", label="the version", required=True),
            actor=request.user,
            **changes,
        )

    return _outcome(request, document, member, action, "Gold span saved.", gold_only=True)


@login_required
@require_POST
def finish(request, document_id: int):
    document, member = access_document_for_review(request.user, document_id)
    return _outcome(
        request,
        document,
        member,
        lambda: services.review_finish(document=document, actor=request.user),
        "Review finished: the gold layer of this document is settled.",
    )


@login_required
@require_POST
def reopen(request, document_id: int):
    document, member = access_document_for_review(request.user, document_id)
    return _outcome(
        request,
        document,
        member,
        lambda: services.review_reopen(document=document, actor=request.user),
        "Review reopened.",
    )


@login_required
@require_POST
def reopen_for_coding(request, document_id: int):
    """A manager gives the document back to its coders (recorded)."""
    document, member = access_document_to_manage(request.user, document_id)
    return _outcome(
        request,
        document,
        member,
        lambda: services.review_reopen_for_coding(document=document, actor=request.user),
        "Reopened for coding: {result} coder(s) may change their spans again. Items they "
        "change come back for review once they are done.",
    )


@login_required
@require_GET
def feedback(request, document_id: int):
    """A coder's own spans against the gold layer, once review is finished and allowed."""
    assignment = access_feedback(request.user, document_id)
    context = {
        "document": assignment.document,
        "project": assignment.document.project,
        "entries": selectors.coder_feedback(assignment),
    }
    return TemplateResponse(request, FEEDBACK, context)


@login_required
@require_GET
def review_next(request, project_id: int):
    """The queue's first document that still has something to settle."""
    project, _ = access_review(request.user, project_id)
    rows = selectors.review_queue(project, selectors.QueueFilters(exclude_unfinished=True)).rows
    for row in rows:
        if row.open_total or row.agreed_pending:
            return redirect("review", document_id=row.document.pk)
    messages.info(
        request,
        "Nothing left to review: every document whose coders are all done is settled. "
        "Documents still being coded are listed here and come back once their coders finish.",
    )
    return redirect("review-queue", project_id=project.pk)


@login_required
@require_GET
def review_home(request):
    """A reviewer's home: each project they review, what is left to settle, agreement."""
    summaries = [
        selectors.review_summary(member.project) for member in reviewer_memberships(request.user)
    ]
    return TemplateResponse(request, HOME, {"summaries": summaries})


urlpatterns = [
    path("review/", review_home, name="review-home"),
    path("projects/<id:project_id>/review/", queue, name="review-queue"),
    path("projects/<id:project_id>/review/next/", review_next, name="review-next"),
    path("documents/<id:document_id>/review/", review, name="review"),
    path("documents/<id:document_id>/review/settle/", settle, name="review-settle"),
    path(
        "documents/<id:document_id>/review/accept-agreed/",
        accept_agreed,
        name="review-accept-agreed",
    ),
    path("documents/<id:document_id>/review/finish/", finish, name="review-finish"),
    path("documents/<id:document_id>/review/reopen/", reopen, name="review-reopen"),
    path(
        "documents/<id:document_id>/review/reopen-coding/",
        reopen_for_coding,
        name="review-reopen-coding",
    ),
    path("documents/<id:document_id>/feedback/", feedback, name="review-feedback"),
    path("gold/<id:gold_id>/", gold_edit, name="gold-edit"),
]

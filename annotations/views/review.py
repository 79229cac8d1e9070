"""The review area: the queue, the review page where items are settled, coders' feedback.

Reviewers and managers only, except the feedback page, which shows a coder their own
spans against the gold layer once review is finished and the project allows it. Every
action answers with the review page's ``review`` partial (htmx) or the whole page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from .. import selectors_review as selectors
from ..domain.offsets import word_step
from ..models import DocumentReview, GoldSpan, ReviewStatus
from ..permissions import (
    NOT_FOUND,
    REVIEW_ROLES,
    access_assignment,
    access_document_for_review,
    access_project,
)
from ..services import ConflictError, ServiceError
from ..services import review as services
from .coding import ADJUSTMENTS, is_fragment_request

QUEUE = "annotations/review/queue.html"
PAGE = "annotations/review/review.html"
FEEDBACK = "annotations/review/feedback.html"


def _render(request, template: str, partial: str, context: dict, status: int = 200):
    name = f"{template}#{partial}" if is_fragment_request(request) else template
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@require_GET
def queue(request, project_id: int):
    project, _ = access_project(request.user, project_id, roles=REVIEW_ROLES)
    sort = request.GET.get("sort", "")
    kind = request.GET.get("kind", "")
    filters = selectors.QueueFilters(
        code=_int_or_none(request.GET.get("code")),
        kind=kind if kind in selectors.OPEN_KINDS else "",
        coder=_int_or_none(request.GET.get("coder")),
        exclude_unfinished=request.GET.get("finished") == "1",
        sort=sort if sort in selectors.QUEUE_SORTS else "open",
    )
    context = {"project": project, "queue": selectors.review_queue(project, filters)}
    return _render(request, QUEUE, "results", context)


def render_review(
    request,
    document,
    *,
    focus_key: str = "",
    message: str = "",
    error: str = "",
    status: int = 200,
):
    """The page, or its ``review`` partial, showing the window of disagreements that holds
    ``focus_key`` (the item just settled), else the ``item`` or ``row`` asked for, else
    the first open one. ``row`` also comes with every other action, to stay in place."""
    fragment = is_fragment_request(request)
    data = request.POST if request.method == "POST" else request.GET
    page = selectors.review_page(
        document,
        with_text=not fragment,
        focus_key=focus_key,
        item=_int_or_none(data.get("item")),
        row=_int_or_none(data.get("row")),
    )
    context = {
        "document": document,
        "project": document.project,
        "page": page,
        "message": message,
        "error": error,
    }
    return _render(request, PAGE, "review", context, status)


def _outcome(request, document, action, success: str, *, focus_key: str = ""):
    """Run a service call and answer with the refreshed review partial."""
    try:
        result = action()
    except ConflictError as error:
        return render_review(request, document, focus_key=focus_key, error=str(error), status=409)
    except ServiceError as error:
        return render_review(request, document, focus_key=focus_key, error=str(error), status=422)
    return render_review(
        request, document, focus_key=focus_key, message=success.format(result=result)
    )


@login_required
@require_GET
def review(request, document_id: int):
    document, _ = access_document_for_review(request.user, document_id)
    return render_review(request, document)


@login_required
@require_POST
def settle(request, document_id: int):
    document, _ = access_document_for_review(request.user, document_id)
    choice = request.POST.get("choice", "")
    action, _, who = choice.partition(":")
    coder = None
    if action == services.Action.ACCEPT:
        # Lanes are addressed by label, so no user id ever reaches the page.
        by_label = {label: uid for uid, label in selectors.coder_labels(document.project).items()}
        coder = by_label.get(who)
    post = request.POST
    if action not in services.SETTLE_ACTIONS:
        return render_review(
            request,
            document,
            focus_key=post.get("item_key", ""),
            error="Choose how to settle this item.",
            status=422,
        )
    return _outcome(
        request,
        document,
        lambda: services.gold_settle(
            document=document,
            item_key=post.get("item_key", ""),
            action=action,
            coder=coder,
            code=post.get("code"),
            start=post.get("start"),
            end=post.get("end"),
            rationale=post.get("rationale", ""),
            actor=request.user,
        ),
        "Settled ({result.action}).",
        focus_key=post.get("item_key", ""),
    )


@login_required
@require_POST
def accept_agreed(request, document_id: int):
    document, _ = access_document_for_review(request.user, document_id)
    return _outcome(
        request,
        document,
        lambda: services.gold_accept_agreed(document=document, actor=request.user),
        "Accepted {result} agreed item(s) as unanimous.",
    )


@login_required
@require_POST
def gold_edit(request, gold_id: int):
    gold = GoldSpan.objects.filter(pk=gold_id).select_related("document").first()
    if gold is None:
        raise Http404(NOT_FOUND)
    document, _ = access_document_for_review(request.user, gold.document_id)
    changes: dict = {}
    for name in ("code", "start", "end", "rationale"):
        if name in request.POST:
            changes[name] = request.POST[name]
    adjust = ADJUSTMENTS.get(request.POST.get("adjust", ""))
    if adjust is not None:
        edge, direction = adjust
        changes[edge] = word_step(document.text, getattr(gold, edge), direction)
    return _outcome(
        request,
        document,
        lambda: services.gold_edit(
            gold_span=gold,
            expected_version=request.POST.get("version"),
            actor=request.user,
            **changes,
        ),
        "Gold span saved.",
    )


@login_required
@require_POST
def finish(request, document_id: int):
    document, _ = access_document_for_review(request.user, document_id)
    return _outcome(
        request,
        document,
        lambda: services.review_finish(document=document, actor=request.user),
        "Review finished: the gold layer of this document is settled.",
    )


@login_required
@require_POST
def reopen(request, document_id: int):
    document, _ = access_document_for_review(request.user, document_id)
    return _outcome(
        request,
        document,
        lambda: services.review_reopen(document=document, actor=request.user),
        "Review reopened.",
    )


@login_required
@require_GET
def feedback(request, document_id: int):
    """A coder's own spans against the gold layer, once review is finished and allowed."""
    assignment = access_assignment(request.user, document_id)
    document = assignment.document
    settled = DocumentReview.objects.filter(document=document, status=ReviewStatus.SETTLED).exists()
    if not (document.project.feedback_to_coders and settled):
        raise Http404(NOT_FOUND)
    context = {
        "document": document,
        "project": document.project,
        "entries": selectors.coder_feedback(assignment),
    }
    return TemplateResponse(request, FEEDBACK, context)


@login_required
@require_GET
def review_next(request, project_id: int):
    """The queue's first document that still has something to settle."""
    project, _ = access_project(request.user, project_id, roles=REVIEW_ROLES)
    rows = selectors.review_queue(project, selectors.QueueFilters(exclude_unfinished=True)).rows
    for row in rows:
        if row.open_total or row.agreed_pending:
            return redirect("review", document_id=row.document.pk)
    return redirect("review-queue", project_id=project.pk)


urlpatterns = [
    path("projects/<int:project_id>/review/", queue, name="review-queue"),
    path("projects/<int:project_id>/review/next/", review_next, name="review-next"),
    path("documents/<int:document_id>/review/", review, name="review"),
    path("documents/<int:document_id>/review/settle/", settle, name="review-settle"),
    path(
        "documents/<int:document_id>/review/accept-agreed/",
        accept_agreed,
        name="review-accept-agreed",
    ),
    path("documents/<int:document_id>/review/finish/", finish, name="review-finish"),
    path("documents/<int:document_id>/review/reopen/", reopen, name="review-reopen"),
    path("documents/<int:document_id>/feedback/", feedback, name="review-feedback"),
    path("gold/<int:gold_id>/", gold_edit, name="gold-edit"),
]

"""The manager's pages: projects, settings, documents, codebook, people, assignments and
progress. Every project page is for the project's managers only: anyone else gets 404.

Writes use plain forms that redirect after success (post/redirect/get) and answer 422
with the message and the page as it was when a service refuses. The one exception is
the document upload, which keeps the files between its two steps: the preview (a dry
run) is swapped by htmx into the upload form itself, so the file input keeps the chosen
files and the Import button re-posts the same bytes. Nothing is kept on the server
between the steps; the Import button carries a signed digest of the previewed files,
and files that differ from the preview are previewed again instead of being imported.
Without JavaScript the page reloads and the manager chooses the same files again.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from .. import selectors_studies as selectors
from .. import services
from ..models import Assignment, Code, Document, Membership, Role, UnitKind
from ..permissions import NOT_FOUND, access_project
from ..services import studies

UPLOAD_SALT = "framing.manage.upload-preview"


def _manage(request, project_id: int):
    return access_project(request.user, project_id, roles=(Role.MANAGER,))


def _is_fragment(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _render(request, template: str, context: dict, *, status: int = 200, partial: str = ""):
    name = f"annotations/manage/{template}"
    if partial and _is_fragment(request):
        name += f"#{partial}"
    response = TemplateResponse(request, name, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _checked(request, name: str) -> bool:
    return request.POST.get(name) in {"on", "true", "1"}


# --- Projects -----------------------------------------------------------------------


def _projects_page(request, *, error: str = "", form=None, status: int = 200):
    context = {
        "projects": selectors.managed_projects(request.user),
        "units": UnitKind.choices,
        "error": error,
        "form": form or {"blind": "on", "coders_may_export": "on"},
    }
    return _render(request, "projects.html", context, status=status)


@login_required
@require_GET
def projects(request):
    return _projects_page(request)


@login_required
@require_POST
def project_create(request):
    """Anyone logged in may start a project; its creator becomes its manager."""
    try:
        project = studies.study_create(
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
            blind=_checked(request, "blind"),
            feedback_to_coders=_checked(request, "feedback_to_coders"),
            agreement_unit=request.POST.get("agreement_unit", UnitKind.TOKEN),
            coders_may_export=_checked(request, "coders_may_export"),
            actor=request.user,
        )
    except services.ServiceError as error:
        return _projects_page(request, error=str(error), form=request.POST, status=422)
    messages.success(request, f"Created “{project.name}”. Next, upload its documents.")
    return redirect("manage-documents", project_id=project.pk)


@login_required
@require_http_methods(["GET", "POST"])
def project_settings(request, project_id: int):
    project, _ = _manage(request, project_id)
    error = ""
    if request.method == "POST":
        try:
            studies.project_update(
                project=project,
                name=request.POST.get("name", ""),
                description=request.POST.get("description", ""),
                blind=_checked(request, "blind"),
                feedback_to_coders=_checked(request, "feedback_to_coders"),
                agreement_unit=request.POST.get("agreement_unit", ""),
                coders_may_export=_checked(request, "coders_may_export"),
                actor=request.user,
            )
        except services.ServiceError as err:
            error = str(err)
            project.refresh_from_db()
        else:
            messages.success(request, "Settings saved.")
            return redirect("manage-settings", project_id=project.pk)
    context = {"project": project, "section": "settings", "units": UnitKind.choices}
    return _render(
        request, "settings.html", {**context, "error": error}, status=422 if error else 200
    )


@login_required
@require_GET
def dashboard(request, project_id: int):
    project, _ = _manage(request, project_id)
    context = {"project": project, "section": "dashboard", "board": selectors.dashboard(project)}
    return _render(request, "dashboard.html", context)


# --- Documents ----------------------------------------------------------------------


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def _upload_digest(project, files: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(str(project.pk).encode())
    for name, data in files:
        digest.update(f"\0{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _documents_page(request, project, *, status: int = 200, partial: str = "", **extra):
    query = request.GET.get("q", "")
    outlet = request.GET.get("outlet", "")
    context = {
        "project": project,
        "section": "documents",
        "page": selectors.documents_page(
            project, query=query, outlet=outlet, page=request.GET.get("page", 1)
        ),
        "outlets": selectors.outlets(project),
        "query": query,
        "outlet": outlet,
        "max_upload": _megabytes(settings.FRAMING_MAX_UPLOAD_BYTES),
        **extra,
    }
    return _render(request, "documents.html", context, status=status, partial=partial)


@login_required
@require_GET
def documents(request, project_id: int):
    project, _ = _manage(request, project_id)
    return _documents_page(request, project)


@login_required
@require_POST
def documents_upload(request, project_id: int):
    """First post: a dry run shown as a preview. Confirm post: the same files, imported
    all or nothing."""
    project, _ = _manage(request, project_id)
    uploads = request.FILES.getlist("files")
    confirm = request.POST.get("confirm", "")

    def refuse(message: str, **extra):
        return _documents_page(
            request, project, status=422, partial="upload-preview", upload_error=message, **extra
        )

    if not uploads:
        if confirm:
            return refuse(
                "Your browser did not send the files again: choose the same files, then "
                "press Import."
            )
        return refuse("Choose one or more .txt, .csv or .jsonl files to upload.")
    limit = settings.FRAMING_MAX_UPLOAD_BYTES
    total = sum(upload.size for upload in uploads)
    if total > limit:
        return refuse(
            f"The files add up to {_megabytes(total)}; the upload limit is "
            f"{_megabytes(limit)}. Upload fewer or smaller files at a time."
        )
    files = [(upload.name, upload.read()) for upload in uploads]
    digest = _upload_digest(project, files)
    signer = signing.Signer(salt=UPLOAD_SALT)
    if confirm:
        try:
            previewed = signer.unsign(confirm)
        except signing.BadSignature:
            previewed = ""
        if previewed != digest:
            outcome = services.documents_import(
                project=project, files=files, max_bytes=limit, dry_run=True
            )
            return refuse(
                "These files differ from the ones previewed; check this preview, then import.",
                outcome=outcome,
                token=signer.sign(digest) if outcome.ok else "",
            )
        outcome = services.documents_import(
            project=project, files=files, actor=request.user, max_bytes=limit
        )
        if not outcome.ok:
            return refuse("Nothing was imported.", outcome=outcome)
        messages.success(
            request,
            f"Imported {len(outcome.created)} documents"
            + (
                f" ({outcome.already_present} were already present)."
                if outcome.already_present
                else "."
            ),
        )
        target = reverse("manage-documents", args=[project.pk])
        if _is_fragment(request):
            return HttpResponseClientRedirect(target)
        return redirect(target)
    outcome = services.documents_import(project=project, files=files, max_bytes=limit, dry_run=True)
    return _documents_page(
        request,
        project,
        status=200 if outcome.ok else 422,
        partial="upload-preview",
        outcome=outcome,
        token=signer.sign(digest) if outcome.ok and outcome.created else "",
    )


# --- Codebook -----------------------------------------------------------------------


def _project_code(project, code_id: int) -> Code:
    code = Code.objects.filter(pk=code_id, codebook__project=project).first()
    if code is None:
        raise Http404(NOT_FOUND)
    return code


def _codebook_page(request, project, *, error: str = "", form=None, status: int = 200):
    codes, versions = selectors.codebook_page(project)
    context = {
        "project": project,
        "section": "codebook",
        "codes": codes,
        "versions": versions,
        "error": error,
        "form": form or {},
    }
    return _render(request, "codebook.html", context, status=status)


@login_required
@require_GET
def codebook(request, project_id: int):
    project, _ = _manage(request, project_id)
    return _codebook_page(request, project)


def _codebook_action(request, project, action, success: str):
    try:
        result = action()
    except services.ServiceError as error:
        return _codebook_page(request, project, error=str(error), form=request.POST, status=422)
    messages.success(request, success.format(result=result))
    return redirect("manage-codebook", project_id=project.pk)


@login_required
@require_POST
def code_add(request, project_id: int):
    project, _ = _manage(request, project_id)
    return _codebook_action(
        request,
        project,
        lambda: studies.code_add(
            codebook=project.codebook,
            name=request.POST.get("name", ""),
            definition=request.POST.get("definition", ""),
            guidance=request.POST.get("guidance", ""),
            colour=request.POST.get("colour", "#0072B2"),
            shortcut=request.POST.get("shortcut", ""),
            actor=request.user,
        ),
        "Added the code “{result.name}”.",
    )


@login_required
@require_POST
def code_update(request, project_id: int, code_id: int):
    project, _ = _manage(request, project_id)
    code = _project_code(project, code_id)
    return _codebook_action(
        request,
        project,
        lambda: studies.code_update(
            code=code,
            name=request.POST.get("name", ""),
            definition=request.POST.get("definition", ""),
            guidance=request.POST.get("guidance", ""),
            colour=request.POST.get("colour", ""),
            shortcut=request.POST.get("shortcut", ""),
            note=request.POST.get("note", ""),
            actor=request.user,
        ),
        "Saved “{result.name}”.",
    )


@login_required
@require_POST
def code_move(request, project_id: int, code_id: int):
    project, _ = _manage(request, project_id)
    code = _project_code(project, code_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    return _codebook_action(
        request,
        project,
        lambda: studies.code_move(code=code, offset=offset, actor=request.user),
        f"Moved “{code.name}”.",
    )


@login_required
@require_POST
def code_retire(request, project_id: int, code_id: int):
    project, _ = _manage(request, project_id)
    code = _project_code(project, code_id)
    active = request.POST.get("active") == "1"
    return _codebook_action(
        request,
        project,
        lambda: studies.code_retire(code=code, active=active, actor=request.user),
        "Brought back “{result.name}”." if active else "Retired “{result.name}”.",
    )


@login_required
@require_POST
def code_delete(request, project_id: int, code_id: int):
    project, _ = _manage(request, project_id)
    code = _project_code(project, code_id)
    return _codebook_action(
        request,
        project,
        lambda: studies.code_delete(code=code, actor=request.user),
        f"Deleted “{code.name}”.",
    )


# --- People -------------------------------------------------------------------------


def _people_page(request, project, *, status: int = 200, **extra):
    context = {
        "project": project,
        "section": "people",
        "members": selectors.people(project),
        "roles": Role.choices,
        "form": {},
        **extra,
    }
    return _render(request, "people.html", context, status=status)


def _project_member(project, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_related("user", "project")
        .filter(pk=membership_id, project=project)
        .first()
    )
    if membership is None:
        raise Http404(NOT_FOUND)
    return membership


@login_required
@require_GET
def people(request, project_id: int):
    project, _ = _manage(request, project_id)
    return _people_page(request, project)


@login_required
@require_POST
def member_add(request, project_id: int):
    project, _ = _manage(request, project_id)
    try:
        added = studies.member_add(
            project=project,
            username=request.POST.get("username", ""),
            email=request.POST.get("email", ""),
            role=request.POST.get("role", Role.CODER),
            actor=request.user,
        )
    except services.ServiceError as error:
        return _people_page(request, project, status=422, error=str(error), form=request.POST)
    # Rendered, not redirected: the link is shown once and never stored in a cookie.
    return _people_page(
        request,
        project,
        added=added,
        link=request.build_absolute_uri(added.password_link) if added.password_link else "",
    )


@login_required
@require_POST
def member_link(request, project_id: int, membership_id: int):
    project, _ = _manage(request, project_id)
    membership = _project_member(project, membership_id)
    try:
        link = studies.password_link_renew(membership=membership, actor=request.user)
    except services.ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    return _people_page(request, project, renewed=membership, link=request.build_absolute_uri(link))


@login_required
@require_POST
def member_role(request, project_id: int, membership_id: int):
    project, _ = _manage(request, project_id)
    membership = _project_member(project, membership_id)
    try:
        studies.member_set_role(
            membership=membership, role=request.POST.get("role", ""), actor=request.user
        )
    except services.ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    messages.success(request, f"{membership.user.username} is now {request.POST['role']}.")
    return redirect("manage-people", project_id=project.pk)


@login_required
@require_POST
def member_remove(request, project_id: int, membership_id: int):
    project, _ = _manage(request, project_id)
    membership = _project_member(project, membership_id)
    try:
        studies.member_remove(membership=membership, actor=request.user)
    except services.ServiceError as error:
        return _people_page(request, project, status=422, error=str(error))
    messages.success(
        request,
        f"Removed {membership.user.username} from the project; their assignments and spans stay.",
    )
    if membership.user == request.user:
        return redirect("manage-projects")
    return redirect("manage-people", project_id=project.pk)


# --- Assignments --------------------------------------------------------------------


def _assignments_page(request, project, *, status: int = 200, **extra):
    members = selectors.assignable_members(project)
    context = {
        "project": project,
        "section": "assignments",
        "page": selectors.assignments_page(project, page=request.GET.get("page", 1)),
        "members": members,
        "coders": [m for m in members if m.role == Role.CODER],
        "modes": studies.BulkMode.CHOICES,
        "form": {"mode": studies.BulkMode.EVERY, "per_document": "2", "percent": "20"},
        **extra,
    }
    return _render(request, "assignments.html", context, status=status)


@login_required
@require_GET
def assignments(request, project_id: int):
    project, _ = _manage(request, project_id)
    return _assignments_page(request, project)


def _user_ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


@login_required
@require_POST
def assignments_bulk(request, project_id: int):
    project, _ = _manage(request, project_id)
    ids = _user_ids(request.POST.getlist("coders"))
    users = list(get_user_model().objects.filter(pk__in=ids).order_by("username"))
    try:
        if len(users) != len(set(ids)):
            raise services.ServiceError(
                "One of the chosen coders no longer exists; reload the page."
            )
        outcome = studies.assignments_bulk(
            project=project,
            mode=request.POST.get("mode", ""),
            coders=users or None,
            per_document=request.POST.get("per_document", "2"),
            percent=request.POST.get("percent", "0"),
            stratify_by_outlet=_checked(request, "stratify"),
            seed=request.POST.get("seed", ""),
            actor=request.user,
        )
    except services.ServiceError as error:
        return _assignments_page(request, project, status=422, error=str(error), form=request.POST)
    messages.success(request, outcome.summary)
    return redirect("manage-assignments", project_id=project.pk)


@login_required
@require_POST
def assignment_add(request, project_id: int):
    project, _ = _manage(request, project_id)
    document_id = request.POST.get("document", "")
    document = (
        Document.objects.filter(pk=document_id, project=project).first()
        if document_id.isdigit()
        else None
    )
    if document is None:
        raise Http404(NOT_FOUND)
    coder_id = request.POST.get("coder", "")
    coder = get_user_model().objects.filter(pk=coder_id).first() if coder_id.isdigit() else None
    try:
        if coder is None:
            raise services.ServiceError("Choose a member to assign the document to.")
        if Assignment.objects.filter(document=document, coder=coder).exists():
            raise services.ServiceError(
                f"“{document.title}” is already assigned to {coder.username}."
            )
        services.assignment_create(document=document, coder=coder, actor=request.user)
    except services.ServiceError as error:
        return _assignments_page(request, project, status=422, error=str(error))
    messages.success(request, f"Assigned “{document.title}” to {coder.username}.")
    return redirect(reverse("manage-assignments", args=[project.pk]) + _page_suffix(request))


@login_required
@require_POST
def assignment_remove(request, project_id: int, assignment_id: int):
    project, _ = _manage(request, project_id)
    assignment = (
        Assignment.objects.select_related("document", "coder")
        .filter(pk=assignment_id, document__project=project)
        .first()
    )
    if assignment is None:
        raise Http404(NOT_FOUND)
    try:
        studies.assignment_remove(assignment=assignment, actor=request.user)
    except services.ServiceError as error:
        return _assignments_page(request, project, status=422, error=str(error))
    messages.success(
        request, f"Withdrew “{assignment.document.title}” from {assignment.coder.username}."
    )
    return redirect(reverse("manage-assignments", args=[project.pk]) + _page_suffix(request))


def _page_suffix(request) -> str:
    page = request.POST.get("page", "")
    return f"?page={page}" if page.isdigit() else ""


urlpatterns = [
    path("manage/", projects, name="manage-projects"),
    path("manage/new/", project_create, name="manage-project-create"),
    path("manage/<int:project_id>/", dashboard, name="manage-dashboard"),
    path("manage/<int:project_id>/settings/", project_settings, name="manage-settings"),
    path("manage/<int:project_id>/documents/", documents, name="manage-documents"),
    path("manage/<int:project_id>/documents/upload/", documents_upload, name="manage-upload"),
    path("manage/<int:project_id>/codebook/", codebook, name="manage-codebook"),
    path("manage/<int:project_id>/codes/", code_add, name="manage-code-add"),
    path("manage/<int:project_id>/codes/<int:code_id>/", code_update, name="manage-code-update"),
    path("manage/<int:project_id>/codes/<int:code_id>/move/", code_move, name="manage-code-move"),
    path(
        "manage/<int:project_id>/codes/<int:code_id>/retire/",
        code_retire,
        name="manage-code-retire",
    ),
    path(
        "manage/<int:project_id>/codes/<int:code_id>/delete/",
        code_delete,
        name="manage-code-delete",
    ),
    path("manage/<int:project_id>/people/", people, name="manage-people"),
    path("manage/<int:project_id>/people/add/", member_add, name="manage-member-add"),
    path(
        "manage/<int:project_id>/people/<int:membership_id>/role/",
        member_role,
        name="manage-member-role",
    ),
    path(
        "manage/<int:project_id>/people/<int:membership_id>/remove/",
        member_remove,
        name="manage-member-remove",
    ),
    path(
        "manage/<int:project_id>/people/<int:membership_id>/link/",
        member_link,
        name="manage-member-link",
    ),
    path("manage/<int:project_id>/assignments/", assignments, name="manage-assignments"),
    path(
        "manage/<int:project_id>/assignments/bulk/",
        assignments_bulk,
        name="manage-assignments-bulk",
    ),
    path(
        "manage/<int:project_id>/assignments/add/",
        assignment_add,
        name="manage-assignment-add",
    ),
    path(
        "manage/<int:project_id>/assignments/<int:assignment_id>/remove/",
        assignment_remove,
        name="manage-assignment-remove",
    ),
    # The one-time password-set link shown when a manager creates an account.
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_reset_confirm.html"
        ),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]

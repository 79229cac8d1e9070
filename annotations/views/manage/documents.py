"""Documents: the list, and the upload with its preview.

The preview (a dry run, with exactly the validation the import runs) is swapped by htmx
into the upload form itself, so the file input keeps the chosen files and the Import
button re-posts the same bytes. Nothing is kept on the server between the steps; the
Import button carries a signed digest of the previewed files, and files that differ from
the preview are previewed again instead of being imported. Without JavaScript the page
reloads and the manager chooses the same files again.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from ...forms import Params
from ...permissions import access_manage
from ...selectors import manage as selectors
from ...services import imports
from ..htmx import is_fragment
from .common import render

UPLOAD_SALT = "framing.manage.upload-preview"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def _upload_digest(project, files: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256(str(project.pk).encode())
    for name, data in files:
        digest.update(f"\0{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _documents_page(request, project, *, status: int = 200, partial: str = "", **extra):
    params = Params(request.GET)
    query = params.text("q", max_length=500, label="the search")
    outlet = params.text("outlet", max_length=200, label="the outlet")
    context = {
        "project": project,
        "section": "documents",
        "page": selectors.documents_page(
            project,
            query=query,
            outlet=outlet,
            page=params.integer("page", label="the page", minimum=1, default=1),
        ),
        "outlets": selectors.outlets(project),
        "query": query,
        "outlet": outlet,
        "max_upload": _megabytes(settings.FRAMING_MAX_UPLOAD_BYTES),
        **extra,
    }
    return render(request, "documents.html", context, status=status, partial=partial)


@login_required
@require_GET
def documents(request, project_id: int):
    project, _ = access_manage(request.user, project_id)
    return _documents_page(request, project)


@login_required
@require_POST
def documents_upload(request, project_id: int):
    """First post: a dry run shown as a preview. Confirm post: the same files, imported
    all or nothing."""
    project, _ = access_manage(request.user, project_id)
    uploads = request.FILES.getlist("files")
    confirm = Params(request.POST).text("confirm", max_length=200)

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
            outcome = imports.documents_import(
                project=project, files=files, max_bytes=limit, dry_run=True
            )
            return refuse(
                "These files differ from the ones previewed; check this preview, then import.",
                outcome=outcome,
                token=signer.sign(digest) if outcome.ok else "",
            )
        outcome = imports.documents_import(
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
        if is_fragment(request):
            return HttpResponseClientRedirect(target)
        return redirect(target)
    outcome = imports.documents_import(project=project, files=files, max_bytes=limit, dry_run=True)
    return _documents_page(
        request,
        project,
        status=200 if outcome.ok else 422,
        partial="upload-preview",
        outcome=outcome,
        token=signer.sign(digest) if outcome.ok and outcome.created else "",
    )

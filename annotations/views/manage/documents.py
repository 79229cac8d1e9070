"""Documents: the list, and the upload with its preview.

The upload takes every format the import pipeline reads (``services.imports``): the
documents and the spans other tools made on them. The preview (a dry run, with exactly the
validation the import runs) lists the documents, the spans per coder and everything that
will not be imported with its reason. It is swapped by htmx
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

from ...domain.formats import FORMATS
from ...forms import InputError, Params
from ...models import Membership
from ...permissions import access_manage
from ...selectors import manage as selectors
from ...services import imports
from ..htmx import is_fragment
from .common import render

UPLOAD_SALT = "framing.manage.upload-preview"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


FORMAT_CHOICES = [("auto", "Detect from the files")] + [
    (spec.option.split(",")[0] if spec.name != "plain" else "plain", spec.title)
    for spec in FORMATS.values()
]
OFFSET_CHOICES = [
    ("", "The format's own unit"),
    ("codepoints", "Code points (Python, brat, Prodigy, Label Studio 1.23)"),
    ("utf16", "UTF-16 code units (doccano, INCEpTION, JavaScript)"),
    ("graphemes", "Grapheme clusters (doccano's grapheme mode)"),
]
ONLY_CODER_LIMIT = 200


def _members(project) -> list[str]:
    return list(
        Membership.objects.filter(project=project)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )


def _import_options(data, project) -> imports.ImportOptions:
    """The upload form's choices, parsed at the edge (the confirm posts them again)."""
    params = Params(data)
    only = params.text("only_coder", max_length=ONLY_CODER_LIMIT, label="the annotator").strip()
    return imports.ImportOptions(
        format=params.choice("format", [v for v, _ in FORMAT_CHOICES], default="auto"),
        offsets=params.choice("offsets", [v for v, _ in OFFSET_CHOICES[1:]], label="offsets"),
        coder=params.choice("coder", _members(project), label="member") or None,
        only_coder=only or None,
        create_codes=params.flag("create_codes"),
        mark_done=params.flag("mark_done"),
        max_bytes=settings.FRAMING_MAX_UPLOAD_BYTES,
        hints=imports.WEB_HINTS,
        any_account=False,
    )


def _upload_digest(project, files: list[tuple[str, bytes]], options) -> str:
    digest = hashlib.sha256(str(project.pk).encode())
    digest.update(
        repr(
            (
                options.format,
                options.offsets,
                options.coder,
                options.only_coder,
                options.create_codes,
                options.mark_done,
            )
        ).encode()
    )
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
        "format_choices": FORMAT_CHOICES,
        "offset_choices": OFFSET_CHOICES,
        "members": _members(project),
        "chosen": request.POST if request.method == "POST" else {},
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

    try:
        options = _import_options(request.POST, project)
    except InputError as error:
        return refuse(str(error))
    if not uploads:
        if confirm:
            return refuse(
                "Your browser did not send the files again: choose the same files, then "
                "press Import."
            )
        return refuse("Choose one or more files to upload (or a .zip of a folder).")
    limit = settings.FRAMING_MAX_UPLOAD_BYTES
    total = sum(upload.size for upload in uploads)
    if total > limit:
        return refuse(
            f"The files add up to {_megabytes(total)}; the upload limit is "
            f"{_megabytes(limit)}. Upload fewer or smaller files at a time."
        )
    files = [(upload.name, upload.read()) for upload in uploads]
    digest = _upload_digest(project, files, options)
    signer = signing.Signer(salt=UPLOAD_SALT)
    if confirm:
        try:
            previewed = signer.unsign(confirm)
        except signing.BadSignature:
            previewed = ""
        if previewed != digest:
            outcome = imports.import_files(
                project=project, files=files, options=options, dry_run=True
            )
            return refuse(
                "These files differ from the ones previewed; check this preview, then import.",
                outcome=outcome,
                token=signer.sign(digest) if outcome.ok else "",
            )
        outcome = imports.import_files(
            project=project, files=files, options=options, actor=request.user
        )
        if not outcome.ok:
            return refuse("Nothing was imported.", outcome=outcome)
        messages.success(request, _imported_message(outcome))
        target = reverse("manage-documents", args=[project.pk])
        if is_fragment(request):
            return HttpResponseClientRedirect(target)
        return redirect(target)
    outcome = imports.import_files(project=project, files=files, options=options, dry_run=True)
    return _documents_page(
        request,
        project,
        status=200 if outcome.ok else 422,
        partial="upload-preview",
        outcome=outcome,
        token=signer.sign(digest) if outcome.ok and _anything_new(outcome) else "",
    )


def _anything_new(outcome) -> bool:
    return bool(outcome.created or outcome.spans_created or outcome.codes_created)


def _imported_message(outcome) -> str:
    text = f"Imported {len(outcome.created)} documents"
    if outcome.already_present:
        text += f" ({outcome.already_present} were already present)"
    if outcome.coders:
        text += f" and {outcome.spans_created} spans"
        if outcome.spans_present:
            text += f" ({outcome.spans_present} were already present)"
    text += "."
    if outcome.skipped:
        text += f" {len(outcome.skipped)} things in the files were not imported (see the preview)."
    return text

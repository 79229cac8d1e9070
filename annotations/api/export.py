"""Downloads: the same streamed files and filters as the download page.

The query is parsed into an export through ``forms.export_spec`` and narrowed to what the
caller may see by ``permissions.export_scope`` (a coder gets their own spans and, in a
blind project, nothing derived from other coders), then streamed by
``selectors.export``: nothing is read before the first bytes leave.
"""

from __future__ import annotations

from typing import Literal

from django.http import StreamingHttpResponse
from django.utils.text import slugify
from ninja import Query, Router

from .. import forms
from ..forms import MAX_ID
from ..permissions import access_export, export_coder_layers, export_scope
from ..selectors.export import doccano, files
from ..selectors.export.spec import LAYERS
from .schemas import OFFSETS, PathId, responses

router = Router(tags=["export"])

FILES = Literal["spans.csv", "spans.jsonl", "bundle.zip"]
CONTENT = {
    "spans.csv": "text/csv; charset=utf-8",
    "spans.jsonl": "application/jsonl; charset=utf-8",
    "bundle.zip": "application/zip",
}
DOWNLOAD = {
    200: {
        "description": "The file, streamed. " + OFFSETS,
        "content": {
            media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for media in CONTENT.values()
        },
    }
}


def _encoded(chunks):
    for chunk in chunks:
        yield chunk.encode("utf-8")


@router.get(
    "/projects/{project_id}/export/{file}",
    response=responses({}),
    openapi_extra={"responses": DOWNLOAD},
)
def export_file(
    request,
    project_id: PathId,
    file: FILES,
    layer: str = Query(
        "coders",
        max_length=200,
        description="coders, gold, all, or one coder's label (as a reviewer sees them).",
    ),
    code: list[int] = Query([], description="Only these codes' ids (repeat the parameter)."),
    documents: Literal["all", "done"] = "all",
    flavour: Literal["analysis", "excel"] = "analysis",
    names: bool = Query(False, description="Usernames in a blind project (managers only)."),
):
    """spans.csv, spans.jsonl (Framing's JSONL) or bundle.zip, as on the download page; a
    coder's download holds their own spans (and nothing of other coders in a blind
    project)."""
    project, member = access_export(request.auth, project_id)
    if any(not 1 <= pk <= MAX_ID for pk in code):
        raise forms.InputError("Unknown code.")
    coders = export_coder_layers(project, member)
    if layer not in LAYERS and layer not in coders:
        raise forms.InputError(f"Unknown layer “{layer[:40]}”.")
    spec = export_scope(
        forms.export_spec(
            project,
            layer="coders" if layer in coders else layer,
            coder_id=coders.get(layer),
            code_ids=code,
            done_only=documents == "done",
            flavour=flavour,
            names=names,
        ),
        member,
    )
    # Each download reads one state of the database while it streams, as on the pages.
    if file == "spans.csv":
        chunks = _encoded(files.snapshot(lambda: files.spans_csv_chunks(project, spec)))
    elif file == "spans.jsonl":
        chunks = _encoded(files.snapshot(lambda: doccano.doccano_chunks(project, spec)))
    else:
        chunks = files.snapshot(lambda: files.zip_chunks(files.export_files(project, spec)))
    response = StreamingHttpResponse(chunks, content_type=CONTENT[file])
    stem = slugify(project.name) or f"project-{project.pk}"
    layer_name = "coder" if spec.coder_id is not None else spec.layer
    name, _, extension = file.partition(".")
    response["Content-Disposition"] = (
        f'attachment; filename="{stem}-{name}-{layer_name}-{spec.flavour}.{extension}"'
    )
    response["Cache-Control"] = "private, no-store"
    return response

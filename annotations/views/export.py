"""Downloads of a project's data: the form, spans.csv, spans.jsonl and the ZIP bundle.

Every download streams (the first bytes leave before the corpus is read). Managers and
reviewers export everything; a coder's export is narrowed to their own spans whatever
the query string asks (see services.export.restrict_to_member); non-members get 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from ..domain.export import CsvFlavour
from ..models import Code, Role
from ..permissions import NOT_FOUND, access_project
from ..services import ServiceError
from ..services import export as exports

TEMPLATE = "annotations/export/export.html"


def _spec_from_query(request, project, member) -> exports.ExportSpec:
    layer = request.GET.get("layer", exports.LAYER_CODERS)
    coder_id = None
    if layer.startswith("u") and layer[1:].isdigit():
        layer, coder_id = exports.LAYER_CODERS, int(layer[1:])
    spec = exports.export_spec(
        project,
        layer=layer,
        coder_id=coder_id,
        code_ids=request.GET.getlist("code"),
        done_only=request.GET.get("documents", "all") == "done",
        flavour=request.GET.get("flavour", CsvFlavour.ANALYSIS),
        names=request.GET.get("names") == "on",
    )
    return exports.restrict_to_member(spec, member)


def _form(request, project, member, *, error: str = "", status: int = 200):
    names = member.role == Role.MANAGER or not project.blind
    labels = exports.coder_labels(project, names=names)
    chosen = request.GET.get("layer", exports.LAYER_CODERS)
    layers = [
        (exports.LAYER_CODERS, "All coders"),
        (exports.LAYER_GOLD, "Gold (settled)"),
        (exports.LAYER_ALL, "All coders and gold"),
        *(
            (f"u{uid}", f"Only {labels[uid]}")
            for uid in exports.reliability_coders(project, exports.ExportSpec())
        ),
    ]
    selected_codes = {int(c) for c in request.GET.getlist("code") if c.isdigit()}
    context = {
        "project": project,
        "member": member,
        "is_coder": member.role == Role.CODER,
        "may_choose_names": member.role == Role.MANAGER and project.blind,
        "layers": [(value, label, value == chosen) for value, label in layers],
        "codes": Code.objects.filter(codebook__project=project).order_by("order", "pk"),
        "error": error,
        "query": request.GET,
        "selected_codes": selected_codes,
    }
    return TemplateResponse(request, TEMPLATE, context, status=status)


def access_export(user, project_id: int):
    """Every member, except coders of a project that keeps exports to reviewers and managers."""
    project, member = access_project(user, project_id)
    if member.role == Role.CODER and not project.coders_may_export:
        raise Http404(NOT_FOUND)
    return project, member


@login_required
@require_GET
def export_form(request, project_id: int):
    project, member = access_export(request.user, project_id)
    return _form(request, project, member)


def _download(request, project_id: int, build):
    project, member = access_export(request.user, project_id)
    try:
        spec = _spec_from_query(request, project, member)
    except ServiceError as error:
        return _form(request, project, member, error=str(error), status=422)
    return build(project, spec)


def _attachment(response, project, suffix: str):
    stem = slugify(project.name) or f"project-{project.pk}"
    response["Content-Disposition"] = f'attachment; filename="{stem}-{suffix}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _encoded(chunks):
    for chunk in chunks:
        yield chunk.encode("utf-8")


@login_required
@require_GET
def spans_csv(request, project_id: int):
    def build(project, spec):
        response = StreamingHttpResponse(
            _encoded(exports.spans_csv_chunks(project, spec)),
            content_type="text/csv; charset=utf-8",
        )
        return _attachment(response, project, f"spans-{spec.flavour}.csv")

    return _download(request, project_id, build)


@login_required
@require_GET
def spans_jsonl(request, project_id: int):
    def build(project, spec):
        response = StreamingHttpResponse(
            _encoded(exports.doccano_chunks(project, spec)),
            content_type="application/jsonl; charset=utf-8",
        )
        return _attachment(response, project, "spans.jsonl")

    return _download(request, project_id, build)


@login_required
@require_GET
def bundle(request, project_id: int):
    def build(project, spec):
        response = StreamingHttpResponse(
            exports.zip_chunks(exports.export_files(project, spec)),
            content_type="application/zip",
        )
        return _attachment(response, project, f"export-{spec.flavour}.zip")

    return _download(request, project_id, build)


urlpatterns = [
    path("projects/<int:project_id>/export/", export_form, name="export"),
    path("projects/<int:project_id>/export/spans.csv", spans_csv, name="export-spans-csv"),
    path("projects/<int:project_id>/export/spans.jsonl", spans_jsonl, name="export-spans-jsonl"),
    path("projects/<int:project_id>/export/bundle.zip", bundle, name="export-bundle"),
]

"""Downloads of a project's data: the form, spans.csv, spans.jsonl, the ZIP bundle and the
corpus in another tool's format (doccano, Label Studio, brat, INCEpTION, Prodigy).

Every download streams (the first bytes leave before the corpus is read). What a member
may download is decided by ``permissions.export_scope``: a coder's export is narrowed to
their own spans whatever the query string asks; non-members get 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from .. import forms
from ..domain.export import CsvFlavour
from ..domain.formats import FORMATS, format_name
from ..forms import InputError, Params
from ..models import Code
from ..permissions import access_export, export_coder_layers, export_scope, rights
from ..selectors.export import doccano, files
from ..selectors.export import formats as tool_formats
from ..selectors.export.spec import LAYER_ALL, LAYER_CODERS, LAYER_GOLD, ExportSpec

TEMPLATE = "annotations/export/export.html"
TOOL_FORMATS = [(FORMATS[name].option, FORMATS[name].title) for name in tool_formats.WRITER_UNITS]
LAYER_NAMES = {
    LAYER_CODERS: "All coders",
    LAYER_GOLD: "Gold (settled)",
    LAYER_ALL: "All coders and gold",
}


def _spec(request, project, member) -> ExportSpec:
    params = Params(request.GET)
    layers = export_coder_layers(project, member)
    layer = params.choice("layer", [*LAYER_NAMES, *layers], default=LAYER_CODERS, label="layer")
    coder_id = layers.get(layer)
    spec = forms.export_spec(
        project,
        layer=LAYER_CODERS if coder_id is not None else layer,
        coder_id=coder_id,
        code_ids=params.ids("code", label="code"),
        done_only=params.choice("documents", ("all", "done"), default="all") == "done",
        flavour=params.choice(
            "flavour", [f.value for f in CsvFlavour], default=CsvFlavour.ANALYSIS, label="format"
        ),
        names=params.flag("names"),
    )
    return export_scope(spec, member)


def _form(request, project, member, *, error: str = "", status: int = 200):
    chosen = request.GET.get("layer", LAYER_CODERS)
    layers = [
        *LAYER_NAMES.items(),
        *((label, f"Only {label}") for label in export_coder_layers(project, member)),
    ]
    context = {
        "project": project,
        "rights": rights(member),
        "layers": [(value, label, value == chosen) for value, label in layers],
        "codes": Code.objects.filter(codebook__project=project).order_by("order", "pk"),
        "error": error,
        "done_only": request.GET.get("documents") == "done",
        "excel": request.GET.get("flavour") == CsvFlavour.EXCEL,
        "names": request.GET.get("names") in ("on", "true", "1"),
        "tool_formats": TOOL_FORMATS,
        "chosen_format": request.GET.get("format", ""),
        "chosen_offsets": request.GET.get("offsets", ""),
        "selected_codes": {
            int(c)
            for c in request.GET.getlist("code")
            if c.isascii() and c.isdigit() and len(c) < 19
        },
    }
    return TemplateResponse(request, TEMPLATE, context, status=status)


@login_required
@require_GET
def export_form(request, project_id: int):
    project, member = access_export(request.user, project_id)
    return _form(request, project, member)


def _download(request, project_id: int, build):
    project, member = access_export(request.user, project_id)
    try:
        spec = _spec(request, project, member)
    except InputError as error:
        return _form(request, project, member, error=str(error), status=422)
    return build(project, spec)


def _attachment(response, project, name: str):
    stem = slugify(project.name) or f"project-{project.pk}"
    response["Content-Disposition"] = f'attachment; filename="{stem}-{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _encoded(chunks):
    for chunk in chunks:
        yield chunk.encode("utf-8")


def _file_stem(spec: ExportSpec) -> str:
    """Each layer and flavour downloads under its own name, so files never overwrite."""
    layer = "coder" if spec.coder_id is not None else spec.layer
    return f"{layer}-{spec.flavour}"


@login_required
@require_GET
def spans_csv(request, project_id: int):
    def build(project, spec):
        response = StreamingHttpResponse(
            _encoded(files.snapshot(lambda: files.spans_csv_chunks(project, spec))),
            content_type="text/csv; charset=utf-8",
        )
        return _attachment(response, project, f"spans-{_file_stem(spec)}.csv")

    return _download(request, project_id, build)


@login_required
@require_GET
def spans_jsonl(request, project_id: int):
    def build(project, spec):
        response = StreamingHttpResponse(
            _encoded(files.snapshot(lambda: doccano.doccano_chunks(project, spec))),
            content_type="application/jsonl; charset=utf-8",
        )
        return _attachment(response, project, f"spans-{_file_stem(spec)}.jsonl")

    return _download(request, project_id, build)


@login_required
@require_GET
def bundle(request, project_id: int):
    def build(project, spec):
        response = StreamingHttpResponse(
            files.snapshot(lambda: files.zip_chunks(files.export_files(project, spec))),
            content_type="application/zip",
        )
        return _attachment(response, project, f"export-{_file_stem(spec)}.zip")

    return _download(request, project_id, build)


def _tool_format(request) -> tuple[str, str | None]:
    """The format and offset unit asked for, checked at the edge."""
    params = Params(request.GET)
    options = [option for option, _ in TOOL_FORMATS]
    chosen = params.choice("format", options, label="format") or ""
    name = format_name(chosen)
    if not chosen or name is None:
        raise InputError(f"Choose a format: {', '.join(options)}.")
    offsets = params.choice("offsets", ("codepoints", "utf16"), label="offsets")
    problem = tool_formats.offsets_problem(name, offsets)
    if problem:
        raise InputError(problem)
    return name, offsets


@login_required
@require_GET
def tool_export(request, project_id: int):
    """The corpus in another tool's format: one file where the format is one file, else a
    ZIP; each format and layer under its own name."""
    project, member = access_export(request.user, project_id)
    try:
        spec = _spec(request, project, member)
        name, offsets = _tool_format(request)
    except InputError as error:
        return _form(request, project, member, error=str(error), status=422)
    written = files.snapshot(lambda: tool_formats.format_files(project, spec, name, offsets))
    stem = f"{FORMATS[name].option}-{offsets or FORMATS[name].default_offsets.value}"
    stem += f"-{'coder' if spec.coder_id is not None else spec.layer}"
    single = tool_formats.single_file(name, offsets)
    if single:
        response = StreamingHttpResponse(
            (content for _, content in written), content_type="application/jsonl; charset=utf-8"
        )
        return _attachment(response, project, f"{stem}.jsonl")
    response = StreamingHttpResponse(files.zip_written(written), content_type="application/zip")
    return _attachment(response, project, f"{stem}.zip")


urlpatterns = [
    path("projects/<id:project_id>/export/", export_form, name="export"),
    path("projects/<id:project_id>/export/spans.csv", spans_csv, name="export-spans-csv"),
    path("projects/<id:project_id>/export/spans.jsonl", spans_jsonl, name="export-spans-jsonl"),
    path("projects/<id:project_id>/export/bundle.zip", bundle, name="export-bundle"),
    path("projects/<id:project_id>/export/tool/", tool_export, name="export-tool"),
]

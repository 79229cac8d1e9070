"""The export in another tool's format: doccano, Label Studio, brat, WebAnno TSV, UIMA CAS
XMI, Prodigy (writers in :mod:`annotations.domain.formats`).

Documents are read batch by batch (see :mod:`.reads`) into the formats' neutral
``ExportDocument``: one annotation per coder whose work the export holds (a coder who
coded a document and marked nothing gets an empty one, so "found nothing" survives) and
one for the gold layer, named "gold". People are named as in every other file of the
export (:func:`.spec.people_labels`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ...domain.formats import FORMATS, ExportAnnotation, ExportDocument, ExportSpan, Unit, write
from ...models import Assignment, Code, DocumentReview, Project, ReviewStatus
from .reads import (
    _code_names,
    _coder_span_rows,
    _counting_statuses,
    _documents,
    _gold_span_rows,
    document_batches,
)
from .spec import GOLD, ExportSpec, people_labels

# The offset units each writer can write; the first is its own.
WRITER_UNITS: dict[str, tuple[Unit, ...]] = {
    name: spec.write_offsets for name, spec in FORMATS.items() if spec.writer is not None
}


def offsets_problem(format_name: str, offsets: str | None) -> str:
    """Why `format_name` cannot be written in `offsets` ("" if it can)."""
    if format_name not in WRITER_UNITS:
        names = ", ".join(FORMATS[name].option for name in WRITER_UNITS)
        return f"Unknown format “{format_name[:40]}”; use one of: csv, {names}."
    allowed = WRITER_UNITS[format_name]
    if offsets is not None and offsets not in allowed:
        units = " or ".join(unit.value for unit in allowed)
        return f"{FORMATS[format_name].title} counts offsets in {units}, not {offsets}."
    return ""


def single_file(format_name: str, offsets: str | None) -> str:
    """The one file a format writes for these offsets ("" when it writes several: a ZIP)."""
    if format_name == "prodigy" and offsets in (None, Unit.CODEPOINTS.value):
        return "annotations.jsonl"
    return ""


def export_documents(project: Project, spec: ExportSpec) -> Iterator[ExportDocument]:
    labels = people_labels(project, spec)
    codes = _code_names(project)
    statuses = _counting_statuses(spec)
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        annotators: dict[int, dict[str, list[ExportSpan]]] = defaultdict(dict)
        if spec.coders:
            assignments = Assignment.objects.filter(document_id__in=batch, status__in=statuses)
            if spec.coder_id is not None:
                assignments = assignments.filter(coder_id=spec.coder_id)
            for doc, coder in assignments.order_by("document_id", "coder_id").values_list(
                "document_id", "coder_id"
            ):
                annotators[doc].setdefault(labels.get(coder, ""), [])
            for doc, coder, code, start, end, note, *_ in _coder_span_rows(spec, batch):
                annotators[doc].setdefault(labels.get(coder, ""), []).append(
                    ExportSpan(start, end, codes[code], note)
                )
        if spec.gold:
            reviews = DocumentReview.objects.filter(document_id__in=batch)
            if spec.done_only:
                reviews = reviews.filter(status=ReviewStatus.SETTLED)
            for doc in reviews.values_list("document_id", flat=True):
                annotators[doc].setdefault(GOLD, [])
            for doc, _, code, start, end, *_ in _gold_span_rows(spec, batch):
                annotators[doc].setdefault(GOLD, []).append(ExportSpan(start, end, codes[code]))
        for pk in batch:
            document = documents[pk]
            yield ExportDocument(
                id=str(pk),
                text=document.text,
                title=document.title,
                external_id=document.external_id,
                outlet=document.outlet,
                url=document.url,
                published=document.published,
                annotations=tuple(
                    ExportAnnotation(name, tuple(spans))
                    for name, spans in annotators.get(pk, {}).items()
                ),
            )


def format_files(
    project: Project, spec: ExportSpec, format_name: str, offsets: str | None
) -> Iterator[tuple[str, bytes]]:
    """The files (relative path, bytes) of the export in `format_name`."""
    options = {}
    if format_name in ("label-studio", "brat"):
        chosen = Code.objects.filter(codebook__project=project).order_by("order", "pk")
        if spec.code_ids:
            chosen = chosen.filter(pk__in=spec.code_ids)
        options["codes"] = list(chosen.values_list("name", flat=True))
    return write(format_name, export_documents(project, spec), offsets=offsets, **options)

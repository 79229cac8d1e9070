"""The export as files: the README, the list of the bundle's files, the CSV chunks of
spans.csv and the ZIP archive streamed from them.

Each ``*_chunks`` function returns an iterator of ``str`` chunks (bytes for the ZIP); a
caller encodes them as UTF-8 for an HTTP response, a zip entry or a file.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator

from django.utils import timezone

from ...domain import export as shape
from ...models import Code, Project
from ..agreement import latest_finished_run
from .agreement import AGREEMENT_COLUMNS, AGREEMENT_FILE, agreement_rows
from .audit import AUDIT_COLUMNS, AUDIT_FILE, audit_rows
from .doccano import doccano_chunks
from .reads import _code_names
from .rows import (
    codebook_rows,
    document_rows,
    reliability_coders,
    reliability_matrix_rows,
    span_rows,
)
from .spec import ExportSpec, coder_labels, layer_description


def readme_text(project: Project, spec: ExportSpec, *, exported_at=None) -> str:
    labels = coder_labels(project, names=spec.names)
    base = shape.render_readme(
        project=project.name,
        exported_at=exported_at or timezone.now(),
        flavour=spec.flavour,
        layer=layer_description(spec, labels),
    )
    codes = _code_names(project)
    chosen = ", ".join(codes[pk] for pk in spec.code_ids) if spec.code_ids else "all codes"
    run = latest_finished_run(project)
    return base + README_SUPPLEMENT.format(
        codes=chosen,
        documents="only work marked done" if spec.done_only else "all documents and work",
        naming="usernames" if spec.names else "pseudonyms (Coder A, Coder B, ...)",
        unit=project.agreement_unit,
        run=f"run {run.pk}, computed {shape.format_value(run.finished_at)}" if run else "none",
    )


README_SUPPLEMENT = """

THIS EXPORT
-----------
Codes: {codes}. Documents: {documents}. People are named by {naming}; pseudonyms
follow the order in which people joined the project and are the same in every file of
one export. "Done" means: a coder's spans from assignments marked done, gold spans of
documents whose review is settled. provenance and rationale are empty for coder spans.
Agreement run: {run}. Reliability units: {unit}.

agreement.csv (one row per coefficient x code x scope)
-------------
coefficient     alpha_u (Krippendorff 2004 unitizing), u_alpha, bu_alpha, cu_alpha,
                ku_alpha and coverage (the 2016 unitizing family), alpha_nominal,
                fleiss_kappa, cohen_kappa_mean, span_f1_exact_mean, span_f1_overlap_mean,
                prevalence; per pair: cohen_kappa, span_f1_exact, span_f1_overlap.
code            The code it was computed for; empty for "all codes".
scope           corpus (the whole run), document (one document) or pair (two coders).
document_id     For scope document: the document (joins to documents.csv).
pair            For scope pair: the two coders, named as in the other files.
value           The figure; empty when undefined (the note says why).
ci_low, ci_high The 95% bootstrap interval over documents; empty when the coefficient
                has none, or when it could not be estimated (the note says why).
ci_resamples    How many bootstrap resamples defined the coefficient.
note            Why a value or an interval is missing, if it is.
run             Id of the agreement run (the latest finished one).
computed        When that run finished.
unit            The units of the nominal coefficients (token, sentence or char).
include_in_progress
                true when the run also counted work not yet marked done.
The file has only a header when no agreement run has finished yet.

audit.csv (one row per recorded change, oldest first)
---------
event_id        Id of the event.
at              When it happened.
actor           Who did it (named like the coder column).
action          create, change, delete, restore, import, status, ...
object_type     What was changed (span, document, assignment, ...).
object_id       Its id; for spans, not an id found in spans.csv.
document_id     The document concerned, if any.
before, after   The recorded state as JSON text (the only JSON cells in the export).

reliability_<code>.csv
----------------------
The units are this project's agreement units ({unit}); see AGREEMENT. A coder "coded"
a document when their assignment is in progress or done (done only, when the export
is limited to done work). Only documents at least one coder coded have rows.
"""


ChunkSource = Callable[[], Iterator[str]]


def export_files(project: Project, spec: ExportSpec) -> list[tuple[str, ChunkSource]]:
    """Every file of the bundle, in order, each as a name and a function giving its chunks.

    Nothing is read until a function is called, so a caller can start sending at once.
    """
    flavour = spec.flavour
    labels = coder_labels(project, names=spec.names)
    files: list[tuple[str, ChunkSource]] = [
        (shape.README_FILE, lambda: iter([readme_text(project, spec)])),
        (shape.SPANS_FILE, lambda: spans_csv_chunks(project, spec)),
        (
            shape.DOCUMENTS_FILE,
            lambda: shape.iter_csv(shape.DOCUMENT_COLUMNS, document_rows(project, spec), flavour),
        ),
        (
            shape.CODEBOOK_FILE,
            lambda: shape.iter_csv(shape.CODEBOOK_COLUMNS, codebook_rows(project), flavour),
        ),
        (
            AGREEMENT_FILE,
            lambda: shape.iter_csv(AGREEMENT_COLUMNS, agreement_rows(project, spec), flavour),
        ),
    ]
    coder_ids = reliability_coders(project, spec)
    columns = shape.reliability_columns(labels[uid] for uid in coder_ids)
    codes = Code.objects.filter(codebook__project=project).order_by("order", "pk")
    if spec.code_ids:
        codes = codes.filter(pk__in=spec.code_ids)
    used: set[str] = set()
    for code in codes:
        name = shape.reliability_file_name(code.name)
        if name in used:  # "a b" and "a_b" would share a file name
            name = name.removesuffix(".csv") + f"_{code.pk}.csv"
        used.add(name)
        files.append(
            (
                name,
                lambda code_id=code.pk: shape.iter_csv(
                    columns,
                    reliability_matrix_rows(project, spec, code_id, coder_ids, labels),
                    flavour,
                ),
            )
        )
    files.append(
        (AUDIT_FILE, lambda: shape.iter_csv(AUDIT_COLUMNS, audit_rows(project, spec), flavour))
    )
    files.append((shape.DOCCANO_FILE, lambda: doccano_chunks(project, spec)))
    return files


def spans_csv_chunks(project: Project, spec: ExportSpec) -> Iterator[str]:
    return shape.iter_csv(shape.SPAN_COLUMNS, span_rows(project, spec), spec.flavour)


class _Sink:
    """A write-only file for zipfile: it keeps what was written until taken."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.size = 0
        return data


ZIP_CHUNK = 256 * 1024


def zip_chunks(files: list[tuple[str, ChunkSource]]) -> Iterator[bytes]:
    """A ZIP archive as byte chunks, written without seeking (sizes go in data descriptors),
    so it streams in constant memory."""
    sink = _Sink()
    stamp = timezone.localtime().timetuple()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, source in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as entry:
                for chunk in source():
                    entry.write(chunk.encode("utf-8"))
                    if sink.size >= ZIP_CHUNK:
                        yield sink.take()
            yield sink.take()
    yield sink.take()

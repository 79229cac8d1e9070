"""The export as files: the README, the list of the bundle's files, the CSV chunks of
spans.csv and the ZIP archive streamed from them.

Each ``*_chunks`` function returns an iterator of ``str`` chunks (bytes for the ZIP); a
caller encodes them as UTF-8 for an HTTP response, a zip entry or a file.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.utils import timezone

from ...domain import export as shape
from ...domain.export_readme import render_readme
from ...models import Code, Project
from ..agreement import latest_finished_run
from ..snapshot import one_snapshot
from .agreement import AGREEMENT_COLUMNS, AGREEMENT_FILE, agreement_rows
from .audit import AUDIT_COLUMNS, AUDIT_FILE, audit_rows
from .doccano import doccano_chunks
from .reads import _code_names
from .rows import (
    ReliabilityInput,
    codebook_rows,
    document_rows,
    reliability_input,
    reliability_matrix_rows,
    span_rows,
)
from .spec import ExportSpec, has_matrices, layer_description, people_labels


def audience(spec: ExportSpec) -> str:
    """Whom this export was made for, in the README's words (see WHO SEES WHAT)."""
    if not spec.others:
        return (
            "a coder of a blind project: only your own work, nothing derived from other "
            'coders\' work; you are named "You"'
        )
    if spec.audit_actor_id is not None:
        return "a coder of an open project: your own spans; people are named by username"
    if spec.names:
        return "a manager who asked for usernames, or a member of an open project"
    return "a reviewer or manager: everyone pseudonymised in every file"


def readme_text(
    project: Project,
    spec: ExportSpec,
    *,
    exported_at=None,
    reliability: ReliabilityInput | None = None,
) -> str:
    labels = people_labels(project, spec)
    codes = _code_names(project)
    chosen = ", ".join(codes[pk] for pk in spec.code_ids) if spec.code_ids else "all codes"
    facts = [
        f"Codes: {chosen}.",
        "Documents: " + ("only work marked done." if spec.done_only else "all documents and work."),
        '"Done" means: a coder\'s spans from assignments marked done, gold spans of documents '
        "whose review is settled. provenance, rationale, source_span_ids, source_coders and "
        "settling_action are empty for coder spans.",
    ]
    if spec.others:
        run = latest_finished_run(project)
        facts.append(
            "Agreement run: "
            + (f"run {run.pk}, computed {shape.format_value(run.finished_at)}." if run else "none.")
        )
    if reliability is not None:
        facts.append(_matrices_fact(reliability))
    return render_readme(
        project=project.name,
        exported_at=exported_at or timezone.now(),
        flavour=spec.flavour,
        layer=layer_description(spec, labels),
        audience=audience(spec),
        agreement=spec.others,
        matrices=reliability is not None,
        facts="\n".join(facts),
    )


def _matrices_fact(source: ReliabilityInput) -> str:
    rule = "work in progress and done" if source.include_in_progress else "work marked done"
    if source.run is None:
        text = (
            "Reliability matrices: no agreement run has finished yet, so they hold what a "
            f"run with the default settings would compute on: {rule}, units {source.unit}."
        )
    else:
        text = (
            f"Reliability matrices: the input of run {source.run.pk} ({rule} counts, units "
            f"{source.unit}); they reproduce its per-code nominal alpha."
        )
        if source.changed_since:
            text += (
                " Spans or statuses changed after that run started, so the matrices (read "
                "now, with its settings) may differ from its input: run agreement again."
            )
    return text


ChunkSource = Callable[[], Iterable[str | bytes]]
T = TypeVar("T")


def export_files(project: Project, spec: ExportSpec) -> list[tuple[str, ChunkSource]]:
    """Every file of the bundle, in order, each as a name and a function giving its chunks.

    Nothing is read until a function is called, so a caller can start sending at once.
    A coder's export in a blind project has no agreement.csv and no reliability matrices.
    """
    flavour = spec.flavour
    reliability = reliability_input(project) if has_matrices(spec) else None
    files: list[tuple[str, ChunkSource]] = [
        (
            shape.README_FILE,
            lambda: iter([readme_text(project, spec, reliability=reliability)]),
        ),
        (shape.SPANS_FILE, lambda: spans_csv_chunks(project, spec)),
        (
            shape.DOCUMENTS_FILE,
            lambda: shape.iter_csv(shape.DOCUMENT_COLUMNS, document_rows(project, spec), flavour),
        ),
        (
            shape.CODEBOOK_FILE,
            lambda: shape.iter_csv(shape.CODEBOOK_COLUMNS, codebook_rows(project), flavour),
        ),
    ]
    if spec.others:
        files.append(
            (
                AGREEMENT_FILE,
                lambda: shape.iter_csv(AGREEMENT_COLUMNS, agreement_rows(project, spec), flavour),
            )
        )
    if reliability is not None:
        files.extend(_matrices(project, spec, reliability))
    files.append(
        (AUDIT_FILE, lambda: shape.iter_csv(AUDIT_COLUMNS, audit_rows(project, spec), flavour))
    )
    files.append((shape.DOCCANO_FILE, lambda: doccano_chunks(project, spec)))
    return files


def _matrices(
    project: Project, spec: ExportSpec, source: ReliabilityInput
) -> list[tuple[str, ChunkSource]]:
    labels = people_labels(project, spec)
    names = {uid: labels.get(uid) or f"Coder #{n}" for n, uid in enumerate(source.coders, 1)}
    columns = shape.reliability_columns(names[uid] for uid in source.coders)
    codes = Code.objects.filter(codebook__project=project).order_by("order", "pk")
    if spec.code_ids:
        codes = codes.filter(pk__in=spec.code_ids)
    return [
        (
            shape.reliability_file_name(code_id, name),
            lambda code_id=code_id: shape.iter_csv_cells(
                columns, reliability_matrix_rows(source, code_id), spec.flavour
            ),
        )
        for code_id, name in codes.values_list("pk", "name")
    ]


def snapshot(make: Callable[[], Iterable[T]]) -> Iterator[T]:
    """The chunks ``make()`` produces, every one read from one state of the database.

    On PostgreSQL the whole download runs in one REPEATABLE READ, read-only transaction, held
    while it streams, so a span saved meanwhile is in every file or in none. (On SQLite a
    transaction would take the write lock for the length of the download; each batch of rows
    is read consistently there.)
    """
    with one_snapshot():
        yield from make()


def spans_csv_chunks(project: Project, spec: ExportSpec) -> Iterator[str]:
    return shape.iter_csv_cells(shape.SPAN_COLUMNS, span_rows(project, spec), spec.flavour)


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


def zip_chunks(files: Iterable[tuple[str, ChunkSource]]) -> Iterator[bytes]:
    """A ZIP archive as byte chunks, written without seeking (sizes go in data descriptors),
    so it streams in constant memory. Chunks may be text (written as UTF-8) or bytes."""
    sink = _Sink()
    stamp = timezone.localtime().timetuple()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, source in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as entry:
                for chunk in source():
                    entry.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
                    if sink.size >= ZIP_CHUNK:
                        yield sink.take()
            yield sink.take()
    yield sink.take()


def zip_written(written: Iterable[tuple[str, bytes]]) -> Iterator[bytes]:
    """A ZIP of a format writer's files (path, bytes), streamed as they are written."""
    return zip_chunks((path, lambda content=content: (content,)) for path, content in written)

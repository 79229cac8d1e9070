"""Export a project's corpus and spans as files, and import doccano JSONL as a coder's spans.

Reads stream: documents are visited in batches of ids (bounded by count and by characters),
and each batch's spans come from one ``.iterator(chunk_size=2000)`` query, so memory stays
constant however large the corpus is. Row shaping and CSV writing are in
:mod:`annotations.domain.export`; this module decides what is read and who is called what.

Each ``*_chunks`` function returns an iterator of ``str`` chunks; a caller encodes them
as UTF-8 for an HTTP response, a zip entry or a file.
"""

from __future__ import annotations

import bisect
import datetime
import heapq
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import pseudonyms
from ..domain import export as shape
from ..domain import textio, units
from ..models import (
    AgreementRun,
    Assignment,
    AssignmentStatus,
    AuditEvent,
    Code,
    Document,
    DocumentReview,
    GoldSpan,
    Membership,
    Project,
    ReviewStatus,
    Role,
    RunStatus,
    Span,
)
from .core import ServiceError, audit_record, code_create, documents_import, sha256_text

LAYER_CODERS = "coders"
LAYER_GOLD = "gold"
LAYER_ALL = "all"
LAYERS = (LAYER_CODERS, LAYER_GOLD, LAYER_ALL)

AGREEMENT_FILE = "agreement.csv"
AUDIT_FILE = "audit.csv"
AGREEMENT_COLUMNS = ("metric", "code", "scope", "value", "ci_low", "ci_high", "run", "computed")
AUDIT_COLUMNS = (
    "event_id",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "document_id",
    "before",
    "after",
)

BATCH_DOCUMENTS = 200
BATCH_CHARACTERS = 2_000_000  # a few long documents fill a batch as well as many short ones
CHUNK = 2000


@dataclass(frozen=True)
class ExportSpec:
    """What to export. Build it with :func:`export_spec`, which checks every value."""

    layer: str = LAYER_CODERS
    coder_id: int | None = None  # with the coders layer: only this coder's spans
    code_ids: tuple[int, ...] = ()  # empty: every code
    done_only: bool = False
    flavour: shape.CsvFlavour = shape.CsvFlavour.ANALYSIS
    names: bool = False  # usernames instead of pseudonyms in a blind project
    audit_actor_id: int | None = None  # a coder's bundle holds only their own audit events

    @property
    def coders(self) -> bool:
        return self.layer in (LAYER_CODERS, LAYER_ALL)

    @property
    def gold(self) -> bool:
        return self.layer in (LAYER_GOLD, LAYER_ALL)


def export_spec(
    project: Project,
    *,
    layer: str = LAYER_CODERS,
    coder_id: int | None = None,
    code_ids: Iterable[Any] = (),
    done_only: bool = False,
    flavour: str = shape.CsvFlavour.ANALYSIS,
    names: bool = False,
) -> ExportSpec:
    if layer not in LAYERS:
        raise ServiceError(f"Unknown layer “{layer}”; use coders, gold or all.")
    try:
        csv_flavour = shape.CsvFlavour(flavour)
    except ValueError:
        raise ServiceError(f"Unknown format “{flavour}”; use analysis or excel.") from None
    if coder_id is not None:
        if layer != LAYER_CODERS:
            raise ServiceError("Choose one coder or a layer, not both.")
        if coder_id not in coder_labels(project, names=True):
            raise ServiceError("That coder has no work in this project.")
    try:
        wanted = {int(code) for code in code_ids}
    except (TypeError, ValueError):
        raise ServiceError("Unknown code.") from None
    known = set(Code.objects.filter(codebook__project=project).values_list("pk", flat=True))
    if wanted - known:
        raise ServiceError("Unknown code.")
    return ExportSpec(
        layer=layer,
        coder_id=coder_id,
        code_ids=tuple(sorted(wanted)),
        done_only=done_only,
        flavour=csv_flavour,
        names=names or not project.blind,
    )


def restrict_to_member(spec: ExportSpec, member: Membership) -> ExportSpec:
    """Coders export only their own spans; only managers may see names in a blind project."""
    if member.role == Role.CODER:
        return replace(
            spec,
            layer=LAYER_CODERS,
            coder_id=member.user_id,
            names=not member.project.blind,
            audit_actor_id=member.user_id,
        )
    if member.role == Role.REVIEWER:
        return replace(spec, names=not member.project.blind)
    return spec


# --- Who is called what ---------------------------------------------------------------------


def coder_labels(project: Project, *, names: bool) -> dict[int, str]:
    """User id → the name shown in exports: the project's pseudonyms unless names are asked."""
    return pseudonyms.coder_labels(project, with_names=names)


def layer_description(spec: ExportSpec, labels: dict[int, str]) -> str:
    if spec.coder_id is not None:
        return f"spans of one coder ({labels.get(spec.coder_id, '')})"
    return {
        LAYER_CODERS: "spans of all coders",
        LAYER_GOLD: "gold (settled) spans",
        LAYER_ALL: "spans of all coders and gold spans",
    }[spec.layer]


# --- Reads ------------------------------------------------------------------------------


def _counting_statuses(spec: ExportSpec) -> list[str]:
    """Assignments whose coder "coded" the document (a to-do assignment is not coded)."""
    if spec.done_only:
        return [AssignmentStatus.DONE]
    return [AssignmentStatus.IN_PROGRESS, AssignmentStatus.DONE]


def documents_queryset(project: Project, spec: ExportSpec):
    documents = Document.objects.filter(project=project)
    done = Assignment.objects.filter(status=AssignmentStatus.DONE)
    if spec.coder_id is not None:
        assigned = Assignment.objects.filter(coder_id=spec.coder_id)
        if spec.done_only:
            assigned = assigned.filter(status=AssignmentStatus.DONE)
        documents = documents.filter(pk__in=assigned.values("document_id"))
    elif spec.done_only:
        wanted = Q()
        if spec.coders:
            wanted |= Q(pk__in=done.values("document_id"))
        if spec.gold:
            settled = DocumentReview.objects.filter(status=ReviewStatus.SETTLED)
            wanted |= Q(pk__in=settled.values("document_id"))
        documents = documents.filter(wanted)
    return documents.order_by("pk")


def document_batches(project: Project, spec: ExportSpec) -> Iterator[list[int]]:
    """Document ids in order, in batches small enough to hold their texts in memory."""
    batch: list[int] = []
    characters = 0
    rows = documents_queryset(project, spec).values_list("pk", "length")
    for pk, length in rows.iterator(chunk_size=CHUNK):
        batch.append(pk)
        characters += length
        if len(batch) >= BATCH_DOCUMENTS or characters >= BATCH_CHARACTERS:
            yield batch
            batch, characters = [], 0
    if batch:
        yield batch


@dataclass(frozen=True)
class _Doc:
    pk: int
    external_id: str
    title: str
    outlet: str
    url: str
    published: datetime.date | None
    sha256: str
    length: int
    text: str


def _documents(batch: list[int]) -> dict[int, _Doc]:
    rows = Document.objects.filter(pk__in=batch).values_list(
        "pk", "external_id", "title", "outlet", "url", "published", "sha256", "length", "text"
    )
    return {row[0]: _Doc(*row) for row in rows}


def _coder_span_rows(spec: ExportSpec, batch: list[int]):
    spans = Span.objects.live().filter(assignment__document_id__in=batch)
    if spec.coder_id is not None:
        spans = spans.filter(assignment__coder_id=spec.coder_id)
    if spec.done_only:
        spans = spans.filter(assignment__status=AssignmentStatus.DONE)
    if spec.code_ids:
        spans = spans.filter(code_id__in=spec.code_ids)
    # The quote is not read: it is the document's own slice (see span_rows).
    return (
        spans.order_by("assignment__document_id", "assignment__coder_id", "start", "end", "pk")
        .values_list(
            "assignment__document_id",
            "assignment__coder_id",
            "code_id",
            "start",
            "end",
            "note",
            "created_at",
            "updated_at",
        )
        .iterator(chunk_size=CHUNK)
    )


def _gold_span_rows(spec: ExportSpec, batch: list[int]):
    spans = GoldSpan.objects.live().filter(document_id__in=batch)
    if spec.done_only:
        spans = spans.filter(document__review__status=ReviewStatus.SETTLED)
    if spec.code_ids:
        spans = spans.filter(code_id__in=spec.code_ids)
    return (
        spans.order_by("document_id", "start", "end", "pk")
        .values_list(
            "document_id",
            "settled_by_id",
            "code_id",
            "start",
            "end",
            "created_at",
            "updated_at",
            "provenance",
            "rationale",
        )
        .iterator(chunk_size=CHUNK)
    )


def _code_names(project: Project) -> dict[int, str]:
    return dict(Code.objects.filter(codebook__project=project).values_list("pk", "name"))


def span_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    """One dict per span with every column of ``SPAN_COLUMNS``, document by document."""
    labels = coder_labels(project, names=spec.names)
    codes = _code_names(project)
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        streams = []
        if spec.coders:
            streams.append(
                ("coder", doc, coder, code, start, end, note, created, updated, "", "")
                for doc, coder, code, start, end, note, created, updated in _coder_span_rows(
                    spec, batch
                )
            )
        if spec.gold:
            streams.append(
                ("gold", doc, settler, code, start, end, "", created, updated, prov, why)
                for doc, settler, code, start, end, created, updated, prov, why in _gold_span_rows(
                    spec, batch
                )
            )
        # Both streams are ordered by document: merging keeps one document's rows together.
        for row in heapq.merge(*streams, key=lambda item: item[1]):
            layer, doc_id, person, code, start, end, note, created, updated, prov, why = row
            document = documents[doc_id]
            before, after = shape.context(document.text, start, end)
            yield {
                "project": project.name,
                "document_id": doc_id,
                "external_id": document.external_id,
                "title": document.title,
                "outlet": document.outlet,
                "url": document.url,
                "published": document.published,
                "text_sha256": document.sha256,
                "layer": layer,
                "coder": labels.get(person, "") if person is not None else "",
                "code": codes[code],
                "start": start,
                "end": end,
                # Spans store text[start:end] when saved and the text never changes, so the
                # slice is the quote; taking it from the text makes the invariant hold by
                # construction and saves reading every quote twice.
                "quote": document.text[start:end],
                "context_before": before,
                "context_after": after,
                "note": note,
                "created": created,
                "updated": updated,
                "provenance": prov,
                "rationale": why,
            }


def document_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        for pk in batch:
            document = documents[pk]
            yield {
                "document_id": pk,
                "external_id": document.external_id,
                "title": document.title,
                "outlet": document.outlet,
                "url": document.url,
                "published": document.published,
                "text_sha256": document.sha256,
                "length": document.length,
                "text": document.text,
            }


def codebook_rows(project: Project) -> Iterator[dict[str, Any]]:
    for code in Code.objects.filter(codebook__project=project).order_by("order", "pk"):
        yield {
            "code": code.name,
            "name": code.name,
            "definition": code.definition,
            "guidance": code.guidance,
            "colour": code.colour,
            "shortcut": code.shortcut,
            "active": code.active,
            "order": code.order,
        }


# --- Reliability matrices -------------------------------------------------------------------


def reliability_coders(project: Project, spec: ExportSpec) -> list[int]:
    """Coder ids for the matrix columns, in pseudonym (membership) order."""
    if spec.coder_id is not None:
        return [spec.coder_id]
    assigned = set(
        Assignment.objects.filter(document__project=project).values_list("coder_id", flat=True)
    )
    return [uid for uid in coder_labels(project, names=True) if uid in assigned]


def _covering_units(starts: list[int], ends: list[int], start: int, end: int) -> range:
    """Indexes of the units that share at least one character with [start, end)."""
    first = bisect.bisect_right(ends, start)
    last = bisect.bisect_left(starts, end)
    return range(first, last)


def reliability_matrix_rows(
    project: Project, spec: ExportSpec, code_id: int, coder_ids: list[int], labels: dict[int, str]
) -> Iterator[dict[str, Any]]:
    """Units × coders for one code: 1 applied, 0 coded the document without it, None missing."""
    statuses = _counting_statuses(spec)
    kind = project.agreement_unit
    for batch in document_batches(project, spec):
        coded: dict[int, set[int]] = defaultdict(set)
        for doc, coder in Assignment.objects.filter(
            document_id__in=batch, coder_id__in=coder_ids, status__in=statuses
        ).values_list("document_id", "coder_id"):
            coded[doc].add(coder)
        if not coded:
            continue
        texts = dict(Document.objects.filter(pk__in=list(coded)).values_list("pk", "text"))
        applied: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        spans = (
            Span.objects.live()
            .filter(
                assignment__document_id__in=list(coded),
                assignment__coder_id__in=coder_ids,
                assignment__status__in=statuses,
                code_id=code_id,
            )
            .values_list("assignment__document_id", "assignment__coder_id", "start", "end")
        )
        for doc, coder, start, end in spans.iterator(chunk_size=CHUNK):
            applied[doc].append((coder, start, end))
        for doc in sorted(coded):
            bounds = units.units(texts[doc], kind)
            starts = [start for start, _ in bounds]
            ends = [end for _, end in bounds]
            values: dict[str, list[int | None]] = {}
            for coder in coder_ids:
                values[labels[coder]] = (
                    [0] * len(bounds) if coder in coded[doc] else [None] * len(bounds)
                )
            for coder, start, end in applied[doc]:
                column = values[labels[coder]]
                for index in _covering_units(starts, ends, start, end):
                    column[index] = 1
            yield from shape.reliability_rows([(doc, s, e) for s, e in bounds], values)


# --- Agreement and audit --------------------------------------------------------------------


def latest_agreement_run(project: Project) -> AgreementRun | None:
    return (
        AgreementRun.objects.filter(project=project, status=RunStatus.DONE)
        .order_by("-finished_at", "-pk")
        .first()
    )


_CODER_KEY = re.compile(r"u(\d+)")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def flatten_agreement(results: Any, code_names: set[str]) -> Iterator[dict[str, Any]]:
    """Rows of (metric, code, scope, value, ci_low, ci_high) from a stored results document.

    A ``"rows"`` list of such dicts is used as it is. Otherwise nested dicts and lists are
    walked: every number is a row named by its key (``metric``), with the codebook code
    met on its path as ``code`` and the rest of the path as ``scope`` ("/"-joined); a
    sibling ``<metric>_ci`` (or a ``ci`` / ``ci_low`` + ``ci_high`` beside ``value``) gives
    the interval. Strings, booleans and other lists are not agreement figures and are left
    out; the run's full JSON stays available in the database and the agreement command.
    """
    if isinstance(results, dict) and isinstance(results.get("rows"), list):
        for row in results["rows"]:
            if isinstance(row, dict):
                yield {key: row.get(key) for key in AGREEMENT_COLUMNS[:6]}
        return
    yield from _walk(results, [], None, code_names)


def _interval(value: Any) -> tuple[Any, Any]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    return None, None


def _walk(node: Any, path: list[str], code: str | None, code_names: set[str]):
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, [*path, str(index)], code, code_names)
        return
    if not isinstance(node, dict):
        return
    # A record naming its own code or metric ({"code": "X", "alpha": 0.7, ...}).
    if isinstance(node.get("code"), str):
        code = node["code"]
        if path and path[-1].isdigit():
            path = path[:-1]
    if "value" in node and (_is_number(node["value"]) or node["value"] is None):
        low, high = _interval(node.get("ci"))
        yield {
            "metric": node.get("metric") or (path[-1] if path else "value"),
            "code": code,
            "scope": node.get("scope") or "/".join(path[:-1]),
            "value": node["value"],
            "ci_low": node.get("ci_low", low),
            "ci_high": node.get("ci_high", high),
        }
        return
    for key, value in node.items():
        key = str(key)
        if key.endswith("_ci") and key[:-3] in node:
            continue  # written with its metric below
        if _is_number(value) or (value is None and f"{key}_ci" in node):
            low, high = _interval(node.get(f"{key}_ci"))
            yield {
                "metric": key,
                "code": code,
                "scope": "/".join(path),
                "value": value,
                "ci_low": low,
                "ci_high": high,
            }
        elif isinstance(value, dict | list):
            if key in code_names and code is None:
                yield from _walk(value, path, key, code_names)
            else:
                yield from _walk(value, [*path, key], code, code_names)


def _neutraliser(spec: ExportSpec) -> Callable[[str], str]:
    """Columns outside FREE_TEXT_COLUMNS that may hold typed text still need the guard."""
    if spec.flavour is shape.CsvFlavour.EXCEL:
        return shape.neutralise_formula
    return lambda value: value


def agreement_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    run = latest_agreement_run(project)
    if run is None or not run.results:
        return
    labels = coder_labels(project, names=spec.names)
    guard = _neutraliser(spec)
    codes = set(_code_names(project).values())

    def person(match: re.Match) -> str:
        return labels.get(int(match.group(1)), match.group(0))

    for row in flatten_agreement(run.results, codes):
        # Stored results name coders "u<id>"; show them as everywhere else in the export.
        scope = _CODER_KEY.sub(person, str(row.get("scope") or ""))
        yield {
            "metric": guard(str(row.get("metric") or "")),
            "code": row.get("code"),
            "scope": guard(scope),
            "value": row.get("value"),
            "ci_low": row.get("ci_low"),
            "ci_high": row.get("ci_high"),
            "run": run.pk,
            "computed": run.finished_at,
        }


_PERSON_KEYS = ("user", "coder", "username", "actor")


def _pseudonymise(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {
            key: names.get(item, item)
            if key in _PERSON_KEYS and isinstance(item, str)
            else _pseudonymise(item, names)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_pseudonymise(item, names) for item in value]
    return value


def audit_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    labels = coder_labels(project, names=spec.names)
    usernames = {} if spec.names else _username_map(project, labels)
    guard = _neutraliser(spec)
    events = AuditEvent.objects.filter(project=project)
    if spec.audit_actor_id is not None:
        events = events.filter(actor_id=spec.audit_actor_id)
    rows = events.order_by("pk").values_list(
        "pk",
        "at",
        "actor_id",
        "action",
        "object_type",
        "object_id",
        "document_id",
        "before",
        "after",
    )
    for pk, at, actor, action, object_type, object_id, document, before, after in rows.iterator(
        chunk_size=CHUNK
    ):
        yield {
            "event_id": pk,
            "at": at,
            "actor": guard(labels.get(actor, "") if actor is not None else ""),
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "document_id": document,
            "before": guard(_json_cell(_pseudonymise(before, usernames))),
            "after": guard(_json_cell(_pseudonymise(after, usernames))),
        }


def _username_map(project: Project, labels: dict[int, str]) -> dict[str, str]:
    real = coder_labels(project, names=True)
    return {real[uid]: label for uid, label in labels.items()}


def _json_cell(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


# --- doccano JSONL --------------------------------------------------------------------------


def doccano_chunks(project: Project, spec: ExportSpec) -> Iterator[str]:
    """One line per document and annotator (each coder, or gold); a document nobody coded
    gets one line without labels, so the file holds the whole corpus."""
    labels = coder_labels(project, names=spec.names)
    codes = _code_names(project)
    statuses = _counting_statuses(spec)
    lines: list[str] = []
    for batch in document_batches(project, spec):
        documents = _documents(batch)
        annotators: dict[int, list[tuple[str, int | None]]] = defaultdict(list)
        labelled: dict[tuple[int, str, int | None], list[tuple[int, int, str]]] = defaultdict(list)
        if spec.coders:
            assignments = Assignment.objects.filter(document_id__in=batch, status__in=statuses)
            if spec.coder_id is not None:
                assignments = assignments.filter(coder_id=spec.coder_id)
            for doc, coder in assignments.order_by("document_id", "coder_id").values_list(
                "document_id", "coder_id"
            ):
                annotators[doc].append(("coder", coder))
            for doc, coder, code, start, end, *_ in _coder_span_rows(spec, batch):
                labelled[(doc, "coder", coder)].append((start, end, codes[code]))
        if spec.gold:
            reviews = DocumentReview.objects.filter(document_id__in=batch)
            if spec.done_only:
                reviews = reviews.filter(status=ReviewStatus.SETTLED)
            reviewed = set(reviews.values_list("document_id", flat=True))
            for doc, _, code, start, end, *_ in _gold_span_rows(spec, batch):
                reviewed.add(doc)
                labelled[(doc, "gold", None)].append((start, end, codes[code]))
            for doc in sorted(reviewed):
                annotators[doc].append(("gold", None))
        for pk in batch:
            document = documents[pk]
            for layer, person in annotators.get(pk) or [("", None)]:
                meta = {
                    "document_id": pk,
                    "external_id": document.external_id,
                    "title": document.title,
                    "outlet": document.outlet,
                    "url": document.url,
                    "published": document.published,
                    "text_sha256": document.sha256,
                    "layer": layer,
                    "coder": labels.get(person, "") if person is not None else "",
                }
                line = shape.doccano_line(
                    document.text, labelled.get((pk, layer, person), ()), meta
                )
                lines.append(line + "\n")
        yield "".join(lines)
        lines.clear()


# --- Files ----------------------------------------------------------------------------------


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
    run = latest_agreement_run(project)
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

agreement.csv (one row per metric x code x scope)
-------------
metric          Name of the figure as the agreement run stored it (e.g. alpha_u).
code            The code it was computed for; empty for figures over all codes.
scope           Where in the stored results the figure sits (e.g. overall, or a
                coder pair), "/"-joined; coder ids are shown as in the other files.
value           The figure; empty when undefined (no variation or no pairable data).
ci_low, ci_high The bootstrap confidence interval, if the run computed one.
run             Id of the agreement run (the latest finished one).
computed        When that run finished.
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


# --- Import -------------------------------------------------------------------------------


@dataclass
class JsonlImportOutcome:
    documents_created: int = 0
    documents_present: int = 0
    spans_created: int = 0
    spans_present: int = 0
    problems: list[str] = field(default_factory=list)


def _select_lines(data: bytes, only_coder: str) -> bytes:
    """Keep the lines of one annotator (our export writes one line per document and coder)."""
    kept = []
    for raw in data.split(b"\n"):
        try:
            record = json.loads(raw) if raw.strip() else None
        except ValueError:
            kept.append(raw)  # the parser reports it with its line number
            continue
        if record is None or not isinstance(record, dict) or record.get("coder") == only_coder:
            kept.append(raw)
    return b"\n".join(kept)


def jsonl_import(
    *,
    project: Project,
    name: str,
    data: bytes,
    coder,
    actor=None,
    only_coder: str | None = None,
    create_codes: bool = False,
    mark_done: bool = False,
) -> JsonlImportOutcome:
    """Import doccano JSONL: its documents into the project, its labels as ``coder``'s spans.

    All or nothing. Offsets are stored exactly as in the file (no whitespace trimming, unlike
    the coding screen), so a corpus moves between tools without an offset changing. Labels
    name codes; unknown codes are refused unless ``create_codes``. A label the coder already
    has on that text is counted as present, not duplicated.
    """
    if only_coder is not None:
        data = _select_lines(data, only_coder)
    parsed = textio.parse_file(name, data)
    if not parsed.ok:
        raise ServiceError("\n".join(str(problem) for problem in parsed.problems))
    if not Membership.objects.filter(project=project, user=coder).exists():
        raise ServiceError(f"{coder.username} is not a member of this project.")
    outcome = JsonlImportOutcome()
    wanted = {code for document in parsed.documents for _, _, code in document.labels}
    with transaction.atomic():
        codes = {c.name: c for c in Code.objects.filter(codebook__project=project)}
        missing = sorted(wanted - codes.keys())
        if missing and not create_codes:
            raise ServiceError(
                "The codebook has no code named " + ", ".join(f"“{n}”" for n in missing) + "."
            )
        for code_name in missing:
            codes[code_name] = code_create(codebook=project.codebook, name=code_name, actor=actor)
        retired = sorted(n for n in wanted if not codes[n].active)
        if retired:
            raise ServiceError("Retired codes cannot be imported: " + ", ".join(retired) + ".")
        imported = documents_import(project=project, files=[(name, data)], actor=actor)
        if not imported.ok:
            raise ServiceError("\n".join(str(problem) for problem in imported.problems))
        outcome.documents_created = len(imported.created)
        outcome.documents_present = imported.already_present
        by_hash = {
            d.sha256: d
            for d in Document.objects.filter(
                project=project, sha256__in=[sha256_text(p.text) for p in parsed.documents]
            )
        }
        version = project.codebook.version
        for parsed_document in parsed.documents:
            document = by_hash[sha256_text(parsed_document.text)]
            assignment, _ = Assignment.objects.get_or_create(document=document, coder=coder)
            existing = set(assignment.spans.live().values_list("code__name", "start", "end"))
            new = [
                Span(
                    assignment=assignment,
                    code=codes[code],
                    start=start,
                    end=end,
                    quote=document.text[start:end],
                    codebook_version=version,
                )
                for start, end, code in parsed_document.labels
                if (code, start, end) not in existing
            ]
            outcome.spans_present += len(parsed_document.labels) - len(new)
            Span.objects.bulk_create(new, batch_size=CHUNK)
            outcome.spans_created += len(new)
            status = assignment.status
            if mark_done:
                status = AssignmentStatus.DONE
            elif new and status == AssignmentStatus.TODO:
                status = AssignmentStatus.IN_PROGRESS
            if status != assignment.status:
                assignment.status = status
                assignment.done_at = timezone.now() if status == AssignmentStatus.DONE else None
                assignment.save(update_fields=["status", "done_at", "updated_at"])
            # One event per document: a bulk import of spans, recorded as such.
            audit_record(
                actor=actor,
                action="import",
                obj=assignment,
                project=project,
                document=document,
                after={
                    "coder": coder.username,
                    "source": name,
                    "spans": [[s.start, s.end, s.code.name] for s in new],
                },
            )
    return outcome

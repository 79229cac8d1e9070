"""Move studies in and out of other annotation tools, with offsets that cannot shift.

One entry point each way:

    read(name, data, *, format="auto", offsets=None, coder=None) -> FormatResult
    write(format, documents, *, offsets=None, **options) -> iterator of (path, bytes)

`data` is the bytes of one uploaded file (a ZIP is opened) or a folder listing of
(path, bytes). `offsets` names the unit the file counts in (`codepoints`, `utf16`,
`graphemes`); None means the format's default, documented with its source in each format
module. `FORMATS` describes every format for the README, the CLI and the upload page.

Nothing here touches the database or the disk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from annotations.domain.formats.brat import read_brat, write_brat
from annotations.domain.formats.detect import detect_format
from annotations.domain.formats.doccano import read_doccano, write_doccano
from annotations.domain.formats.files import ArchiveError, Source, zip_files
from annotations.domain.formats.labelstudio import (
    labelling_config,
    read_label_studio,
    write_label_studio,
)
from annotations.domain.formats.model import (
    ExportAnnotation,
    ExportDocument,
    ExportSpan,
    FormatResult,
    ImportedDocument,
    ImportedSpan,
    Problem,
    Skipped,
)
from annotations.domain.formats.offsets import Unit
from annotations.domain.formats.plain import read_plain
from annotations.domain.formats.prodigy import read_prodigy, write_prodigy
from annotations.domain.formats.uima_cas import read_uima_cas, write_uima_xmi
from annotations.domain.formats.webanno_tsv import read_webanno_tsv
from annotations.domain.formats.webanno_tsv_write import write_webanno_tsv

__all__ = [
    "FORMATS",
    "ExportAnnotation",
    "ExportDocument",
    "ExportSpan",
    "Format",
    "FormatResult",
    "ImportedDocument",
    "ImportedSpan",
    "Problem",
    "Skipped",
    "Unit",
    "describe_formats",
    "detect_format",
    "format_name",
    "labelling_config",
    "read",
    "write",
    "zip_files",
]


@dataclass(frozen=True)
class Format:
    name: str
    option: str  # how --format names it (the name is accepted too)
    title: str
    extensions: tuple[str, ...]
    default_offsets: Unit
    other_offsets: tuple[Unit, ...]  # units --offsets also accepts
    carries: str
    does_not_carry: str
    reader: Callable[..., FormatResult]
    writer: Callable[..., Iterator[tuple[str, bytes]]] | None
    reads_coder: bool  # whether the reader accepts coder= for files that do not name one
    write_offsets: tuple[Unit, ...] = ()  # units the writer can write, its default first


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format(
            "doccano",
            "doccano",
            "doccano JSONL (and its export ZIP)",
            (".jsonl", ".zip"),
            Unit.UTF16,
            (Unit.CODEPOINTS, Unit.GRAPHEMES),
            "text, spans, metadata (title, external_id, outlet, url, published); coder from "
            "<username>.jsonl in the per-user ZIP; notes as comments "
            "'[start, end, \"CODE\"] note'",
            "relations, categories (cats, text classification), other comments and metadata "
            "keys; coders in all.jsonl (collaborative projects)",
            read_doccano,
            write_doccano,
            True,
            (Unit.UTF16, Unit.CODEPOINTS),
        ),
        Format(
            "label-studio",
            "labelstudio",
            "Label Studio JSON export",
            (".json",),
            Unit.CODEPOINTS,
            (Unit.UTF16,),
            "text, labels regions (one span per label), coder (completed_by), notes as "
            "per-region TextArea, metadata in data; writes a matching labelling config",
            "other result types (choices, textarea, rating...), relations, cancelled "
            "annotations, predictions, drafts",
            read_label_studio,
            write_label_studio,
            False,
            (Unit.CODEPOINTS, Unit.UTF16),
        ),
        Format(
            "brat",
            "brat",
            "brat standoff (.txt + .ann)",
            (".ann", ".txt", ".zip"),
            Unit.CODEPOINTS,
            (Unit.UTF16,),
            "text-bound spans, AnnotatorNotes, coder as folder; annotation.conf and "
            "framing-codes.json map codes to brat type names and back",
            "document metadata, relations, events, attributes, normalisations, discontinuous "
            "spans; line breaks at a span's edges and inside notes",
            read_brat,
            write_brat,
            True,
            (Unit.CODEPOINTS,),
        ),
        Format(
            "webanno-tsv",
            "webanno",
            "INCEpTION / WebAnno TSV 3.x",
            (".tsv", ".zip"),
            Unit.UTF16,
            (Unit.CODEPOINTS,),
            "span layers (code from 'code', NamedEntity 'value' or first feature; 'note'), "
            "coder from annotation/<document>/<user>.tsv",
            "other features, slot links, chains, relations, document metadata, text between "
            "sentences (INCEpTION rebuilds it as spaces)",
            read_webanno_tsv,
            write_webanno_tsv,
            True,
            (Unit.UTF16, Unit.CODEPOINTS),
        ),
        Format(
            "uima-cas",
            "uima",
            "UIMA CAS XMI / JSON (INCEpTION)",
            (".xmi", ".json", ".zip"),
            Unit.UTF16,
            (Unit.CODEPOINTS,),
            "span layers (code from 'code', NamedEntity 'value' or first string feature; "
            "'note'), coder from annotation/<document>/<user>.xmi; writes TypeSystem.xml",
            "document metadata, other features, relation and chain layers, segmentation, "
            "other views; XMI cannot hold control characters (such documents are left out)",
            read_uima_cas,
            write_uima_xmi,
            True,
            (Unit.UTF16,),
        ),
        Format(
            "prodigy",
            "prodigy",
            "Prodigy / spaCy JSONL",
            (".jsonl",),
            Unit.CODEPOINTS,
            (Unit.UTF16,),
            "accepted records' spans (and spaCy ents), coder (_annotator_id or "
            "_session_id), meta; notes as a 'note' key in a span",
            "rejected and ignored answers, relations, choices and text categories",
            read_prodigy,
            write_prodigy,
            False,
            (Unit.CODEPOINTS, Unit.UTF16),
        ),
        Format(
            "plain",
            "txt, csv, jsonl",
            "Framing .txt / .csv / .jsonl",
            (".txt", ".csv", ".jsonl"),
            Unit.CODEPOINTS,
            (),
            "text, metadata (title, external_id, outlet, url, published); in .jsonl "
            "(the bundle's spans.jsonl) labels in code points, the line's coder and notes",
            "other columns and keys; .txt and .csv hold no spans",
            read_plain,
            None,
            False,
        ),
    )
}


# What --format accepts besides each format's own name and option.
_ALIASES = {"auto": "auto", "txt": "plain", "csv": "plain", "jsonl": "plain"}


def format_name(option: str) -> str | None:
    """The FORMATS key (or "auto") that a --format value names; None if it names none."""
    value = option.strip().lower()
    if value in _ALIASES:
        return _ALIASES[value]
    return next((f.name for f in FORMATS.values() if value in (f.name, f.option)), None)


def read(
    name: str,
    data: Source,
    *,
    format: str = "auto",
    offsets: str | None = None,
    coder: str | None = None,
) -> FormatResult:
    """Read an upload in `format` ("auto" detects it) into the neutral model."""
    chosen = detect_format(name, data) if format == "auto" else format
    unit = offsets or "?"
    if chosen is None:
        names = ", ".join(FORMATS)
        return _refused(name, "auto", unit, f"cannot tell the format; choose one of {names}")
    spec = FORMATS.get(chosen)
    if spec is None:
        return _refused(
            name, chosen, unit, f"unknown format {chosen!r}; use one of {', '.join(FORMATS)}"
        )
    options: dict[str, Any] = {"offsets": offsets}
    if coder is not None:
        if not spec.reads_coder:
            return _refused(name, chosen, unit, f"{spec.title} names its own coders")
        options["coder"] = coder
    try:
        return spec.reader(name, data, **options)
    except (ValueError, ArchiveError) as err:
        return _refused(name, chosen, unit, str(err))


def _refused(name: str, format_name: str, unit: str, message: str) -> FormatResult:
    return FormatResult(format=format_name, offsets=unit, problems=(Problem(name, None, message),))


def write(
    format: str,
    documents: Iterable[ExportDocument],
    *,
    offsets: str | None = None,
    **options: Any,
) -> Iterator[tuple[str, bytes]]:
    """Files (relative path, bytes) for `documents` in `format`, notes last if any.

    Options: doccano ``layout="per_coder" | "single"``; Label Studio and brat
    ``codes=[...]`` (the codebook, so codes nobody used still appear in the config).
    """
    spec = FORMATS.get(format)
    if spec is None or spec.writer is None:
        writable = ", ".join(name for name, f in FORMATS.items() if f.writer)
        raise ValueError(f"cannot write {format!r}; use one of {writable}")
    return spec.writer(documents, offsets=offsets, **options)


def describe_formats() -> str:
    """The format table as Markdown, for the README and the upload page's help."""
    rows = [
        "| Format | `--format` | Files | Offsets read: default; also | Offsets written "
        "| Carried | Not carried |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for spec in FORMATS.values():
        also = ", ".join(unit.value for unit in spec.other_offsets) or "none"
        options = ", ".join(f"`{option}`" for option in spec.option.split(", "))
        written = [unit.value for unit in spec.write_offsets]
        exported = "; ".join(written) if written else "codepoints (`csv`: the bundle)"
        rows.append(
            f"| {spec.title} | {options} | {' '.join(spec.extensions)} | "
            f"{spec.default_offsets.value}; {also} | {exported} | {spec.carries} "
            f"| {spec.does_not_carry} |"
        )
    return "\n".join(rows) + "\n"

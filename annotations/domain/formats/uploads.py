"""One import's files and folders read into one result, and whose the spans become.

An import is given files (name, bytes) and folders (name, [(relative path, bytes)]). Each
folder is read as one upload; loose files are read one by one, except the files of a brat
corpus (``.txt`` beside ``.ann``) and of a UIMA CAS export (``.xmi`` beside
``TypeSystem.xml``), which only make sense together. The results merge into one: the same
text read from two files is one document with the spans of both.

`assign_coders` then decides whose each span is: ``coder`` (a username) takes every span,
``only_coder`` keeps one annotator's; a span the file names no annotator for needs
``coder``. Nothing is dropped without a `Skipped` and nothing is guessed: where the choice
is unclear the result has a problem whose message names the option that settles it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from annotations.domain.formats import FORMATS, detect_format, read
from annotations.domain.formats.files import is_zip
from annotations.domain.formats.model import (
    FormatResult,
    ImportedDocument,
    ImportedSpan,
    Problem,
    Skipped,
)

__all__ = [
    "CLI_HINTS",
    "Assigned",
    "CoderWork",
    "Hints",
    "PlannedDocument",
    "Upload",
    "assign_coders",
    "count_skipped",
    "read_upload",
]

# A file's name and bytes, or a folder's name and its files (paths relative to it).
Upload = tuple[str, bytes | Sequence[tuple[str, bytes]]]

# Formats whose loose files are read together (a brat .ann needs its .txt; an .xmi its
# TypeSystem.xml).
_TOGETHER = {"brat", "uima-cas"}
_BRAT_EXTRA = {"annotation.conf", "visual.conf", "tools.conf", "kb_shortcuts.conf"}


@dataclass(frozen=True)
class Hints:
    """How problems name the options that fix them (the CLI's flags, the page's fields)."""

    coder: str = "--coder USERNAME"
    only_coder: str = "--only-coder NAME"
    create_coders: str = "--create-coders"
    create_codes: str = "--create-codes"
    format: str = "--format"


CLI_HINTS = Hints()


def read_upload(uploads: Sequence[Upload], *, format: str = "auto", offsets: str | None = None):
    """Every file and folder of one import, read in `format`, merged into one result."""
    results = [
        _read_one(name, data, chosen, offsets) for name, data, chosen in _units(uploads, format)
    ]
    if not results:
        return FormatResult(format=format, offsets=offsets or "?", problems=(_nothing(),))
    return _merge(results)


def _nothing() -> Problem:
    return Problem("upload", None, "no files were given")


def _units(uploads: Sequence[Upload], format: str) -> list[tuple[str, object, str]]:
    """(name, data, format) for each reading: folders whole, loose files alone or together."""
    units: list[tuple[str, object, str]] = []
    loose: list[tuple[str, bytes]] = []
    for name, data in uploads:
        if isinstance(data, bytes | bytearray):
            loose.append((name, bytes(data)))
        else:
            units.append((name, list(data), format))
    if format in _TOGETHER:
        archives = [(name, data, format) for name, data in loose if is_zip(data)]
        loose = [(name, data) for name, data in loose if not is_zip(data)]
        return [*archives, *([(loose[0][0], loose, format)] if loose else []), *units]
    if format == "auto":
        together, loose = _sets(loose)
        units = [*together, *units]
    return [*((name, data, format) for name, data in loose), *units]


def _sets(loose: list[tuple[str, bytes]]):
    """Loose brat and UIMA files gathered into one reading each; the rest as they were."""
    stems = {PurePosixPath(n).with_suffix("").name for n, _ in loose if n.lower().endswith(".ann")}
    brat, uima, rest = [], [], []
    for name, data in loose:
        pure = PurePosixPath(name)
        lower = pure.name.lower()
        if stems and (
            pure.suffix.lower() == ".ann"
            or (pure.suffix.lower() == ".txt" and pure.with_suffix("").name in stems)
            or lower in _BRAT_EXTRA
            or lower == "framing-codes.json"
        ):
            brat.append((name, data))
        elif pure.suffix.lower() == ".xmi" or lower == "typesystem.xml":
            uima.append((name, data))
        else:
            rest.append((name, data))
    groups = ((brat, "brat"), (uima, "uima-cas"))
    return [(group[0][0], group, chosen) for group, chosen in groups if group], rest


def _read_one(name: str, data, format: str, offsets: str | None) -> FormatResult:
    if format == "auto" and isinstance(data, bytes) and detect_format(name, data) is None:
        suffix = PurePosixPath(name).suffix.lower()
        shown = f"'{suffix}'" if suffix else "without an extension"
        known = sorted({ext for spec in FORMATS.values() for ext in spec.extensions})
        return FormatResult(
            format="auto",
            offsets=offsets or "?",
            problems=(
                Problem(
                    name,
                    None,
                    f"unsupported file type {shown} (use {', '.join(known)}), "
                    "or name the format with --format",
                ),
            ),
        )
    return read(name, data, format=format, offsets=offsets)


def _merge(results: list[FormatResult]) -> FormatResult:
    if len(results) == 1:
        return results[0]
    by_text: dict[str, ImportedDocument] = {}
    skipped: list[Skipped] = []
    for result in results:
        skipped.extend(result.skipped)
        for document in result.documents:
            earlier = by_text.get(document.text)
            if earlier is None:
                by_text[document.text] = document
                continue
            seen = {_key(span) for span in earlier.spans}
            spans = list(earlier.spans)
            for span in document.spans:
                if _key(span) in seen:
                    skipped.append(
                        Skipped("span", span.where, "repeats an identical span", span.code)
                    )
                    continue
                seen.add(_key(span))
                spans.append(span)
            coders = tuple(dict.fromkeys([*earlier.coders, *document.coders]))
            by_text[document.text] = replace(earlier, spans=tuple(spans), coders=coders)
    return FormatResult(
        format=" + ".join(dict.fromkeys(r.format for r in results)),
        offsets=" + ".join(dict.fromkeys(r.offsets for r in results)),
        documents=tuple(by_text.values()),
        problems=tuple(p for r in results for p in r.problems),
        skipped=tuple(skipped),
    )


def _key(span: ImportedSpan) -> tuple:
    return (span.start, span.end, span.code, span.coder, span.layer)


@dataclass
class Assigned:
    """The documents with every span's coder decided, or the problems that prevent it."""

    documents: list[ImportedDocument] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def coders(self) -> list[str]:
        """Every coder named, in order of first appearance."""
        names = (c for d in self.documents for c in (*(s.coder for s in d.spans), *d.coders))
        return list(dict.fromkeys(name for name in names if name))


def assign_coders(
    documents: Sequence[ImportedDocument],
    *,
    coder: str | None = None,
    only_coder: str | None = None,
    hints: Hints = CLI_HINTS,
) -> Assigned:
    """Decide whose every span is; see the module's docstring."""
    out = Assigned()
    named = list(
        dict.fromkeys(c for d in documents for c in (*(s.coder for s in d.spans), *d.coders) if c)
    )
    if only_coder is not None:
        if only_coder not in named:
            listed = ", ".join(named) if named else "none"
            out.problems.append(
                Problem(
                    "upload",
                    None,
                    f"no span in the files is by “{only_coder}” ({hints.only_coder}); "
                    f"the annotators they name: {listed}",
                )
            )
            return out
        documents = [_only(document, only_coder, out) for document in documents]
        named = [only_coder]
    if coder is not None and len(named) > 1:
        out.problems.append(
            Problem(
                "upload",
                None,
                f"the files name {len(named)} annotators ({', '.join(named[:10])}); "
                f"{hints.coder} would give all their spans to one person: leave it out to "
                f"import each annotator's spans as theirs, or add {hints.only_coder} to "
                "import one annotator's",
            )
        )
        return out
    unnamed: list[ImportedSpan] = []
    for document in documents:
        if coder is not None:
            spans = tuple(replace(span, coder=coder) for span in document.spans)
            # The files are that person's work: every document becomes theirs (with
            # --only-coder, those where the chosen annotator worked).
            coders = (coder,) if only_coder is None or document.coders or spans else ()
            document = replace(document, spans=spans, coders=coders)
        else:
            unnamed.extend(span for span in document.spans if span.coder is None)
        out.documents.append(_unique_spans(document, out))
    if unnamed:
        first = unnamed[0].where or "upload"
        more = f" and {len(unnamed) - 1} more" if len(unnamed) > 1 else ""
        out.problems.append(
            Problem(
                first,
                None,
                f"{len(unnamed)} span{'s' if len(unnamed) != 1 else ''} ({unnamed[0].code!r}"
                f"{more}) do not say who made them: give {hints.coder} to import them as "
                "that person's",
            )
        )
    return out


def _only(document: ImportedDocument, only_coder: str, out: Assigned) -> ImportedDocument:
    kept = []
    for span in document.spans:
        if span.coder == only_coder:
            kept.append(span)
        else:
            out.skipped.append(
                Skipped(
                    "span",
                    span.where,
                    "by another annotator than the one chosen",
                    f"{span.coder or 'no annotator'}: {span.code}",
                )
            )
    coders = tuple(c for c in document.coders if c == only_coder)
    return replace(document, spans=tuple(kept), coders=coders)


def _unique_spans(document: ImportedDocument, out: Assigned) -> ImportedDocument:
    """One span per coder, code and offsets: layers a format keeps apart are one here."""
    seen: set[tuple] = set()
    kept = []
    for span in document.spans:
        key = (span.coder, span.start, span.end, span.code)
        if key in seen:
            out.skipped.append(
                Skipped(
                    "span",
                    span.where,
                    "repeats a span of the same coder, code and offsets (another layer)",
                    span.code,
                )
            )
            continue
        seen.add(key)
        kept.append(span)
    return replace(document, spans=tuple(kept))


# --- What an import reports -------------------------------------------------------------------


@dataclass
class CoderWork:
    """One annotator of the files: who they become here and what of theirs is imported."""

    name: str  # as the files name them
    username: str = ""
    new_account: bool = False
    new_member: bool = False
    documents: int = 0
    spans_new: int = 0
    spans_present: int = 0


@dataclass
class PlannedDocument:
    title: str
    outlet: str
    new: bool
    spans: int  # new spans on it


def count_skipped(skipped: Sequence[Skipped]) -> list[tuple[str, str, int, str]]:
    """(what, reason, how many, an example) for everything not imported, most first."""
    counts = Counter((item.what, item.reason) for item in skipped)
    first: dict[tuple[str, str], Skipped] = {}
    for item in skipped:
        first.setdefault((item.what, item.reason), item)
    examples = {key: f"{i.where}: {i.detail}" if i.detail else i.where for key, i in first.items()}
    return [
        (what, reason, count, examples[(what, reason)])
        for (what, reason), count in (counts.most_common())
    ]

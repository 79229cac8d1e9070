"""INCEpTION / WebAnno TSV 3.x: a reader of our own (dkpro-cassis does not read TSV).

Offsets: UTF-16 code units. INCEpTION's user guide, "WebAnno TSV 3.3 File format" /
"Encoding and Offsets": "the offsets used in the TSV format currently represent offsets of
the 16bit units in UTF-16 strings", with the example of 😊 (U+1F60A) counting 2. Framing's
NOTES agree.

The reader follows INCEpTION's own Tsv3XDeserializer: ``#FORMAT=WebAnno TSV 3.x``, layer
declarations (``#T_SP=`` span, ``#T_CH=`` chain, ``#T_RL=`` relation: ``type|feature|...``),
two blank lines, then sentence blocks of ``#Text=`` lines (one per line of the sentence)
and unit rows ``sent-tok[.sub]<TAB>begin-end<TAB>token<TAB>columns...``. The document text
is rebuilt as that deserializer does: each sentence's text is followed by a line break,
which is dropped when the next sentence starts one character earlier and topped up with
spaces when it starts later (so text between sentences is not recorded by the format).
The final line break the rebuild leaves is the format's, not the document's, and is
dropped. Column values: ``_`` no annotation, ``*`` no feature value, ``|`` separates
stacked annotations, a ``[n]`` suffix ties the rows of one multi-unit (or stacked)
annotation together, and reserved characters are escaped with a backslash (3.2+).

A span layer's code comes from its ``code`` feature if it has one, else ``value`` for
NamedEntity, else its first feature; ``note`` gives the note. Every span layer is read,
each span naming its layer. Other features with values, slot links, chains and relations
are reported as skipped. The coder comes from an INCEpTION export path
``annotation/<document>/<user>.tsv`` (also ``curation/...``) or is given by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from annotations.domain.formats.common import Collector, decode, where
from annotations.domain.formats.files import Source, entries
from annotations.domain.formats.model import FormatResult, ImportedSpan
from annotations.domain.formats.offsets import TextOffsets, Unit, parse_unit

__all__ = ["DEFAULT_UNIT", "escape_text", "escape_value", "inception_coder", "read_webanno_tsv"]

# UTF-16 code units: INCEpTION user guide, WebAnno TSV 3.3 "Encoding and Offsets".
DEFAULT_UNIT = Unit.UTF16
INITIAL_CAS = "INITIAL_CAS"  # INCEpTION's copy of the document before anyone annotated it

_FORMAT = re.compile(r"#FORMAT=WebAnno TSV (\d+)\.(\d+)")
_UNIT_ROW = re.compile(r"(\d+)-(\d+)(?:\.\d+)?")
_OFFSETS = re.compile(r"(\d+)-(\d+)")
_STACK_SEP = re.compile(r"(?<!\\)\|")
_VALUE_ESCAPES = ["\\", "[", "]", "|", "_", "->", ";", "\t", "\n", "*"]
_TEXT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", "\b": "\\b", "\\": "\\\\"}
for _code in range(32):
    if not 8 <= _code <= 13:
        _TEXT_ESCAPES[chr(_code)] = "\\" + chr(_code)
_TEXT_UNESCAPES = {escaped: raw for raw, escaped in _TEXT_ESCAPES.items()}
_TEXT_ESCAPED = re.compile("|".join(re.escape(e) for e in sorted(_TEXT_UNESCAPES, key=len)[::-1]))
_VALUE_ESCAPED = re.compile(
    "|".join(re.escape("\\" + e) for e in ["\\", "[", "]", "|", "_", "->", ";", "t", "n", "*"])
)
_VALUE_RAW = re.compile("|".join(re.escape(e) for e in _VALUE_ESCAPES))


def escape_value(value: str) -> str:
    """A feature value as TSV 3.2+ writes it (Escaping.escapeValue)."""
    table = {"\t": "\\t", "\n": "\\n"}
    return _VALUE_RAW.sub(lambda m: table.get(m.group(), "\\" + m.group()), value)


def unescape_value(value: str) -> str:
    table = {"\\t": "\t", "\\n": "\n"}
    return _VALUE_ESCAPED.sub(lambda m: table.get(m.group(), m.group()[1:]), value)


def escape_text(text: str) -> str:
    """Sentence text as TSV 3.2+ writes it (Escaping.escapeText)."""
    return "".join(_TEXT_ESCAPES.get(char, char) for char in text)


def unescape_text(text: str) -> str:
    return _TEXT_ESCAPED.sub(lambda m: _TEXT_UNESCAPES[m.group()], text)


def inception_coder(path: str) -> tuple[str, str] | None:
    """(document, user) from ``annotation/<document>/<user>.<ext>`` (or curation/)."""
    parts = PurePosixPath(path).parts
    for i in range(len(parts) - 2):
        if parts[i] in {"annotation", "curation"} and i + 3 == len(parts):
            return parts[i + 1], PurePosixPath(parts[i + 2]).stem
    return None


@dataclass
class _Column:
    layer: str
    kind: str  # span, chain, relation
    feature: str  # "" for a layer without features
    role: str = "primitive"  # primitive, slot_role, slot_target, base_type


@dataclass
class _Span:
    layer: str
    begin: int
    end: int
    line: int
    values: dict[str, str] = field(default_factory=dict)


def read_webanno_tsv(
    name: str, data: Source, *, offsets: str | None = None, coder: str | None = None
) -> FormatResult:
    unit = parse_unit(offsets, DEFAULT_UNIT)
    if unit is Unit.GRAPHEMES:
        raise ValueError("WebAnno TSV offsets are UTF-16 code units (or code points)")
    out = Collector("WebAnno TSV", unit)
    for path, content in entries(name, data):
        if not path.lower().endswith(".tsv"):
            out.skip("file", path, "not a WebAnno TSV file")
            continue
        found = inception_coder(path)
        file_coder = found[1] if found else coder
        if file_coder == INITIAL_CAS:
            out.skip("annotation", path, "INCEpTION's initial copy of the document, not a coder's")
            continue
        text, error = decode(content)
        if error:
            out.problem(path, None, error)
            continue
        _read_file(path, text, unit, file_coder, out)
    return out.result()


def _length(text: str, unit: Unit) -> int:
    if unit is Unit.UTF16:
        return sum(2 if char >= "\U00010000" else 1 for char in text)
    return len(text)


def _read_file(name: str, content: str, unit: Unit, coder: str | None, out: Collector) -> None:
    lines = [line.removesuffix("\r") for line in content.split("\n")]
    match = _FORMAT.fullmatch(lines[0].strip()) if lines else None
    if match is None or match.group(1) != "3":
        out.problem(
            name, 1, "not a WebAnno TSV 3 file (the first line must be '#FORMAT=WebAnno TSV 3.x')"
        )
        return
    minor = int(match.group(2))
    columns, body = _schema(lines)
    pieces: list[str] = []
    length = 0  # of the rebuilt text, in `unit`
    sentence: list[str] = []
    in_header = False
    rows: list[tuple[int, str, int, int, str, list[str]]] = []
    for number, line in enumerate(lines[body:], start=body + 1):
        if line.startswith("#"):
            if line.startswith("#Text="):
                fragment = line[len("#Text=") :]
                sentence.append(_unescape_text(fragment, minor) + "\n")
            in_header = True
            continue
        if not line.strip():
            continue
        fields = line.split("\t")
        row = _UNIT_ROW.fullmatch(fields[0])
        offsets = _OFFSETS.fullmatch(fields[1]) if len(fields) > 1 else None
        if row is None or offsets is None or len(fields) < 3 + len(columns):
            out.problem(name, number, f"not a token row with {3 + len(columns)} columns")
            return
        begin, end = int(offsets.group(1)), int(offsets.group(2))
        if in_header:  # the first unit of a sentence: place the sentence's text
            if length > begin:
                if length != begin + 1 or not pieces or not pieces[-1].endswith("\n"):
                    out.problem(
                        name,
                        number,
                        f"the sentence starts at {begin}, inside the text of the previous sentence",
                    )
                    return
                pieces[-1] = pieces[-1][:-1]
                length -= 1
            elif length < begin:
                pieces.append(" " * (begin - length))
                length = begin
            sentence_text = "".join(sentence)
            pieces.append(sentence_text)
            length += _length(sentence_text, unit)
            sentence, in_header = [], False
        rows.append((number, fields[0], begin, end, fields[2], fields[3:]))
    raw = "".join(pieces).removesuffix("\n")
    if not raw.strip():
        out.problem(name, None, "the file holds no text")
        return
    text_offsets = TextOffsets(raw, unit)
    for number, _ident, begin, end, token, _values in rows:
        checked = text_offsets.span(begin, end)
        if isinstance(checked, str):
            out.problem(name, number, f"token {token!r}: {checked}")
            return
        covered = text_offsets.raw[_raw(text_offsets, begin) : _raw(text_offsets, end)]
        if covered not in (token, unescape_text(token)):
            out.problem(
                name,
                number,
                f"token {token!r} does not match the text at {begin}–{end} ({covered!r})",
            )
            return
    document = out.document(raw, {}, name)
    spans = _annotations(name, columns, rows, out)
    _add_spans(name, columns, spans, document, text_offsets, coder, out)
    if coder is not None:
        out.coder(document, coder)


def _raw(offsets: TextOffsets, position: int) -> int:
    return offsets.index(offsets.unit).to_codepoint(position) or 0


def _unescape_text(fragment: str, minor: int) -> str:
    if minor <= 1:  # TSV 3.0 and 3.1 used Java escapes (StringEscapeUtils.unescapeJava)
        fragment = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), fragment)
    return unescape_text(fragment)


def _schema(lines: list[str]) -> tuple[list[_Column], int]:
    """The columns declared in the header, and the index of the first body line."""
    columns: list[_Column] = []
    kinds = {"#T_SP=": "span", "#T_CH=": "chain", "#T_RL=": "relation"}
    index = 1
    while index < len(lines) and lines[index][:6] in kinds:
        kind = kinds[lines[index][:6]]
        layer, *features = [part for part in lines[index][6:].split("|") if part]
        if not features:
            columns.append(_Column(layer, kind, ""))
        previous_role = ""
        for feature in features:
            if kind == "span" and feature.startswith("ROLE_"):
                columns.append(_Column(layer, kind, feature, "slot_role"))
            elif kind == "relation" and feature.startswith("BT_"):
                columns.append(_Column(layer, kind, feature, "base_type"))
            elif previous_role == "slot_role":
                columns.append(_Column(layer, kind, feature, "slot_target"))
            else:
                columns.append(_Column(layer, kind, feature))
            previous_role = columns[-1].role
        index += 1
    return columns, index


def _annotations(name: str, columns: list[_Column], rows: list[Any], out: Collector) -> list[_Span]:
    spans: dict[tuple[Any, ...], _Span] = {}
    reported: set[tuple[str, str, str]] = set()
    for number, ident, begin, end, _token, values in rows:
        for column, cell in zip(columns, values, strict=False):
            if cell == "_":
                continue
            if column.kind != "span":  # one report per relation or chain element
                for stack, value in enumerate(_STACK_SEP.split(cell)):
                    key = (column.layer, ident, str(stack))
                    if key not in reported:
                        reported.add(key)
                        what = "chain" if column.kind == "chain" else "relation"
                        out.skip(
                            "relation",
                            where(name, number),
                            f"{what} layers are not imported",
                            f"{column.layer}: {value}",
                        )
                continue
            if column.role != "primitive":
                out.skip(
                    "attribute",
                    where(name, number),
                    "slot features (links) are not imported",
                    f"{column.layer}|{column.feature}: {cell}",
                )
                continue
            for stack, value in enumerate(_STACK_SEP.split(cell)):
                ident_key = None
                if value.endswith("]") and not value.endswith("\\]") and "[" in value:
                    ident_key = value[value.rindex("[") + 1 : -1]
                    value = value[: value.rindex("[")]
                key = ("id", ident_key) if ident_key else (column.layer, ident, stack)
                span = spans.get(key)
                if span is None:
                    span = spans[key] = _Span(column.layer, begin, end, number)
                span.begin, span.end = min(span.begin, begin), max(span.end, end)
                if value != "*" and column.feature:
                    span.values.setdefault(column.feature, unescape_value(value))
    return list(spans.values())


def _code_feature(layer: str, features: list[str]) -> str:
    if "code" in features:
        return "code"
    if layer.endswith(".NamedEntity") and "value" in features:
        return "value"
    return next((feature for feature in features if feature), "")


def _add_spans(
    name: str,
    columns: list[_Column],
    spans: list[_Span],
    document: Any,
    offsets: TextOffsets,
    coder: str | None,
    out: Collector,
) -> None:
    features: dict[str, list[str]] = {}
    for column in columns:
        if column.kind == "span" and column.role == "primitive":
            features.setdefault(column.layer, []).append(column.feature)
    for span in spans:
        place = where(name, span.line)
        code_feature = _code_feature(span.layer, features.get(span.layer, []))
        code = span.values.get(code_feature)
        if not code:
            reason = (
                f"has no value in feature '{code_feature}'"
                if code_feature
                else "its layer has no feature to take a code from"
            )
            out.skip("span", place, reason, span.layer)
            continue
        for feature, value in span.values.items():
            if feature not in (code_feature, "note"):
                out.skip(
                    "attribute",
                    place,
                    "feature not imported",
                    f"{span.layer}|{feature}={value:.40}",
                )
        converted = offsets.span(span.begin, span.end)
        if isinstance(converted, str):
            out.problem(name, span.line, converted)
            continue
        out.span(
            document,
            ImportedSpan(
                start=converted[0],
                end=converted[1],
                code=code,
                coder=coder,
                note=span.values.get("note", "") if code_feature != "note" else "",
                layer=span.layer,
                where=place,
            ),
        )

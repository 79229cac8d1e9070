"""UIMA CAS (XMI and JSON) through dkpro-cassis: INCEpTION's own formats.

Offsets: UTF-16 code units in the file. UIMA is Java and counts Java string indices;
INCEpTION issue #1811 (jcklie: "The offsets in UIMA are not in Unicode codepoints, but in
how many UTF-16 units you need") and dkpro-cassis issue #135 / PR #136, after which
cassis's ``Utf16CodepointOffsetConverter`` maps UTF-16 offsets to Python code points when
it loads XMI or JSON and back when it saves (cassis 0.12, cas.py, xmi.py, json.py).
Framing reads the begin/end *as written in the file* (so ``--offsets codepoints`` can read
a CAS written by a tool that got this wrong, and an offset inside a surrogate pair is
refused rather than passed through, which is what cassis does with a warning) and takes
types, features and the text from cassis.

Spans are the annotations of span layers: every ``uima.tcas.Annotation`` subtype except
segmentation and metadata (Token, Sentence, DocumentMetaData...), which are reported once
per type, and relation or chain layers (features Governor/Dependent, or next), which are
reported as skipped. The code is the ``code`` feature if the layer has one, ``value`` for
NamedEntity, else the layer's first string feature; ``note`` gives the note. The coder
comes from the INCEpTION export path ``annotation/<document>/<user>.xmi`` or the caller;
the TypeSystem.xml is taken from the same folder, else from anywhere in the upload (JSON
CAS files carry their own types).
"""

from __future__ import annotations

import io
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any

from cassis import Cas, TypeSystem, load_cas_from_json, load_cas_from_xmi, load_typesystem
from lxml import etree

from annotations.domain.formats.common import Collector
from annotations.domain.formats.files import (
    Notes,
    Source,
    entries,
    json_problem,
    loads,
    unique_names,
)
from annotations.domain.formats.model import ExportDocument, FormatResult, ImportedSpan
from annotations.domain.formats.offsets import TextOffsets, Unit, parse_unit
from annotations.domain.formats.webanno_tsv import INITIAL_CAS, inception_coder
from annotations.domain.formats.webanno_tsv_write import LAYER, sentences_for, tokens_for

__all__ = ["DEFAULT_UNIT", "read_uima_cas", "write_uima_xmi"]

# UTF-16 code units: INCEpTION issue #1811, dkpro-cassis #135/#136 (see above).
DEFAULT_UNIT = Unit.UTF16
TYPESYSTEM_FILE = "TypeSystem.xml"
ANNOTATION = "uima.tcas.Annotation"
TOKEN = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Token"  # noqa: S105
SENTENCE = "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.Sentence"
_STRUCTURAL = (
    "uima.tcas.DocumentAnnotation",
    "de.tudarmstadt.ukp.dkpro.core.api.segmentation.type.",
    "de.tudarmstadt.ukp.dkpro.core.api.metadata.type.",
    "de.tudarmstadt.ukp.dkpro.core.api.lexmorph.type.",
    "de.tudarmstadt.ukp.clarin.webanno.api.type.",
    "de.tudarmstadt.ukp.inception.",
)
_XMI_ID = "{http://www.omg.org/XMI}id"
_STRING = "uima.cas.String"
# Characters XML 1.0 cannot hold, not even as character references.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def read_uima_cas(
    name: str, data: Source, *, offsets: str | None = None, coder: str | None = None
) -> FormatResult:
    unit = parse_unit(offsets, DEFAULT_UNIT)
    out = Collector("UIMA CAS", unit)
    files = entries(name, data)
    typesystems = {
        str(PurePosixPath(path).parent): content
        for path, content in files
        if PurePosixPath(path).name.lower() == TYPESYSTEM_FILE.lower()
    }
    for path, content in files:
        pure = PurePosixPath(path)
        suffix = pure.suffix.lower()
        if pure.name.lower() == TYPESYSTEM_FILE.lower():
            continue
        if suffix not in {".xmi", ".json"}:
            out.skip("file", path, "not a UIMA CAS XMI or JSON file")
            continue
        found = inception_coder(path)
        file_coder = found[1] if found else coder
        if file_coder == INITIAL_CAS:
            out.skip("annotation", path, "INCEpTION's initial copy of the document, not a coder's")
            continue
        if suffix == ".xmi":
            typesystem = typesystems.get(str(pure.parent)) or next(iter(typesystems.values()), None)
            if typesystem is None:
                out.problem(
                    path,
                    None,
                    "needs the TypeSystem.xml that INCEpTION exports with "
                    "it; upload both (a ZIP with the folder is fine)",
                )
                continue
            _read_xmi(path, content, typesystem, file_coder, out)
        else:
            _read_json(path, content, file_coder, out)
    return out.result()


def _load(loader: Any, *args: Any, **kwargs: Any) -> Any:
    # cassis warns (and passes the offset through) where an offset falls inside a surrogate
    # pair; Framing checks the raw offsets itself and refuses those spans.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return loader(*args, **kwargs)


def _read_xmi(
    path: str, content: bytes, typesystem_xml: bytes, coder: str | None, out: Collector
) -> None:
    try:
        typesystem = _load(load_typesystem, io.BytesIO(typesystem_xml))
        cas = _load(load_cas_from_xmi, io.BytesIO(content), typesystem=typesystem, lenient=True)
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(content, parser)
    except Exception as err:
        out.problem(path, None, f"cannot read this XMI: {err}")
        return
    raw = {
        int(element.get(_XMI_ID)): (element.get("begin"), element.get("end"))
        for element in root.iter()
        if element.get(_XMI_ID) is not None and element.get("begin") is not None
    }
    _read_cas(path, cas, raw, coder, out)


def _read_json(path: str, content: bytes, coder: str | None, out: Collector) -> None:
    try:
        document = loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        out.problem(path, None, "invalid UTF-8; save the file with UTF-8 encoding")
        return
    except ValueError as err:
        out.problem(path, None, json_problem(err))
        return
    try:
        if not isinstance(document, dict) or "%FEATURE_STRUCTURES" not in document:
            out.skip("file", path, "a JSON file that is not a UIMA JSON CAS")
            return
        cas = _load(load_cas_from_json, io.BytesIO(content), lenient=True)
    except Exception as err:
        out.problem(path, None, f"cannot read this JSON CAS: {err}")
        return
    raw = {
        int(fs["%ID"]): (fs.get("begin"), fs.get("end"))
        for fs in document["%FEATURE_STRUCTURES"]
        if isinstance(fs, dict) and "%ID" in fs and "begin" in fs
    }
    _read_cas(path, cas, raw, coder, out)


def _read_cas(
    path: str, cas: Cas, raw: dict[int, tuple[Any, Any]], coder: str | None, out: Collector
) -> None:
    text = cas.sofa_string
    if not isinstance(text, str) or not text.strip():
        out.problem(path, None, "the CAS has no document text")
        return
    for view in cas.views:
        if view.sofa.sofaID != "_InitialView":
            out.skip(
                "layer",
                path,
                "CAS views other than the initial view are not imported",
                view.sofa.sofaID,
            )
    document = out.document(text, {}, path)
    offsets = TextOffsets(text, out.unit)
    structural: Counter[str] = Counter()
    typesystem = cas.typesystem
    for fs in cas.select_all_annotations():
        type_name = fs.type.name
        if not typesystem.is_instance_of(type_name, ANNOTATION):
            continue
        if type_name.startswith(_STRUCTURAL):
            structural[type_name] += 1
            continue
        features = {f.name: f for f in fs.type.all_features}
        label = f"{fs.type.short_name} {fs.xmiID}"
        place = f"{path}, {label}"
        if {"Governor", "Dependent"} <= features.keys() or "next" in features:
            out.skip("relation", place, "relation and chain layers are not imported", type_name)
            continue
        _read_span(path, label, fs, features, raw, offsets, document, coder, out)
    for type_name, count in structural.items():
        out.skip(
            "layer", path, "segmentation and metadata are not imported", f"{type_name} ×{count}"
        )
    if coder is not None:
        out.coder(document, coder)


def _code_feature(type_name: str, features: dict[str, Any]) -> str:
    strings = [n for n, f in features.items() if f.rangeType.name == _STRING and n != "note"]
    if "code" in strings:
        return "code"
    if type_name.endswith(".NamedEntity") and "value" in strings:
        return "value"
    return strings[0] if strings else ""


def _read_span(
    path: str,
    label: str,
    fs: Any,
    features: dict[str, Any],
    raw: dict[int, tuple[Any, Any]],
    offsets: TextOffsets,
    document: Any,
    coder: str | None,
    out: Collector,
) -> None:
    type_name = fs.type.name
    place = f"{path}, {label}"
    code_feature = _code_feature(type_name, features)
    code = fs.get(code_feature) if code_feature else None
    if not code:
        reason = (
            f"has no value in feature '{code_feature}'"
            if code_feature
            else "its layer has no string feature to take a code from"
        )
        out.skip("span", place, reason, type_name)
        return
    skip = {"begin", "end", "sofa", code_feature, "note"}
    for name in features:
        value = fs.get(name)
        if name not in skip and value not in (None, "", [], False):
            out.skip("attribute", place, "feature not imported", f"{name}={str(value)[:40]}")
    begin, end = raw.get(fs.xmiID, (None, None))
    try:
        begin, end = int(begin), int(end)
    except (TypeError, ValueError):
        out.problem(path, None, f"{label}: has no readable begin and end")
        return
    converted = offsets.span(begin, end)
    if isinstance(converted, str):
        out.problem(path, None, f"{label}: {converted}")
        return
    note = fs.get("note") if "note" in features and code_feature != "note" else ""
    out.span(
        document,
        ImportedSpan(
            start=converted[0],
            end=converted[1],
            code=str(code),
            coder=coder,
            note=note or "",
            layer=type_name,
            where=place,
        ),
    )


def framing_typesystem() -> TypeSystem:
    """Token, Sentence (so INCEpTION can show the text) and the Framing span layer."""
    typesystem = TypeSystem()
    typesystem.create_type(SENTENCE, supertypeName=ANNOTATION)
    typesystem.create_type(TOKEN, supertypeName=ANNOTATION)
    layer = typesystem.create_type(LAYER, supertypeName=ANNOTATION)
    typesystem.create_feature(layer, "code", _STRING)
    typesystem.create_feature(layer, "note", _STRING)
    return typesystem


def write_uima_xmi(
    documents: Iterable[ExportDocument], *, offsets: str | None = None
) -> Iterator[tuple[str, bytes]]:
    """``annotation/<document>/<annotator>.xmi`` (UTF-16 offsets, as UIMA requires) and
    ``TypeSystem.xml``."""
    if parse_unit(offsets, DEFAULT_UNIT) is not Unit.UTF16:
        raise ValueError("UIMA CAS offsets are always UTF-16 code units")
    typesystem = framing_typesystem()
    notes = Notes("UIMA CAS XMI")
    names: dict[str, str] = {}
    folders: dict[str, str] = {}
    for document in documents:
        if _not_xml(document):
            notes.add(
                f"Document {document.id} holds control characters that XML 1.0 cannot "
                "hold; it is left out (WebAnno TSV can carry it)."
            )
            continue
        folders.update(unique_names([*folders, document.id]))
        for annotation in document.annotations:
            if annotation.annotator not in names:
                names.update(unique_names([*names, annotation.annotator]))
            xmi = _cas(typesystem, document.text, annotation.spans).to_xmi()
            path = f"annotation/{folders[document.id]}/{names[annotation.annotator]}.xmi"
            yield path, xmi.encode("utf-8")
    yield TYPESYSTEM_FILE, typesystem.to_xml().encode("utf-8")
    for annotator, name in names.items():
        if name != annotator:
            notes.add(f"Annotator {annotator!r} is written as {name}.xmi.")
    yield from notes.files()


def _not_xml(document: ExportDocument) -> bool:
    strings = [document.text] + [
        value for a in document.annotations for s in a.spans for value in (s.code, s.note)
    ]
    return any(_XML_INVALID.search(value) for value in strings)


def _cas(typesystem: TypeSystem, text: str, spans: Iterable[Any]) -> Cas:
    spans = sorted(spans, key=lambda s: (s.start, -s.end, s.code))
    cas = Cas(typesystem=typesystem)
    cas.sofa_string = text
    tokens, covered = tokens_for(text, spans)
    sentence_type, token_type = typesystem.get_type(SENTENCE), typesystem.get_type(TOKEN)
    for first, _last, end in sentences_for(text, tokens, covered):
        cas.add(sentence_type(begin=tokens[first][0], end=end))
    for start, stop in tokens:
        cas.add(token_type(begin=start, end=stop))
    layer = typesystem.get_type(LAYER)
    for span in spans:
        cas.add(layer(begin=span.start, end=span.end, code=span.code, note=span.note or None))
    return cas

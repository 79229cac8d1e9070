"""Round trips through the services: a project exported in every format by the real export
selectors and imported into a new project by the real import pipeline holds the same
spans: offsets, codes, coders and notes, on texts with emoji, combining accents, Khmer,
newlines and curly quotes, in each offset unit a format can be written in."""

from __future__ import annotations

import pytest

from annotations import forms
from annotations.domain.formats import FORMATS, zip_files
from annotations.models import Role, Span
from annotations.permissions import export_scope
from annotations.selectors.export import doccano
from annotations.selectors.export import formats as tool_formats
from annotations.services import assignments, imports, spans

pytestmark = pytest.mark.django_db

HARD = (
    "“Framing” 👩🏽\u200d🔬 said cafe\u0301 👍🏿 twice.\n\n"
    "ភាសាខ្មែរ — 👨\u200d👩\u200d👧\u200d👦 family ‘quoted’ end.\n"
    "Last line"
)
SECOND = "Plain second document.\nWith 😀 emoji and “quotes”."
# (document, coder, piece, code, note): nested, overlapping, across a blank line, notes.
SPANS = [
    (0, "alice", "“Framing”", "Quote", "opening quote"),
    (0, "alice", "👩🏽\u200d🔬 said", "Actor", ""),
    (0, "alice", "👩🏽\u200d🔬", "Emoji", "a ZWJ sequence"),
    (0, "alice", "cafe\u0301 👍🏿", "Combining", ""),
    (0, "alice", "ភាសាខ្មែរ", "Khmer", "Khmer script, ‘quoted’"),
    (0, "alice", "twice.\n\nភាសា", "Across lines", ""),
    (0, "bob", "👩🏽\u200d🔬 said cafe\u0301", "Actor", ""),
    (0, "bob", "‘quoted’", "Quote", "curly"),
    (1, "alice", "😀", "Emoji", ""),
    (1, "bob", "“quotes”", "Quote", "the last one"),
]
CASES = [
    (FORMATS[name].option, unit.value)
    for name, units in tool_formats.WRITER_UNITS.items()
    for unit in units
]


@pytest.fixture
def source(make_project, make_user, member, add_document):
    project = make_project("Round trip", codes=())
    manager = member(project, make_user("rt_manager"), Role.MANAGER)
    coders = {name: member(project, make_user(name)) for name in ("alice", "bob")}
    documents = [add_document(project, HARD, "hard.txt"), add_document(project, SECOND, "b.txt")]
    for number, name, piece, code, note in SPANS:
        document = documents[number]
        assignment = assignments.assignment_ensure(document=document, coder=coders[name])
        start = document.text.index(piece)
        spans.spans_import(
            assignment=assignment,
            spans=[spans.ImportedSpan(start, start + len(piece), _code(project, code), note)],
            actor=None,
            source="test",
        )
    return project, project.memberships.get(user=manager)


def _code(project, name):
    from annotations.services import codebook

    found = project.codebook.codes.filter(name=name).first()
    return found or codebook.code_create(codebook=project.codebook, name=name)


def stored(project) -> set[tuple]:
    return {
        (
            s.assignment.document.text,
            s.start,
            s.end,
            s.code.name,
            s.assignment.coder.username,
            s.note,
        )
        for s in Span.objects.live()
        .filter(assignment__document__project=project)
        .select_related("assignment__document", "assignment__coder", "code")
    }


def test_the_source_project_holds_every_hard_case(source):
    project, _ = source
    held = stored(project)
    assert len(held) == len(SPANS)
    for text, start, end, *_ in held:
        assert text[start:end] in {piece for _, _, piece, _, _ in SPANS}


@pytest.mark.parametrize(("option", "offsets"), CASES)
def test_export_then_import_gives_the_same_spans(source, make_project, option, offsets):
    project, manager = source
    spec = export_scope(forms.export_spec(project, names=True), manager)
    name = next(n for n, f in FORMATS.items() if f.option == option)
    written = list(tool_formats.format_files(project, spec, name, offsets))
    target = make_project(f"Copy {option} {offsets}", codes=())
    outcome = imports.import_files(
        project=target,
        files=[("export.zip", zip_files(written))],
        options=imports.ImportOptions(
            format=option, offsets=offsets, create_coders=True, create_codes=True
        ),
    )
    assert outcome.ok, [str(p) for p in outcome.problems]
    assert stored(target) == stored(project)
    # Only what the export adds for the tool: its notes, a labelling config, the tokens and
    # sentences INCEpTION needs to show a CAS.
    extras = {"file", "layer: segmentation and metadata are not imported"}
    left_out = {s.what if s.what == "file" else f"{s.what}: {s.reason}" for s in outcome.skipped}
    assert left_out <= extras, [str(s) for s in outcome.skipped]
    again = imports.import_files(
        project=target,
        files=[("export.zip", zip_files(written))],
        options=imports.ImportOptions(format=option, offsets=offsets),
    )
    assert again.ok and again.created == [] and again.spans_created == 0
    assert again.spans_present == len(SPANS)
    assert stored(target) == stored(project)


def test_the_bundles_jsonl_round_trips_with_notes(source, make_project):
    project, manager = source
    spec = export_scope(forms.export_spec(project, names=True), manager)
    data = "".join(doccano.doccano_chunks(project, spec)).encode()
    target = make_project("Copy jsonl", codes=())
    outcome = imports.import_files(
        project=target,
        files=[("spans.jsonl", data)],
        options=imports.ImportOptions(format="jsonl", create_coders=True, create_codes=True),
    )
    assert outcome.ok, [str(p) for p in outcome.problems]
    assert stored(target) == stored(project)


def test_a_format_is_detected_when_not_named(source, make_project):
    project, manager = source
    spec = export_scope(forms.export_spec(project, names=True), manager)
    for name in ("label-studio", "brat", "uima-cas", "webanno-tsv"):
        written = list(tool_formats.format_files(project, spec, name, None))
        target = make_project(f"Detected {name}", codes=())
        outcome = imports.import_files(
            project=target,
            files=[("export.zip", zip_files(written))],
            options=imports.ImportOptions(create_coders=True, create_codes=True),
        )
        assert outcome.ok, (name, [str(p) for p in outcome.problems])
        assert stored(target) == stored(project), name

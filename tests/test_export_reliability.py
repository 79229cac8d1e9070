"""The analysis files: reliability matrices that are exactly an agreement run's input (its
per-code nominal alpha reproduced through README.txt's own one-liner with the krippendorff
package), file names unique by construction, and spans.csv's span ids and gold sources."""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from django.core.management import call_command

from annotations import forms
from annotations.domain.export_readme import PYTHON_ONE_LINER, RELIABILITY_PLACEHOLDER
from annotations.domain.settling import Action
from annotations.models import AssignmentStatus, Role, RunStatus
from annotations.permissions import export_scope
from annotations.selectors.agreement import run_result
from annotations.selectors.export import files
from annotations.services import agreement, assignments, review, spans
from annotations.services.agreement import RunSettings

pytestmark = pytest.mark.django_db

TEXTS = [
    "Officials said the “confession” was voluntary. Critics called it a sham.",
    "Le 👩\u200d🔬 a dit « non », puis partit. Hun Sen spoke at length.",
    "ភាសាខ្មែរ is written here. The court met on Monday and adjourned.",
    "A fourth text with café and cafe\u0301 in it, coded by one coder only.",
]
# (document, coder, piece, code)
WORK = [
    (0, "a", "Officials said", "Sourcing"),
    (0, "b", "Officials", "Sourcing"),
    (0, "c", "Critics called", "Sourcing"),
    (0, "a", "sham", "Loaded"),
    (0, "b", "a sham", "Loaded"),
    (1, "a", "👩\u200d🔬 a dit", "Sourcing"),
    (1, "b", "« non »", "Loaded"),
    (1, "c", "👩\u200d🔬", "Sourcing"),
    (1, "c", "Hun Sen", "Sourcing"),
    (2, "a", "ភាសាខ្មែរ", "Loaded"),
    (2, "b", "ភាសាខ្មែរ is", "Loaded"),
    (2, "b", "The court", "Sourcing"),
    (3, "a", "café", "Loaded"),
]
# Coder c's work on text 2 and b's on text 3 stay in progress: they count only for a run
# that includes work in progress.
IN_PROGRESS = {(2, "c"), (1, "b")}


@pytest.fixture
def project(make_project, make_user, member, add_document):
    project = make_project("Reliability", codes=("Sourcing", "Loaded"))
    coders = {key: member(project, make_user(f"rel_{key}")) for key in "abc"}
    member(project, make_user("rel_manager"), Role.MANAGER)
    codes = {c.name: c for c in project.codebook.codes.all()}
    documents = [add_document(project, text, f"t{n}.txt") for n, text in enumerate(TEXTS)]
    for number, document in enumerate(documents):
        for key, coder in coders.items():
            if number == 3 and key != "a":
                continue
            assignment = assignments.assignment_ensure(document=document, coder=coder)
            for doc, who, piece, code in WORK:
                if (doc, who) == (number, key):
                    start = document.text.index(piece)
                    spans.span_create(
                        assignment=assignment,
                        code_id=codes[code].pk,
                        start=start,
                        end=start + len(piece),
                        quote=piece,
                    )
            status = AssignmentStatus.IN_PROGRESS
            if (number, key) not in IN_PROGRESS:
                status = AssignmentStatus.DONE
            assignments.assignment_set_status(assignment=assignment, status=status)
    return project


def finished_run(project, include_in_progress: bool):
    settings = RunSettings(
        unit=project.agreement_unit, n_bootstrap=50, include_in_progress=include_in_progress
    )
    run = agreement.agreement_request(project=project, run_settings=settings, enqueue=False).run
    run = agreement.agreement_execute(run_id=run.pk)
    assert run.status == RunStatus.DONE
    return run


def bundle(project, **options) -> dict[str, bytes]:
    manager = project.memberships.get(role=Role.MANAGER)
    spec = export_scope(forms.export_spec(project, **options), manager)
    data = b"".join(files.zip_chunks(files.export_files(project, spec)))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def one_liner(readme: str) -> str:
    """The Python one-liner as README.txt prints it."""
    line = next(line for line in readme.splitlines() if line.strip().startswith("Python:  import"))
    code = line.split("Python:", 1)[1].strip()
    assert code == PYTHON_ONE_LINER
    return code


def alpha_from_readme(readme: str, path: Path) -> float:
    code = one_liner(readme).replace(RELIABILITY_PLACEHOLDER, str(path))
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(code, {})  # noqa: S102 - the README's own instruction, run as a researcher would
    return float(printed.getvalue())


@pytest.mark.parametrize("include_in_progress", [False, True])
@pytest.mark.parametrize("flavour", ["analysis", "excel"])
def test_the_matrices_reproduce_every_per_code_nominal_alpha_of_the_run(
    project, tmp_path, include_in_progress, flavour
):
    run = finished_run(project, include_in_progress)
    result = run_result(run)
    exported = bundle(project, flavour=flavour)  # the default bundle: all work, all documents
    readme = exported["README.txt"].decode("utf-8")
    assert f"the input of run {run.pk}" in readme
    checked = 0
    for code in project.codebook.codes.all():
        name = next(n for n in exported if n.startswith(f"reliability_{code.pk}_"))
        path = tmp_path / name
        path.write_bytes(exported[name])
        expected = result.value("alpha_nominal", code.name)
        assert expected is not None
        assert math.isclose(alpha_from_readme(readme, path), expected, abs_tol=1e-9), code.name
        checked += 1
    assert checked == 2
    agreement_rows = list(
        csv.DictReader(io.StringIO(exported["agreement.csv"].decode("utf-8-sig")))
    )
    for row in agreement_rows:
        if row["coefficient"] == "alpha_nominal" and row["scope"] == "corpus" and row["code"]:
            assert row["run"] == str(run.pk)
            assert row["include_in_progress"] == str(include_in_progress).lower()
            assert math.isclose(float(row["value"]), result.value("alpha_nominal", row["code"]))


def test_matrices_hold_only_documents_two_counted_coders_share(project):
    finished_run(project, include_in_progress=False)
    exported = bundle(project)
    code = project.codebook.codes.get(name="Sourcing")
    rows = list(
        csv.DictReader(io.StringIO(exported[f"reliability_{code.pk}_Sourcing.csv"].decode()))
    )
    documents = {int(row["document_id"]) for row in rows}
    ids = list(project.documents.order_by("pk").values_list("pk", flat=True))
    # Text 3 has one coder; on text 1 only a and c are done; on text 2 only a and b.
    assert documents == set(ids[:3])
    assert list(rows[0]) == [
        "document_id",
        "unit_start",
        "unit_end",
        "Coder A",
        "Coder B",
        "Coder C",
    ]
    on_two = [row for row in rows if int(row["document_id"]) == ids[2]]
    assert {row["Coder C"] for row in on_two} == {""}  # in progress: missing, not 0


def test_the_readme_says_when_work_changed_after_the_run(project):
    finished_run(project, include_in_progress=False)
    assert "changed after that run" not in bundle(project)["README.txt"].decode()
    assignment = project.documents.first().assignments.first()
    assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.IN_PROGRESS)
    assert "changed after that run" in bundle(project)["README.txt"].decode()


def test_reliability_file_names_are_unique_in_the_bundle_and_the_command(
    make_project, add_document, make_user, member, tmp_path
):
    project = make_project("Names", codes=("q_r_13", "q r", "q_r"))
    member(project, make_user("n_manager"), Role.MANAGER)
    document = add_document(project, "Alpha beta gamma.")
    for name in ("n_a", "n_b"):
        assignment = assignments.assignment_ensure(
            document=document, coder=member(project, make_user(name))
        )
        assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    names = [n for n in bundle(project) if n.startswith("reliability_")]
    assert len(names) == len({n.lower() for n in names}) == 3
    call_command("export_corpus", project.name, str(tmp_path), stdout=io.StringIO())
    assert sorted(p.name for p in tmp_path.glob("reliability_*")) == sorted(names)


def test_spans_csv_has_stable_ids_and_gold_rows_name_their_sources(study):
    project, codes = study["project"], study["codes"]
    text = study["document"].text
    made = {}
    for key in ("assignment_a", "assignment_b"):
        start = text.index("Officials")
        made[key] = spans.span_create(
            assignment=study[key],
            code_id=codes["Sourcing"].pk,
            start=start,
            end=start + len("Officials"),
            quote="Officials",
        )
        assignments.assignment_set_status(assignment=study[key], status=AssignmentStatus.DONE)
    count = review.gold_accept_agreed(document=study["document"], actor=study["reviewer"])
    assert count == 1
    reviewer = project.memberships.get(user=study["reviewer"])
    spec = export_scope(forms.export_spec(project, layer="all"), reviewer)
    rows = list(csv.DictReader(io.StringIO("".join(files.spans_csv_chunks(project, spec)))))
    coder_rows = [r for r in rows if r["layer"] == "coder"]
    assert {r["span_id"] for r in coder_rows} == {f"s{s.pk}" for s in made.values()}
    (gold,) = [r for r in rows if r["layer"] == "gold"]
    assert re.fullmatch(r"g\d+", gold["span_id"])
    assert set(gold["source_span_ids"].split()) == {r["span_id"] for r in coder_rows}
    assert gold["source_coders"] == "Coder A | Coder B"
    assert (gold["provenance"], gold["settling_action"]) == ("unanimous", Action.ACCEPT_AGREED)
    again = list(csv.DictReader(io.StringIO("".join(files.spans_csv_chunks(project, spec)))))
    assert [r["span_id"] for r in again] == [r["span_id"] for r in rows]
    assert all(r["settling_action"] == "" for r in coder_rows)

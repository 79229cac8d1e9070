"""agreement.csv from a real run: the rows come from what the report produced.

The stored result once had intervals as {"low", "high", "resamples"} while the export read
two-item lists, so every ci_low/ci_high was empty and tests fed the export shapes the
report never makes. These tests compute a run through the service and read it back.
"""

from __future__ import annotations

import csv
import io

import pytest

from annotations import forms
from annotations.domain.agreement.result import AgreementResult
from annotations.domain.export import iter_csv
from annotations.models import AssignmentStatus
from annotations.selectors.export.agreement import AGREEMENT_COLUMNS, agreement_rows
from annotations.services import agreement as service
from annotations.services import assignments, imports, spans

pytestmark = pytest.mark.django_db

TEXTS = [
    "Officials said the “confession” was voluntary. Critics called it a sham and a farce.",
    "The minister said foreign agents paid the protesters, state media reported.",
    "Observers called the trial unfair; the court said the evidence was clear.",
]
PHRASES = {
    "a": [("Sourcing", "said"), ("Loaded language", "sham"), ("Sourcing", "reported")],
    "b": [("Sourcing", "said"), ("Loaded language", "a sham"), ("Loaded language", "unfair")],
}


@pytest.fixture
def run(study):
    project = study["project"]
    docs = [study["document"]]
    for n, text in enumerate(TEXTS):
        outcome = imports.documents_import(project=project, files=[(f"d{n}.txt", text.encode())])
        docs.extend(outcome.created)
    for coder in ("a", "b"):
        user = study[f"coder_{coder}"]
        for document in docs:
            assignment = assignments.assignment_ensure(document=document, coder=user)
            for code, phrase in PHRASES[coder]:
                if phrase in document.text:
                    start = document.text.index(phrase)
                    spans.span_create(
                        assignment=assignment,
                        code_id=study["codes"][code].pk,
                        start=start,
                        end=start + len(phrase),
                        quote=phrase,
                    )
            assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    request = service.agreement_request(
        project=project, run_settings=service.RunSettings(n_bootstrap=200), enqueue=False
    )
    return service.agreement_execute(run_id=request.run.pk)


def rows(project) -> list[dict[str, str]]:
    spec = forms.export_spec(project)
    text = "".join(iter_csv(AGREEMENT_COLUMNS, agreement_rows(project, spec)))
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_every_interval_of_the_report_reaches_agreement_csv(study, run):
    result = AgreementResult.from_json(run.results)
    table = rows(study["project"])
    corpus = {(r["coefficient"], r["code"]): r for r in table if r["scope"] == "corpus"}
    checked = 0
    for code in (*result.codes, None):
        for name in ("alpha_u", "alpha_nominal"):
            estimate = result.figure(name, code)
            row = corpus[(name, code or "")]
            assert row["value"] == ("" if estimate.value is None else str(estimate.value))
            if estimate.interval is not None and estimate.interval.available:
                assert float(row["ci_low"]) == estimate.interval.low
                assert float(row["ci_high"]) == estimate.interval.high
                assert int(row["ci_resamples"]) == estimate.interval.resamples
                checked += 1
            else:
                assert row["ci_low"] == row["ci_high"] == "" and row["note"]
    assert checked >= 2  # the fixture has intervals to carry
    assert {r["run"] for r in table} == {str(run.pk)}
    assert {r["include_in_progress"] for r in table} == {"false"}


def test_pairs_and_documents_are_named_as_in_the_other_files(study, run):
    table = rows(study["project"])
    pairs = {r["pair"] for r in table if r["scope"] == "pair"}
    assert pairs == {"Coder A | Coder B"}
    documents = {r["document_id"] for r in table if r["scope"] == "document"}
    assert documents == {str(d.pk) for d in study["project"].documents.all()}
    assert not any(
        "coder_a" in cell or f"u{study['coder_a'].pk}" in cell for r in table for cell in r.values()
    )


def test_an_interval_that_cannot_be_estimated_says_why(study):
    """One double-coded document: no zero-width interval, "not available" and the reason."""
    document = study["document"]
    for coder in ("a", "b"):
        assignment = study[f"assignment_{coder}"]
        start = document.text.index("sham")
        spans.span_create(
            assignment=assignment,
            code_id=study["codes"]["Loaded language"].pk,
            start=start,
            end=start + 4,
            quote="sham",
        )
        assignments.assignment_set_status(assignment=assignment, status=AssignmentStatus.DONE)
    request = service.agreement_request(
        project=study["project"], run_settings=service.RunSettings(n_bootstrap=100), enqueue=False
    )
    service.agreement_execute(run_id=request.run.pk)
    table = rows(study["project"])
    alpha_u = next(
        r for r in table if (r["coefficient"], r["code"]) == ("alpha_u", "Loaded language")
    )
    assert alpha_u["ci_low"] == alpha_u["ci_high"] == ""
    assert "fewer than two documents" in alpha_u["note"]

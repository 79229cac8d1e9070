"""Rows of agreement.csv: the latest finished agreement run's result, one tidy row per
coefficient x code x scope (corpus, document or coder pair)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...models import Project
from ..agreement import key_labels, label_of, latest_finished_run, run_result
from .spec import ExportSpec

AGREEMENT_FILE = "agreement.csv"
AGREEMENT_COLUMNS = (
    "coefficient",
    "code",
    "scope",
    "document_id",
    "pair",
    "value",
    "ci_low",
    "ci_high",
    "ci_resamples",
    "note",
    "run",
    "computed",
    "unit",
    "include_in_progress",
)


def agreement_rows(project: Project, spec: ExportSpec) -> Iterator[dict[str, Any]]:
    """Nothing for an export that may not show others' work (a coder's, in a blind
    project): every figure here is derived from other coders' spans."""
    if not spec.others:
        return
    run = latest_finished_run(project)
    result = run_result(run)
    if result is None:
        return
    labels = key_labels(project, names=spec.names)
    include_in_progress = bool((run.settings or {}).get("include_in_progress", False))
    for row in result.rows():
        pair = row.pop("pair")
        yield {
            **row,
            "pair": " | ".join(label_of(labels, key) for key in pair) if pair else "",
            "run": run.pk,
            "computed": run.finished_at,
            "unit": result.unit,
            "include_in_progress": include_in_progress,
        }

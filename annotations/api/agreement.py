"""Agreement runs: ask for one (computed by a worker) and read it with its typed result.

Asking goes through ``services.agreement.agreement_request``, exactly as *Run now* on the
agreement page: identical input (the same spans, statuses and settings) returns the run
that already exists instead of computing twice. Coders appear in a result by the label
the caller may see (pseudonyms in blind projects), never by user id.
"""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Body, Field, Router, Schema, Status

from ..domain.agreement.result import AgreementResult, Estimate
from ..permissions import access_agreement, access_agreement_run
from ..selectors.agreement import key_labels, label_of, run_result
from ..services import agreement as service
from .schemas import In, PathId, responses, write_responses

router = Router(tags=["agreement"])


class EstimateOut(Schema):
    value: float | None
    ci_low: float | None = Field(description="95% bootstrap interval over documents.")
    ci_high: float | None
    ci_resamples: int | None = Field(description="Resamples in which it was defined.")
    reason: str = Field(description="Why the value or interval is undefined, if it is.")


class LeftOutOut(Schema):
    document_id: int
    reason: str


class UsageOut(Schema):
    documents: int
    coders: int
    units: int
    left_out: list[LeftOutOut]


class DocumentFiguresOut(Schema):
    document_id: int
    coders: list[str]
    units: int
    alpha_u: dict[str, float | None] = Field(description="Per code.")
    alpha_nominal: dict[str, float | None]


class PairOut(Schema):
    coders: list[str] = Field(description="The two coders' labels.")
    documents: int
    units: int
    per_code: dict[str, dict[str, float | None]]
    overall: dict[str, float | None]


class BootstrapOut(Schema):
    resamples: int
    seed: int
    level: float


class RowOut(Schema):
    coefficient: str
    code: str = Field(description="Empty: all codes.")
    scope: str = Field(description="corpus, document or pair.")
    document_id: int | None
    pair: list[str] | None
    value: float | None
    ci_low: float | None
    ci_high: float | None
    ci_resamples: int | None
    note: str


class ResultOut(Schema):
    schema_version: int
    unit: str = Field(description="token, sentence or char.")
    codes: list[str]
    coders: list[str]
    counts: dict[str, Any]
    overall: dict[str, EstimateOut] = Field(description="Coefficient → estimate, all codes.")
    per_code: dict[str, dict[str, EstimateOut]] = Field(description="Code → coefficient → …")
    ku_alpha: dict[str, EstimateOut]
    per_document: list[DocumentFiguresOut]
    pairs: list[PairOut]
    usage: dict[str, UsageOut] = Field(description="What each coefficient rests on.")
    bootstrap: BootstrapOut
    notes: list[str]
    rows: list[RowOut] = Field(description="The whole result as tidy rows, for a data frame.")


class RunSettingsOut(Schema):
    unit: str
    n_bootstrap: int
    seed: int
    include_in_progress: bool


class RunOut(Schema):
    id: int
    project_id: int
    status: str = Field(description="queued, running, done or failed.")
    requested_at: datetime.datetime
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None
    settings: RunSettingsOut
    error: str
    result: ResultOut | None = Field(description="Once the run is done.")


class RunRequestOut(RunOut):
    created: bool = Field(description="False: the identical run existed, and is returned.")
    message: str


def _estimate(estimate: Estimate) -> dict:
    interval = estimate.interval
    return {
        "value": estimate.value,
        "ci_low": interval.low if interval else None,
        "ci_high": interval.high if interval else None,
        "ci_resamples": interval.resamples if interval and interval.available else None,
        "reason": estimate.reason or (interval.reason if interval else ""),
    }


def _result(result: AgreementResult, labels: dict[str, str]) -> dict:
    def name(key: str) -> str:
        return label_of(labels, key)

    rows = []
    for row in result.rows():
        pair = row["pair"]
        rows.append({**row, "pair": [name(k) for k in pair] if pair else None})
    return {
        "schema_version": result.schema,
        "unit": result.unit,
        "codes": list(result.codes),
        "coders": [name(k) for k in result.coders],
        "counts": result.counts,
        "overall": {k: _estimate(v) for k, v in result.overall.items()},
        "per_code": {
            code: {k: _estimate(v) for k, v in figures.items()}
            for code, figures in result.per_code.items()
        },
        "ku_alpha": {code: _estimate(v) for code, v in result.ku_alpha.items()},
        "per_document": [
            {
                "document_id": d.id,
                "coders": [name(k) for k in d.coders],
                "units": d.units,
                "alpha_u": d.alpha_u,
                "alpha_nominal": d.alpha_nominal,
            }
            for d in result.per_document
        ],
        "pairs": [
            {
                "coders": [name(k) for k in p.coders],
                "documents": p.documents,
                "units": p.units,
                "per_code": p.per_code,
                "overall": p.overall,
            }
            for p in result.pairs
        ],
        "usage": {
            key: {
                "documents": u.documents,
                "coders": u.coders,
                "units": u.units,
                "left_out": [
                    {"document_id": x.document_id, "reason": x.reason} for x in u.left_out
                ],
            }
            for key, u in result.usage.items()
        },
        "bootstrap": {
            "resamples": result.bootstrap.resamples,
            "seed": result.bootstrap.seed,
            "level": result.bootstrap.level,
        },
        "notes": list(result.notes),
        "rows": rows,
    }


def _run(run, project) -> dict:
    settings = service.RunSettings.from_dict(run.settings or {})
    result = run_result(run)
    return {
        "id": run.pk,
        "project_id": run.project_id,
        "status": run.status,
        "requested_at": run.requested_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "settings": {
            "unit": settings.unit,
            "n_bootstrap": settings.n_bootstrap,
            "seed": settings.seed,
            "include_in_progress": settings.include_in_progress,
        },
        "error": run.error,
        "result": None if result is None else _result(result, key_labels(project)),
    }


class RunIn(In):
    include_in_progress: bool = Field(
        False, description="Count work in progress too, not only work marked done."
    )


@router.post(
    "/projects/{project_id}/agreement-runs", response=write_responses({202: RunRequestOut})
)
def request_agreement_run(request, project_id: PathId, payload: RunIn = Body(None)):
    """Ask for an agreement run (reviewers and managers; coders too in open projects).
    202 with the run to poll; the identical run is returned if the input has not changed."""
    project, _ = access_agreement(request.auth, project_id)
    payload = payload or RunIn()
    outcome = service.agreement_request(
        project=project,
        actor=request.auth,
        run_settings=service.RunSettings(
            unit=project.agreement_unit, include_in_progress=payload.include_in_progress
        ),
    )
    body = _run(outcome.run, project)
    return Status(202, {**body, "created": outcome.created, "message": outcome.message})


@router.get("/agreement-runs/{run_id}", response=responses({200: RunOut}))
def get_agreement_run(request, run_id: PathId):
    """A run's status and, once done, its typed result (poll until done or failed)."""
    run, member = access_agreement_run(request.auth, run_id)
    return _run(run, member.project)

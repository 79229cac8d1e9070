"""Reads for agreement: the one "latest finished run" query, run history, and a run's
results prepared for pages (the agreement page and the manager's dashboard).

A run's stored results are read only through
:meth:`~annotations.domain.agreement.result.AgreementResult.from_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F

from ..domain.agreement import display
from ..domain.agreement.result import AgreementResult, DocumentFigures, PairFigures, coder_id
from ..models import AgreementRun, Code, Project, RunStatus
from .labels import coder_labels

HISTORY = 20


def finished_runs(project: Project, *, limit: int = HISTORY) -> list[AgreementRun]:
    """The project's finished runs, newest first (by when they finished)."""
    return list(
        AgreementRun.objects.filter(project=project, status=RunStatus.DONE).order_by(
            F("finished_at").desc(nulls_last=True), "-pk"
        )[:limit]
    )


def latest_finished_run(project: Project) -> AgreementRun | None:
    runs = finished_runs(project, limit=1)
    return runs[0] if runs else None


def run_result(run: AgreementRun | None) -> AgreementResult | None:
    if run is None or run.status != RunStatus.DONE:
        return None
    return AgreementResult.from_json(run.results)


def key_labels(project: Project, *, names: bool = False) -> dict[str, str]:
    """Coder key ("u<id>") → the label to show for it in this project."""
    return {f"u{uid}": label for uid, label in coder_labels(project, with_names=names).items()}


def label_of(labels: dict[str, str], key: str) -> str:
    return labels.get(key) or ("a former coder" if coder_id(key) is not None else key)


@dataclass
class PairRow:
    a: str
    b: str
    figures: PairFigures


@dataclass
class DocumentRow:
    title: str
    figures: DocumentFigures
    alpha_u: list[float | None]


@dataclass
class FamilyView:
    """The 2016 family over all codes: |uα, cuα and coverage, (k)cuα per code, or why not."""

    applicable: bool
    reason: str
    rows: list[tuple[str, object]]


def family_view(result: AgreementResult) -> FamilyView:
    u_alpha = result.figure("u_alpha")
    if u_alpha.value is None and u_alpha.reason.startswith(("not applicable", "undefined: no")):
        return FamilyView(False, u_alpha.reason, [])
    rows = [
        ("uα", u_alpha),
        ("|uα (relevant or not)", result.figure("bu_alpha")),
        ("cuα (coding of the relevant matter)", result.figure("cu_alpha")),
        ("coverage of cuα", result.figure("coverage")),
        *((f"(k)cuα {code}", estimate) for code, estimate in result.ku_alpha.items()),
    ]
    return FamilyView(True, "", rows)


@dataclass
class ResultView:
    run: AgreementRun
    result: AgreementResult
    rows: list[display.CodeRow]
    bars: list[display.Bar]
    chart_height: int
    pairs: list[PairRow]
    documents: list[DocumentRow]
    methods: str
    family: FamilyView
    methods_note: str = display.METHODS_NOTE


def result_view(project: Project, run: AgreementRun | None) -> ResultView | None:
    result = run_result(run)
    if result is None:
        return None
    labels = key_labels(project)
    rows = display.rows_per_code(result)
    titles = dict(project.documents.values_list("pk", "title"))
    return ResultView(
        run=run,
        result=result,
        rows=rows,
        bars=display.chart_bars(rows),
        chart_height=20 + 28 * len(rows),
        pairs=[
            PairRow(label_of(labels, p.coders[0]), label_of(labels, p.coders[1]), p)
            for p in result.pairs
        ],
        documents=[
            DocumentRow(
                titles.get(d.id, f"document {d.id}"), d, [d.alpha_u.get(c) for c in result.codes]
            )
            for d in result.per_document
        ],
        methods=display.methods_sentence(result),
        family=family_view(result),
    )


@dataclass
class HistoryRow:
    run: AgreementRun
    values: list[float | None]


@dataclass
class AgreementPage:
    latest: AgreementRun | None
    polling: bool
    view: ResultView | None
    history: list[HistoryRow] = field(default_factory=list)
    history_codes: tuple[str, ...] = ()


def agreement_page(project: Project) -> AgreementPage:
    latest = AgreementRun.objects.filter(project=project).order_by("-pk").first()
    runs = finished_runs(project)
    view = result_view(project, runs[0] if runs else None)
    codes = view.result.codes if view else ()
    history = []
    for run in runs:
        result = run_result(run)
        if result is not None:
            history.append(HistoryRow(run, [result.value("alpha_u", code) for code in codes]))
    return AgreementPage(
        latest=latest,
        polling=latest is not None and latest.status in (RunStatus.QUEUED, RunStatus.RUNNING),
        view=view,
        history=history,
        history_codes=codes,
    )


# --- The dashboard's agreement panel -------------------------------------------------------


@dataclass
class ChartLine:
    name: str
    colour: str
    points: str  # SVG polyline points
    dots: list[tuple[float, float, str]]  # x, y, label


@dataclass
class AgreementChart:
    width: int
    height: int
    lines: list[ChartLine]
    ticks: list[tuple[float, str]]  # y, label
    x_labels: list[tuple[float, str]]
    thresholds: list[tuple[float, str]]


@dataclass
class Agreement:
    latest: AgreementRun | None = None
    per_code: list[tuple[str, float]] = field(default_factory=list)
    overall: list[tuple[str, float]] = field(default_factory=list)
    runs: int = 0
    chart: AgreementChart | None = None


def _alpha_u_per_code(result: AgreementResult | None) -> dict[str, float]:
    if result is None:
        return {}
    values = {code: result.value("alpha_u", code) for code in result.codes}
    return {code: value for code, value in values.items() if value is not None}


def agreement_chart(
    history: list[dict[str, float]], labels: list[str], colours: dict[str, str]
) -> AgreementChart | None:
    """Agreement per code over successive runs (oldest first) as SVG coordinates."""
    names = sorted({name for run in history for name in run})
    if not names:
        return None
    width, height, left, right, top, bottom = 480, 200, 40, 12, 10, 24
    values = [v for run in history for v in run.values()]
    low = min(0.0, min(values))
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return round(
            left + (plot_w * i / (len(history) - 1) if len(history) > 1 else plot_w / 2), 1
        )

    def y(value: float) -> float:
        return round(top + plot_h * (1 - (value - low) / (1 - low)), 1)

    lines = []
    for name in names:
        dots = [
            (x(i), y(run[name]), f"{name}: {run[name]:.3f} ({labels[i]})")
            for i, run in enumerate(history)
            if name in run
        ]
        lines.append(
            ChartLine(
                name=name,
                colour=colours.get(name, "#777777"),
                points=" ".join(f"{dx},{dy}" for dx, dy, _ in dots),
                dots=dots,
            )
        )
    ticks = [(y(v), f"{v:g}") for v in sorted({low, 0.0, 0.5, 1.0})]
    return AgreementChart(
        width=width,
        height=height,
        lines=lines,
        ticks=ticks,
        x_labels=[(x(i), label) for i, label in enumerate(labels)],
        # Krippendorff's conventional thresholds for tentative and reliable conclusions.
        thresholds=[(y(0.667), "0.667"), (y(0.8), "0.8")],
    )


def project_agreement(project: Project, *, history: int = 10) -> Agreement:
    runs = finished_runs(project, limit=history)
    agreement = Agreement(runs=len(runs))
    if not runs:
        return agreement
    results = [run_result(run) for run in runs]
    agreement.latest = runs[0]
    latest = results[0]
    agreement.per_code = sorted(_alpha_u_per_code(latest).items())
    if latest is not None:
        agreement.overall = [
            (label, value)
            for label, value in (
                ("αu, all codes", latest.value("alpha_u")),
                ("nominal α, all codes", latest.value("alpha_nominal")),
            )
            if value is not None
        ]
    series = [_alpha_u_per_code(result) for result in reversed(results)]
    colours = dict(Code.objects.filter(codebook__project=project).values_list("name", "colour"))
    labels = [f"#{run.pk}" for run in reversed(runs)]
    agreement.chart = agreement_chart(series, labels, colours)
    return agreement

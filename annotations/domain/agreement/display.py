"""Turning a stored agreement report into table rows, a chart and a methods sentence.

Plain Python: the report is the JSON produced by :func:`agreement_report.compute_report`.
Numbers are formatted the way methods sections print them (".71", no leading zero, three
decimals in tables) but the stored values keep full precision for export.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

UNIT_NAMES = {"token": "tokens", "sentence": "sentences", "char": "characters"}


def interval(value) -> tuple[float | None, float | None]:
    if not value:
        return (None, None)
    return (value.get("low"), value.get("high"))


def code_row(code: str, figures: Mapping) -> dict:
    return {
        "code": code,
        "alpha_u": figures.get("alpha_u"),
        "alpha_u_ci": interval(figures.get("alpha_u_ci")),
        "alpha": figures.get("alpha_nominal"),
        "alpha_ci": interval(figures.get("alpha_nominal_ci")),
        "fleiss": figures.get("fleiss_kappa"),
        "cohen": figures.get("cohen_kappa_mean"),
        "f1_exact": figures.get("span_f1_exact_mean"),
        "f1_overlap": figures.get("span_f1_overlap_mean"),
        "prevalence": figures.get("prevalence"),
    }


def rows_per_code(results: Mapping) -> list[dict]:
    """One row per code, then "All codes" pooled."""
    rows = [code_row(code, results["per_code"][code]) for code in results.get("codes", [])]
    rows.append(code_row("All codes", results["overall"]))
    return rows


def short(value: float | None) -> str:
    """.71 / -.05 / 1.00 as in APA-style methods sections."""
    if value is None:
        return "undefined"
    text = f"{value:.2f}"
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def methods_sentence(results: Mapping, *, code_labels: Sequence[str] | None = None) -> str:
    counts = results.get("counts", {})
    unit = UNIT_NAMES.get(results.get("unit", "token"), results.get("unit", "units"))
    n_docs = counts.get("documents", 0)
    n_coders = counts.get("coders", 0)
    parts = []
    for code in code_labels or results.get("codes", []):
        figures = results["per_code"].get(code, {})
        low, high = interval(figures.get("alpha_u_ci"))
        ci = f" (95% CI {short(low)}–{short(high)})" if low is not None else ""
        parts.append(f"for {code} {short(figures.get('alpha_u'))}{ci}")
    per_code = "; ".join(parts) if parts else "undefined"
    bootstrap = results.get("bootstrap", {})
    return (
        f"Agreement was assessed on {n_docs} article{'s' if n_docs != 1 else ''} coded "
        f"independently by {n_coders} coder{'s' if n_coders != 1 else ''}. Krippendorff's "
        f"unitizing alpha (αu) was {per_code}. Nominal Krippendorff's alpha on {unit} was "
        f"{short(results.get('overall', {}).get('alpha_nominal'))} over all codes. Confidence "
        f"intervals are percentile bootstrap intervals over documents "
        f"({bootstrap.get('resamples', 0)} resamples, seed {bootstrap.get('seed', 0)})."
    )


METHODS_NOTE = (
    "αu follows Krippendorff (1995, 2004, sec. 11.6) as implemented in DKPro Agreement: "
    "each code is its own layer, so spans of different codes nested in one another are not "
    "disagreements; one coder's overlapping spans of the same code are merged first. The "
    "documents are laid end to end as one continuum. Nominal α (Krippendorff 2011) treats "
    "each code as a binary variable per unit (a unit is coded when any of its characters is "
    "in a span of that code); a coder who finished a document and left a unit untagged said "
    "“not this code”, a coder who did not finish it is missing. Coincidences are pooled over "
    "documents. Fleiss' κ (Fleiss 1971) and Cohen's κ (Cohen 1960; mean over coder pairs) "
    "use the same units. Span F1 compares two coders' spans exactly (same offsets and code) "
    "or by overlap (one-to-one, largest overlap first). 95% intervals: percentile bootstrap, "
    "resampling whole documents."
)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    low: float | None
    high: float | None
    y: int
    x0: float
    x: float
    x_low: float | None
    x_high: float | None

    @property
    def bar_x(self) -> float:
        return min(self.x0, self.x)

    @property
    def bar_width(self) -> float:
        return abs(self.x - self.x0)


def chart_bars(rows: Sequence[Mapping], *, width: int = 420, left: int = 190) -> list[Bar]:
    """Bar geometry for αu per code on a -1..1 axis (0 at the middle of the plot)."""
    span = width - left - 10

    def scale(v: float) -> float:
        return left + (max(-1.0, min(1.0, v)) + 1.0) / 2.0 * span

    bars = []
    for i, row in enumerate(rows):
        value = row["alpha_u"]
        low, high = row["alpha_u_ci"]
        bars.append(
            Bar(
                label=row["code"],
                value=value,
                low=low,
                high=high,
                y=10 + i * 28,
                x0=scale(0.0),
                x=scale(value) if value is not None else scale(0.0),
                x_low=scale(low) if low is not None else None,
                x_high=scale(high) if high is not None else None,
            )
        )
    return bars

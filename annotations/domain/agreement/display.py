"""Turning an agreement result into table rows, a chart and a methods sentence.

Plain Python over :class:`~.result.AgreementResult`. Numbers are formatted the way methods
sections print them (".71", no leading zero) but the result keeps full precision for
export. An interval that could not be estimated is printed as "not available" with its
reason, never as a zero-width interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .result import AgreementResult, Estimate, Interval

UNIT_NAMES = {"token": "tokens", "sentence": "sentences", "char": "characters"}
ALL_CODES = "All codes"


@dataclass(frozen=True)
class CodeRow:
    """One line of the per-code table (the last one is "All codes")."""

    code: str
    alpha_u: Estimate
    alpha: Estimate
    fleiss: Estimate
    cohen: Estimate
    f1_exact: Estimate
    f1_overlap: Estimate
    prevalence: Estimate
    u_alpha: Estimate
    is_total: bool = False


def code_row(result: AgreementResult, code: str | None) -> CodeRow:
    def get(name: str) -> Estimate:
        return result.figure(name, code)

    return CodeRow(
        code=code if code is not None else ALL_CODES,
        alpha_u=get("alpha_u"),
        alpha=get("alpha_nominal"),
        fleiss=get("fleiss_kappa"),
        cohen=get("cohen_kappa_mean"),
        f1_exact=get("span_f1_exact_mean"),
        f1_overlap=get("span_f1_overlap_mean"),
        prevalence=get("prevalence"),
        u_alpha=get("u_alpha"),
        is_total=code is None,
    )


def rows_per_code(result: AgreementResult) -> list[CodeRow]:
    """One row per code, then "All codes" pooled."""
    return [*(code_row(result, code) for code in result.codes), code_row(result, None)]


def short(value: float | None) -> str:
    """.71 / -.05 / 1.00 as in APA-style methods sections."""
    if value is None:
        return "undefined"
    text = f"{value:.2f}"
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def interval_text(interval: Interval | None) -> str:
    """ "95% CI .61–.80", or "95% CI not available" when it could not be estimated."""
    if interval is None:
        return ""
    if not interval.available:
        return "95% CI not available"
    return f"95% CI {short(interval.low)}–{short(interval.high)}"


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def methods_sentence(result: AgreementResult, *, code_labels: Sequence[str] | None = None) -> str:
    """A paragraph ready to paste into a methods section; every number says what it rests on."""
    unit = UNIT_NAMES.get(result.unit, result.unit)
    nominal = result.usage.get("nominal")
    alpha_u_usage = result.usage.get("alpha_u")
    n_docs = nominal.documents if nominal else result.counts.get("documents", 0)
    n_coders = nominal.coders if nominal else result.counts.get("coders", 0)
    parts = []
    reasons = set()
    for code in code_labels or result.codes:
        estimate = result.figure("alpha_u", code)
        ci = interval_text(estimate.interval)
        if estimate.interval is not None and not estimate.interval.available:
            reasons.add(estimate.interval.reason)
        parts.append(f"for {code} {short(estimate.value)}" + (f" ({ci})" if ci else ""))
    per_code = "; ".join(parts) if parts else "undefined"
    alpha_u_basis = ""
    if alpha_u_usage is not None and alpha_u_usage.documents != n_docs:
        alpha_u_basis = (
            f" (on the {_plural(alpha_u_usage.documents, 'article')} coded by the same "
            f"{_plural(alpha_u_usage.coders, 'coder')}, as this coefficient requires)"
        )
    nominal_all = result.figure("alpha_nominal")
    bootstrap = result.bootstrap
    sentence = (
        f"Agreement was assessed on {_plural(n_docs, 'article')} coded "
        f"independently by {_plural(n_coders, 'coder')}. Krippendorff's "
        f"unitizing alpha (αu){alpha_u_basis} was {per_code}. Nominal Krippendorff's alpha "
        f"on {unit} was {short(nominal_all.value)} over all codes"
    )
    ci = interval_text(nominal_all.interval)
    sentence += f" ({ci})." if ci else "."
    left = nominal.left_out if nominal else ()
    if left:
        sentence += (
            f" {_plural(len(left), 'further article')} did not count because fewer than two "
            "coders finished them."
        )
    sentence += (
        f" Confidence intervals are percentile bootstrap intervals over documents "
        f"({bootstrap.resamples} resamples, seed {bootstrap.seed})"
    )
    if reasons:
        sentence += "; where not available: " + "; ".join(
            sorted(r.removeprefix("not available: ") for r in reasons)
        )
    return sentence + "."


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
    "resampling whole documents; not available for fewer than two documents."
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
    label_x: float

    @property
    def bar_x(self) -> float:
        return min(self.x0, self.x)

    @property
    def bar_width(self) -> float:
        return abs(self.x - self.x0)


def chart_bars(rows: Sequence[CodeRow], *, width: int = 420, left: int = 190) -> list[Bar]:
    """Bar geometry for αu per code on a -1..1 axis (0 at the middle of the plot)."""
    span = width - left - 10

    def scale(v: float) -> float:
        return left + (max(-1.0, min(1.0, v)) + 1.0) / 2.0 * span

    bars = []
    for i, row in enumerate(rows):
        value = row.alpha_u.value
        ci = row.alpha_u.interval
        low = ci.low if ci is not None and ci.available else None
        high = ci.high if ci is not None and ci.available else None
        x = scale(value) if value is not None else scale(0.0)
        bars.append(
            Bar(
                label=row.code,
                value=value,
                low=low,
                high=high,
                y=10 + i * 28,
                x0=scale(0.0),
                x=x,
                x_low=scale(low) if low is not None else None,
                x_high=scale(high) if high is not None else None,
                # The value is written beside the bar's end (or interval), never on the bar.
                label_x=max(x, scale(high) if high is not None else x, scale(0.0)) + 4,
            )
        )
    return bars

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
    if interval.zero_width:
        return (
            f"95% CI {short(interval.low)}–{short(interval.high)} (every one of "
            f"{interval.resamples:,} resamples gave {short(interval.low)})"
        )
    return f"95% CI {short(interval.low)}–{short(interval.high)}"


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _per_code(result: AgreementResult, name: str, codes: Sequence[str], reasons: set) -> str:
    parts = []
    for code in codes:
        estimate = result.figure(name, code)
        ci = interval_text(estimate.interval)
        if estimate.interval is not None and not estimate.interval.available:
            reasons.add(estimate.interval.reason)
        parts.append(f"for {code} {short(estimate.value)}" + (f" ({ci})" if ci else ""))
    return "; ".join(parts) if parts else "undefined"


def _basis(result: AgreementResult, name: str, unit: str) -> str:
    usage = result.usage.get(name)
    if usage is None:
        return ""
    return (
        f"{_plural(usage.documents, 'article')}, {_plural(usage.coders, 'coder')}, "
        f"{_plural(usage.units, unit)}"
    )


def methods_sentence(result: AgreementResult, *, code_labels: Sequence[str] | None = None) -> str:
    """A paragraph ready to paste into a methods section; each coefficient says what it
    rests on (articles, coders, units) and which articles it left out."""
    unit = UNIT_NAMES.get(result.unit, result.unit).removesuffix("s")
    codes = list(code_labels or result.codes)
    nominal = result.usage.get("nominal")
    n_docs = nominal.documents if nominal else result.counts.get("documents", 0)
    n_coders = nominal.coders if nominal else result.counts.get("coders", 0)
    reasons: set[str] = set()
    sentences = [
        f"Agreement was assessed on {_plural(n_docs, 'article')} coded independently by "
        f"{_plural(n_coders, 'coder')} (each article by at least two)."
    ]
    left = nominal.left_out if nominal else ()
    if left:
        sentences.append(
            f"{_plural(len(left), 'further article')} did not count because fewer than two "
            "coders finished them."
        )
    if "u_alpha" in result.usage:
        family = (
            "Krippendorff's unitizing uα (Krippendorff, Mathet, Bouvry & Widlöcher 2016; "
            f"{_basis(result, 'u_alpha', 'character')}) was "
            + _per_code(result, "u_alpha", codes, reasons)
            + "."
        )
        overall = result.figure("u_alpha")
        if overall.value is not None:
            ci = interval_text(overall.interval)
            family += (
                f" Over all codes as one partition of the text, uα was {short(overall.value)}"
                + (f" ({ci})" if ci else "")
                + f", |uα {short(result.value('bu_alpha'))} and cuα "
                f"{short(result.value('cu_alpha'))} on the "
                f"{_percent(result.value('coverage'))} of the text all coders found relevant."
            )
        sentences.append(family)
    alpha_u = result.usage.get("alpha_u")
    basis = _basis(result, "alpha_u", "character")
    label = (
        "For comparability with INCEpTION/DKPro, the 2004 αu"
        if "u_alpha" in result.usage
        else "Krippendorff's unitizing alpha (αu)"
    )
    restricted = ""
    if alpha_u is not None and alpha_u.documents != n_docs:
        restricted = ", the articles coded by the same coders, as it requires"
    sentences.append(
        f"{label} ({basis}{restricted}) was " + _per_code(result, "alpha_u", codes, reasons) + "."
    )
    nominal_all = result.figure("alpha_nominal")
    ci = interval_text(nominal_all.interval)
    if nominal_all.interval is not None and not nominal_all.interval.available:
        reasons.add(nominal_all.interval.reason)
    sentences.append(
        f"Nominal Krippendorff's alpha on {unit} units ({_basis(result, 'nominal', unit)}) was "
        f"{short(nominal_all.value)} over all codes" + (f" ({ci})." if ci else ".")
    )
    bootstrap = result.bootstrap
    closing = (
        f"Confidence intervals are percentile bootstrap intervals over articles "
        f"({bootstrap.resamples:,} resamples, seed {bootstrap.seed})"
    )
    if reasons:
        closing += "; where not available: " + "; ".join(
            sorted(r.removeprefix("not available: ") for r in reasons)
        )
    sentences.append(closing + ".")
    return " ".join(sentences)


def _percent(value: float | None) -> str:
    return "undefined share" if value is None else f"{100 * value:.0f}%"


METHODS_NOTE = (
    "uα, |uα, cuα and (k)cuα follow Krippendorff, Mathet, Bouvry & Widlöcher (2016) and "
    "Krippendorff (2019, sec. 12.6), which replaced the 2004 αu because it behaves unexpectedly "
    "with more than two coders: report uα per code, and |uα (where relevant matter is) and cuα "
    "(how it is coded, with its coverage) over all codes when the codes partition the text. "
    "They pool coincidences over articles, so every article with two or more coders counts. "
    "The 2004 αu is kept for comparability with INCEpTION and DKPro Agreement; it needs the "
    "same coders throughout, so it uses the articles of the most common coder set. "
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

"""The agreement result: the one owner of a stored agreement report.

:func:`~annotations.domain.agreement.report.compute_report` builds an
:class:`AgreementResult`; ``AgreementRun.results`` stores its :meth:`~AgreementResult.to_json`;
every page, command, export and API reads it back through :meth:`AgreementResult.from_json`
and nothing else. The JSON keeps a readable nested shape (``per_code``, ``overall``,
``per_document``, ``pairs``, ``counts``, ``usage``) with a ``schema`` number; results
stored before the number existed (schema 1) are read too, with what they lack left empty.

Coders appear in a result only by key (:func:`coder_key`, ``"u<user id>"``); pages and
exports turn keys into names or pseudonyms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 2

# Every coefficient a report can hold, in the order pages and files list them.
COEFFICIENTS: tuple[str, ...] = (
    "alpha_u",
    "u_alpha",
    "bu_alpha",
    "cu_alpha",
    "coverage",
    "alpha_nominal",
    "fleiss_kappa",
    "cohen_kappa_mean",
    "span_f1_exact_mean",
    "span_f1_overlap_mean",
    "prevalence",
)
PAIR_COEFFICIENTS: tuple[str, ...] = ("cohen_kappa", "span_f1_exact", "span_f1_overlap")
DOCUMENT_COEFFICIENTS: tuple[str, ...] = ("alpha_u", "alpha_nominal")

_KEY = re.compile(r"u([0-9]{1,19})")


def coder_key(user_id: int) -> str:
    """How a coder is named inside a result: by id only, never by name."""
    return f"u{user_id}"


def coder_id(key: str) -> int | None:
    """The user id behind a coder key, or None when ``key`` is not one."""
    match = _KEY.fullmatch(key)
    return int(match.group(1)) if match else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Interval:
    """A percentile bootstrap interval, or why none could be estimated."""

    low: float | None = None
    high: float | None = None
    resamples: int = 0  # resamples in which the coefficient was defined
    reason: str = ""  # set when low/high are None

    @property
    def available(self) -> bool:
        return self.low is not None and self.high is not None

    @property
    def zero_width(self) -> bool:
        """Every resample gave the same value (e.g. perfect agreement in each): an estimate
        that happens to have no width, which a reader should not take for a missing one."""
        return self.available and self.low == self.high

    def to_json(self) -> dict:
        data: dict[str, Any] = {"low": self.low, "high": self.high, "resamples": self.resamples}
        if self.reason:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_json(cls, data: Any) -> Interval | None:
        if isinstance(data, Mapping):
            return cls(
                low=_number(data.get("low")),
                high=_number(data.get("high")),
                resamples=int(data.get("resamples") or 0),
                reason=str(data.get("reason") or ""),
            )
        if isinstance(data, list | tuple) and len(data) == 2:  # the oldest stored form
            return cls(low=_number(data[0]), high=_number(data[1]))
        return None


@dataclass(frozen=True)
class Estimate:
    """One coefficient's value, its interval if one was computed, and why it is undefined."""

    value: float | None = None
    interval: Interval | None = None
    reason: str = ""


Figures = dict[str, Estimate]  # coefficient name -> estimate


def _figures_to_json(figures: Mapping[str, Estimate]) -> dict:
    data: dict[str, Any] = {}
    reasons = {}
    for name, estimate in figures.items():
        data[name] = estimate.value
        if estimate.interval is not None:
            data[f"{name}_ci"] = estimate.interval.to_json()
        if estimate.reason:
            reasons[name] = estimate.reason
    if reasons:
        data["reasons"] = reasons
    return data


def _figures_from_json(data: Any, names: tuple[str, ...] = COEFFICIENTS) -> Figures:
    data = data if isinstance(data, Mapping) else {}
    reasons = data.get("reasons") if isinstance(data.get("reasons"), Mapping) else {}
    figures = {}
    for name in names:
        if name not in data and f"{name}_ci" not in data and name not in reasons:
            continue
        figures[name] = Estimate(
            value=_number(data.get(name)),
            interval=Interval.from_json(data.get(f"{name}_ci")),
            reason=str(reasons.get(name) or ""),
        )
    return figures


@dataclass(frozen=True)
class LeftOut:
    document_id: int
    reason: str


@dataclass(frozen=True)
class Usage:
    """What one coefficient rests on: documents, coders and units, and what it left out."""

    documents: int = 0
    coders: int = 0
    units: int = 0
    left_out: tuple[LeftOut, ...] = ()

    def to_json(self) -> dict:
        return {
            "documents": self.documents,
            "coders": self.coders,
            "units": self.units,
            "left_out": [{"document": d.document_id, "reason": d.reason} for d in self.left_out],
        }

    @classmethod
    def from_json(cls, data: Any) -> Usage:
        data = data if isinstance(data, Mapping) else {}
        return cls(
            documents=int(data.get("documents") or 0),
            coders=int(data.get("coders") or 0),
            units=int(data.get("units") or 0),
            left_out=tuple(
                LeftOut(int(item["document"]), str(item.get("reason", "")))
                for item in data.get("left_out") or ()
                if isinstance(item, Mapping) and "document" in item
            ),
        )


@dataclass(frozen=True)
class DocumentFigures:
    id: int
    coders: tuple[str, ...]
    units: int
    alpha_u: dict[str, float | None] = field(default_factory=dict)
    alpha_nominal: dict[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class PairFigures:
    coders: tuple[str, str]
    documents: int
    units: int
    per_code: dict[str, dict[str, float | None]] = field(default_factory=dict)
    overall: dict[str, float | None] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return "|".join(self.coders)


@dataclass(frozen=True)
class Bootstrap:
    resamples: int = 0
    seed: int = 0
    level: float = 0.95


@dataclass(frozen=True)
class AgreementResult:
    unit: str
    codes: tuple[str, ...]
    coders: tuple[str, ...]
    counts: dict[str, Any]
    per_code: dict[str, Figures]
    overall: Figures
    per_document: tuple[DocumentFigures, ...] = ()
    pairs: tuple[PairFigures, ...] = ()
    usage: dict[str, Usage] = field(default_factory=dict)
    # (k)cu-alpha of the all-codes layer, per code.
    ku_alpha: dict[str, Estimate] = field(default_factory=dict)
    bootstrap: Bootstrap = field(default_factory=Bootstrap)
    notes: tuple[str, ...] = ()
    schema: int = SCHEMA_VERSION

    # --- reading --------------------------------------------------------------------

    def figure(self, coefficient: str, code: str | None = None) -> Estimate:
        """One estimate; ``code=None`` is "all codes". Missing figures are undefined."""
        figures = self.overall if code is None else self.per_code.get(code, {})
        return figures.get(coefficient, Estimate())

    def value(self, coefficient: str, code: str | None = None) -> float | None:
        return self.figure(coefficient, code).value

    def coder_ids(self) -> list[int]:
        return [i for i in (coder_id(k) for k in self.coders) if i is not None]

    def rows(self) -> Iterator[dict[str, Any]]:
        """The whole result as tidy rows: one per coefficient x code x scope.

        ``scope`` is ``corpus``, ``document`` or ``pair``; ``code`` is empty for all codes;
        ``document_id`` and ``pair`` (two coder keys) say which document or pair.
        """
        for code in (*self.codes, None):
            figures = self.per_code.get(code, {}) if code is not None else self.overall
            for name in COEFFICIENTS:
                if name in figures:
                    yield _row(name, code, "corpus", None, None, figures[name])
            if code is None:
                for value_code, estimate in self.ku_alpha.items():
                    yield _row("ku_alpha", value_code, "corpus", None, None, estimate)
        for document in self.per_document:
            for name in DOCUMENT_COEFFICIENTS:
                for code, value in getattr(document, name).items():
                    yield _row(name, code, "document", document.id, None, Estimate(value))
        for pair in self.pairs:
            for code in (*self.codes, None):
                figures = pair.per_code.get(code, {}) if code is not None else pair.overall
                for name in PAIR_COEFFICIENTS:
                    if name in figures:
                        yield _row(name, code, "pair", None, pair.coders, Estimate(figures[name]))

    # --- storing --------------------------------------------------------------------

    def to_json(self) -> dict:
        overall = _figures_to_json(self.overall)
        if self.ku_alpha:
            overall["ku_alpha"] = {code: e.value for code, e in self.ku_alpha.items()}
            overall["ku_alpha_ci"] = {
                code: e.interval.to_json() for code, e in self.ku_alpha.items() if e.interval
            }
            reasons = {code: e.reason for code, e in self.ku_alpha.items() if e.reason}
            if reasons:
                overall["ku_alpha_reasons"] = reasons
        return {
            "schema": self.schema,
            "unit": self.unit,
            "codes": list(self.codes),
            "coders": list(self.coders),
            "counts": self.counts,
            "usage": {name: usage.to_json() for name, usage in self.usage.items()},
            "per_code": {code: _figures_to_json(self.per_code[code]) for code in self.codes},
            "overall": overall,
            "per_document": [
                {
                    "id": d.id,
                    "coders": list(d.coders),
                    "units": d.units,
                    "alpha_u": d.alpha_u,
                    "alpha_nominal": d.alpha_nominal,
                }
                for d in self.per_document
            ],
            "pairs": {
                pair.key: {
                    "documents": pair.documents,
                    "units": pair.units,
                    "per_code": pair.per_code,
                    "overall": pair.overall,
                }
                for pair in self.pairs
            },
            "bootstrap": {
                "resamples": self.bootstrap.resamples,
                "seed": self.bootstrap.seed,
                "level": self.bootstrap.level,
            },
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, data: Any) -> AgreementResult | None:
        """The result stored as ``data``, or None when nothing usable is stored."""
        if not isinstance(data, Mapping) or not isinstance(data.get("per_code"), Mapping):
            return None
        codes = tuple(str(c) for c in data.get("codes") or data["per_code"].keys())
        overall_data = data.get("overall") if isinstance(data.get("overall"), Mapping) else {}
        ku_values = overall_data.get("ku_alpha")
        ku_values = ku_values if isinstance(ku_values, Mapping) else {}
        ku_ci = overall_data.get("ku_alpha_ci")
        ku_ci = ku_ci if isinstance(ku_ci, Mapping) else {}
        ku_reasons = overall_data.get("ku_alpha_reasons")
        ku_reasons = ku_reasons if isinstance(ku_reasons, Mapping) else {}
        bootstrap = data.get("bootstrap") if isinstance(data.get("bootstrap"), Mapping) else {}
        return cls(
            schema=int(data.get("schema") or 1),
            unit=str(data.get("unit") or "token"),
            codes=codes,
            coders=tuple(str(c) for c in data.get("coders") or ()),
            counts=dict(data.get("counts") or {}),
            per_code={code: _figures_from_json(data["per_code"].get(code)) for code in codes},
            overall=_figures_from_json(overall_data),
            per_document=tuple(_document_from_json(d) for d in data.get("per_document") or ()),
            pairs=tuple(_pair_from_json(k, v) for k, v in (data.get("pairs") or {}).items()),
            usage={str(k): Usage.from_json(v) for k, v in (data.get("usage") or {}).items()},
            ku_alpha={
                str(code): Estimate(
                    _number(value),
                    Interval.from_json(ku_ci.get(code)),
                    str(ku_reasons.get(code) or ""),
                )
                for code, value in ku_values.items()
            },
            bootstrap=Bootstrap(
                resamples=int(bootstrap.get("resamples") or 0),
                seed=int(bootstrap.get("seed") or 0),
                level=float(bootstrap.get("level") or 0.95),
            ),
            notes=tuple(str(n) for n in data.get("notes") or ()),
        )


def _row(coefficient, code, scope, document_id, pair, estimate: Estimate) -> dict[str, Any]:
    interval = estimate.interval
    return {
        "coefficient": coefficient,
        "code": code or "",
        "scope": scope,
        "document_id": document_id,
        "pair": pair,
        "value": estimate.value,
        "ci_low": interval.low if interval else None,
        "ci_high": interval.high if interval else None,
        "ci_resamples": interval.resamples if interval and interval.available else None,
        "note": estimate.reason or (interval.reason if interval else ""),
    }


def _values(data: Any) -> dict[str, float | None]:
    return {str(k): _number(v) for k, v in data.items()} if isinstance(data, Mapping) else {}


def _document_from_json(data: Mapping) -> DocumentFigures:
    return DocumentFigures(
        id=int(data["id"]),
        coders=tuple(data.get("coders") or ()),
        units=int(data.get("units") or 0),
        alpha_u=_values(data.get("alpha_u")),
        alpha_nominal=_values(data.get("alpha_nominal")),
    )


def _pair_from_json(key: str, data: Mapping) -> PairFigures:
    first, _, second = str(key).partition("|")
    per_code = data.get("per_code") if isinstance(data.get("per_code"), Mapping) else {}
    return PairFigures(
        coders=(first, second),
        documents=int(data.get("documents") or 0),
        units=int(data.get("units") or 0),
        per_code={str(code): _values(v) for code, v in per_code.items()},
        overall=_values(data.get("overall")),
    )

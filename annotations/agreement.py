"""The agreement coefficients, re-exported from the pure-Python domain layer."""

from __future__ import annotations

from annotations.domain.agreement import (
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    scott_pi,
    span_f1,
    unitized_alpha,
)

__all__ = [
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "scott_pi",
    "span_f1",
    "unitized_alpha",
]

"""The agreement coefficients and the corpus report: the public API.

Every coefficient returns a ``float``, or ``None`` where it is undefined (no pairable
values, no variation, empty input). Each is tested against published worked examples and
independent reference implementations (``krippendorff``, scikit-learn, statsmodels, DKPro).
Offsets are 0-based, end-exclusive code points, as everywhere in Framing.

- ``unitizing_alpha_2016(spans, length, coders=None)``: Krippendorff's 2016 family (uα,
  |uα, cuα, (k)cuα, coverage) for spans ``(coder, start, end, value)`` on ``[0, length)``.
- ``unitized_alpha(spans, length, code=None, coders=None)``: the 2004 αu, as DKPro has it.
- ``krippendorff_alpha``, ``cohen_kappa``, ``scott_pi``, ``fleiss_kappa``, ``span_f1``.
"""

from __future__ import annotations

from annotations.domain.agreement.coefficients import (
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    scott_pi,
)
from annotations.domain.agreement.family import unitizing_alpha_2016
from annotations.domain.agreement.span_match import span_f1
from annotations.domain.agreement.unitizing import unitized_alpha

__all__ = [
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "scott_pi",
    "span_f1",
    "unitized_alpha",
    "unitizing_alpha_2016",
]

"""The agreement coefficients and the corpus report: the public API.

Every coefficient returns a ``float``, or ``None`` where it is undefined (no pairable
values, no variation, empty input). Each is tested against published worked examples and
independent reference implementations (``krippendorff``, scikit-learn, statsmodels, DKPro).
Offsets are 0-based, end-exclusive code points, as everywhere in Framing.
"""

from __future__ import annotations

from annotations.domain.agreement.coefficients import (
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    scott_pi,
)
from annotations.domain.agreement.span_match import span_f1
from annotations.domain.agreement.unitizing import unitized_alpha

__all__ = [
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "scott_pi",
    "span_f1",
    "unitized_alpha",
]

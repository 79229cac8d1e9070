"""Inter-coder agreement coefficients, exactly as defined in ``AGREEMENT.md``: the public facade.

Every public coefficient returns a ``float``, or ``None`` where the coefficient is undefined:
no pairable values, no variation (``D_e == 0`` or ``p_e == 1``), or empty input. Researchers
publish these numbers, so each one is tested against a published worked example and an
independent reference implementation (``krippendorff``, scikit-learn, statsmodels, DKPro).

The implementations live in one module per concept; import from here:

- :mod:`annotations.domain.coefficients`: coding coefficients (Krippendorff's alpha at every
  level of measurement, Cohen's kappa, Scott's pi, Fleiss' kappa) and their pooled forms.
- :mod:`annotations.domain.unitizing`: Krippendorff's alpha_U (Krippendorff 1995, 2004
  sec. 11.6, as DKPro Agreement's ``KrippendorffAlphaUnitizingAgreement`` implements it);
  see :func:`unitized_components` for the pieces the corpus report pools and bootstraps.
- :mod:`annotations.domain.span_match`: pairwise span F1 and one-to-one overlap matching.
"""

from __future__ import annotations

from annotations.domain.coefficients import (
    LEVELS,
    alpha_from_coincidences,
    cohen_kappa,
    cohen_kappa_from_table,
    coincidence_matrix,
    fleiss_kappa,
    fleiss_kappa_from_sums,
    krippendorff_alpha,
    scott_pi,
)
from annotations.domain.span_match import overlap_matches, span_f1
from annotations.domain.unitizing import (
    UnitizedComponents,
    gap_lengths,
    gap_tail_sums,
    merge_intervals,
    unitized_alpha,
    unitized_components,
    unitizing_expected,
    unitizing_observed_terms,
)

__all__ = [
    "LEVELS",
    "UnitizedComponents",
    "alpha_from_coincidences",
    "cohen_kappa",
    "cohen_kappa_from_table",
    "coincidence_matrix",
    "fleiss_kappa",
    "fleiss_kappa_from_sums",
    "gap_lengths",
    "gap_tail_sums",
    "krippendorff_alpha",
    "merge_intervals",
    "overlap_matches",
    "scott_pi",
    "span_f1",
    "unitized_alpha",
    "unitized_components",
    "unitizing_expected",
    "unitizing_observed_terms",
]

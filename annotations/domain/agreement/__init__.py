"""Inter-coder agreement: the maths and the corpus report, in plain Python and numpy.

Researchers and the rest of the app reach it through :mod:`annotations.agreement`, its one
public face. Inside, one module per concept, each importing only those listed before it:

- ``coefficients``: Krippendorff's alpha at every level, Cohen's kappa, Scott's pi, Fleiss'
  kappa, and their pooled forms.
- ``unitizing``: Krippendorff's alpha_U (1995; 2004 sec. 11.6), as DKPro Agreement has it.
- ``span_match``: pairwise span F1 and one-to-one overlap matching.
- ``corpus``: the corpus laid end to end, and the document bootstrap's shared pieces.
- ``nominal``, ``unitizing_report``, ``pairs``: the report's coefficients per concept.
- ``result``: the typed result, the only reader and writer of a stored report.
- ``report``: :func:`compute_report`, which builds that result.
- ``display``: table rows, chart bars and the methods sentence for pages and commands.
"""

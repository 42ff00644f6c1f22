"""pxlib.weighting: survey weights as plain functions returning a Series.

``rake``, ``calibrate``, ``poststratify``, ``trim``, ``nonresponse_adjust``;
diagnostics ``kish_ess``, ``design_effect``, ``weight_summary``; and
``collapse_sparse`` for weighting cells too sparse to weight. The same
operations on a design object are methods of :class:`pxlib.survey.Design`.
"""

from .adjust import nonresponse_adjust, poststratify, trim
from .calibration import calibrate
from .collapse import collapse_levels, collapse_sparse
from .diagnostics import design_effect, kish_ess, weight_summary
from .raking import rake

__all__ = [
    "calibrate",
    "collapse_levels",
    "collapse_sparse",
    "design_effect",
    "kish_ess",
    "nonresponse_adjust",
    "poststratify",
    "rake",
    "trim",
    "weight_summary",
]

"""pxlib.survey: the survey design object and design-based estimates.

``Design`` (immutable; rake / calibrate / poststratify / trim /
nonresponse_adjust return new designs), ``Estimate``, domain estimates via
``Design.by``, proportion intervals (``proportion_ci``), and the workbook's
summaries: ``always_event_share``, ``weights_from_margins``, ``top_box``,
``fft_scores``.
"""

from .ci import CI_METHODS, proportion_ci
from .design import Design, DesignWarning, Domains, Estimate
from .summaries import always_event_share, fft_scores, top_box, weights_from_margins

__all__ = [
    "CI_METHODS",
    "Design",
    "DesignWarning",
    "Domains",
    "Estimate",
    "always_event_share",
    "fft_scores",
    "proportion_ci",
    "top_box",
    "weights_from_margins",
]

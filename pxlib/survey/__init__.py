"""pxlib.survey: the survey design object and design-based estimates."""

from .ci import CI_METHODS, proportion_ci
from .design import Design, Domains, Estimate

__all__ = ["CI_METHODS", "Design", "Domains", "Estimate", "proportion_ci"]

"""What a design-based estimate returns: :class:`Estimate` (one estimate with its
linearised standard error and interval) and :class:`DesignWarning` (an estimate made,
part of it missing for a stated reason).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pxlib.errors import PxlibWarning


class DesignWarning(PxlibWarning):
    """An estimate was made, but part of it is missing for a stated reason (a domain with
    no respondents, no degrees of freedom for an interval, ...)."""


@dataclass(frozen=True)
class Estimate:
    """A design-based estimate with its linearised standard error and interval."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    level: float = 0.95
    df: float = np.inf
    method: str = "wald"
    n: int = 0
    statistic: str = ""

    def to_dict(self) -> dict:
        return {
            "statistic": self.statistic,
            "estimate": self.estimate,
            "se": self.se,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
            "df": self.df,
            "method": self.method,
            "n": self.n,
        }

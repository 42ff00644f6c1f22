"""Result objects returned by :func:`pxlib.spc.chart` and :func:`pxlib.spc.funnel`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class SPCResult:
    """What a chart computed.

    ``points``: one row per x per group (public columns in ``design.md``).
    ``summary``: one row per group and phase (limits, counts, signals, icons).
    The remaining fields record how the chart was asked for, so that figures and
    tables can label it without guessing.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    kind: str
    by: list[str] = field(default_factory=list)
    improvement: str = "neutral"
    target: float | None = None
    multiply: float = 1.0
    rules: tuple[str, ...] = ("anhoej",)
    y_label: str | None = None
    percent: bool = False

    def figure(self, **kwargs: Any):
        """A plotly Figure of the chart (see :func:`pxlib.spc.figures.spc_figure`)."""
        from pxlib.spc.figures import spc_figure

        return spc_figure(self, **kwargs)

    def summary_table(self, **kwargs: Any):
        """A pandas Styler: each group's latest value, limits and icons."""
        from pxlib.spc.figures import summary_table

        return summary_table(self, **kwargs)


@dataclass(frozen=True)
class FunnelResult:
    """What a funnel analysis computed: ``points`` has one row per unit."""

    points: pd.DataFrame
    kind: str
    unit: str
    overdispersion: bool = False
    multiply: float = 1.0
    y_label: str | None = None
    percent: bool = False
    #: the centre line (after ``multiply``) and the Laney sigma_z (1 without overdispersion)
    cl: float = float("nan")
    sigma_z: float = 1.0

    def limits(self, n, sigmas: float = 3.0):
        """Lower and upper limits at denominators ``n`` (arrays), for drawing the funnel."""
        from pxlib.spc.funnel import funnel_limits

        return funnel_limits(
            self.cl, n, kind=self.kind, sigma_z=self.sigma_z, sigmas=sigmas, multiply=self.multiply
        )

    def figure(self, **kwargs: Any):
        """A plotly Figure of the funnel (see :func:`pxlib.spc.figures.funnel_figure`)."""
        from pxlib.spc.figures import funnel_figure

        return funnel_figure(self, **kwargs)

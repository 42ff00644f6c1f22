"""Result objects returned by :func:`pxlib.spc.chart` and :func:`pxlib.spc.funnel`.

Each carries the chart's :class:`~pxlib.spc.spec.ChartSpec` (``result.spec``); its
``kind``, ``improvement``, ``target``, ``multiply``, ``rules``, ``y_label`` and
``percent`` are read from the spec. For code written before the spec existed, a
result can still be built from those options (``SPCResult(points, summary, "p",
["unit"], "increase", 90, percent=True)``): they make the spec, and given together
with ``spec`` they replace its fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from pxlib.spc.limits import funnel_limits
from pxlib.spc.signals import SIGNAL_ASCENDING, SIGNAL_ORDER
from pxlib.spc.spec import ChartSpec

if TYPE_CHECKING:
    import numpy as np
    import plotly.graph_objects as go
    from numpy.typing import ArrayLike
    from pandas.io.formats.style import Styler

_UNSET: Any = object()


def _make_spec(spec: ChartSpec | None, kind: str | ChartSpec | None, **options: Any) -> ChartSpec:
    """The result's spec: ``spec`` (or a spec given in place of ``kind``), or one made
    from ``kind``, with the options that were given replacing its fields."""
    given = {k: v for k, v in options.items() if v is not _UNSET}
    if isinstance(kind, ChartSpec):
        spec, kind = kind, None
    if kind is not None:
        given["kind"] = kind
    if spec is None:
        if "kind" not in given:
            raise TypeError("a result needs its spec (or at least the chart kind)")
        return ChartSpec(**given)
    return dataclasses.replace(spec, **given) if given else spec


class _ReadsSpec:
    """What every result reads from its :class:`~pxlib.spc.spec.ChartSpec`."""

    spec: ChartSpec

    @property
    def kind(self) -> str:
        """The chart kind (``spec.kind``)."""
        return self.spec.kind

    @property
    def multiply(self) -> float:
        """The scale factor of y (``spec.multiply``)."""
        return self.spec.multiply

    @property
    def y_label(self) -> str | None:
        """The y-axis label, or None (``spec.y_label``)."""
        return self.spec.y_label

    @property
    def percent(self) -> bool:
        """Whether the plotted values are a share (``spec.percent``)."""
        return self.spec.percent


@dataclass(frozen=True, init=False)
class SPCResult(_ReadsSpec):
    """What a chart computed.

    ``points``: one row per x per group (public columns in ``design.md``).
    ``summary``: one row per group and phase (limits, counts, signals, icons).
    ``spec``: how the chart was asked for (:class:`~pxlib.spc.spec.ChartSpec`), so that
    figures and tables can label and format it without guessing. ``by``: the group
    columns. ``signals``: one row per rule that fired at a point, tidy (``point``,
    ``rule``, ``direction``, ``run``, ``run_length``: :mod:`pxlib.spc.signals`); None
    for a result built by hand without one.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    spec: ChartSpec
    by: list[str] = field(default_factory=list)
    signals: pd.DataFrame | None = None

    def __init__(
        self,
        points: pd.DataFrame,
        summary: pd.DataFrame,
        kind: str | ChartSpec | None = None,
        by: list[str] | None = None,
        improvement: str = _UNSET,
        target: float | None = _UNSET,
        multiply: float = _UNSET,
        rules: tuple[str, ...] = _UNSET,
        y_label: str | None = _UNSET,
        percent: bool = _UNSET,
        *,
        spec: ChartSpec | None = None,
        signals: pd.DataFrame | None = None,
    ) -> None:
        made = _make_spec(
            spec,
            kind,
            improvement=improvement,
            target=target,
            multiply=multiply,
            rules=rules,
            y_label=y_label,
            percent=percent,
        )
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "summary", summary)
        object.__setattr__(self, "spec", made)
        object.__setattr__(self, "by", list(by) if by is not None else [])
        object.__setattr__(self, "signals", signals)

    def latest(self) -> pd.DataFrame:
        """One row per group: the ``summary`` row of the group's last phase (its current
        limits, ``variation_type`` and ``assurance_type``: the icons the group shows now),
        with the summary's index; empty (with those columns) for an empty summary."""
        summary = self.summary
        if summary is None or len(summary) == 0:
            return pd.DataFrame(columns=[*self.by, "variation_type", "assurance_type"])
        if "phase" in summary.columns:
            summary = summary.sort_values("phase", kind="stable")
        if self.by:
            return summary.groupby(list(self.by), sort=False, dropna=False, observed=True).tail(1)
        return summary.tail(1)

    def with_points(
        self,
        points: pd.DataFrame,
        summary: pd.DataFrame | None = None,
        *,
        cleared: ArrayLike | None = None,
    ) -> SPCResult:
        """This result with ``points`` (and ``summary``, if given) changed after the chart,
        its ``signals`` kept in step.

        ``points`` holds rows of ``self.points`` under their index labels: all of them or
        some, in any order, with any values or columns changed (the workbook blanks small
        numbers, leaves units out, demotes a pattern). The new result's points are those
        rows numbered 0, 1, ...; a signal moves with its point, and goes with a row left
        out or with a row in ``cleared`` (a boolean per row of ``points``: signals taken
        back). A pattern's ``run_length`` stays as the engine counted it.
        """
        import numpy as np

        old = self.points.index
        keys = [c for c in (*self.by, "x") if c in points.columns and c in self.points.columns]
        same = bool(old.is_unique and points.index.isin(old).all())
        if same and keys:
            before = self.points.loc[points.index, keys].reset_index(drop=True)
            same = before.equals(points[keys].reset_index(drop=True))
        if not same:
            raise ValueError(
                "with_points: the new points must be rows of the result's points, under their "
                "index labels and with their groups and x (do not reset the index before "
                "calling it)"
            )
        signals = self.signals
        if signals is not None:
            where = points.index.get_indexer(old[signals["point"].to_numpy()])
            keep = where >= 0
            if cleared is not None:
                gone = np.asarray(cleared, dtype=bool)
                if gone.shape != (len(points),):
                    raise ValueError("with_points: cleared needs one flag per row of points")
                keep[keep] = ~gone[where[keep]]
            signals = signals[keep].assign(point=where[keep].astype(np.int64))
            signals = signals.sort_values(SIGNAL_ORDER, ascending=SIGNAL_ASCENDING, kind="stable")
            signals = signals.reset_index(drop=True)
        return dataclasses.replace(
            self,
            points=points.reset_index(drop=True),
            summary=self.summary if summary is None else summary,
            signals=signals,
        )

    def _engine_signals(self, caller: str) -> pd.DataFrame:
        if self.signals is None:
            raise ValueError(
                f"{caller} reads the engine's signals frame: this result was built without "
                "one (make it with pxlib.spc.chart)"
            )
        return self.signals

    def flagged(self, rules: Iterable[str] | None = None) -> pd.Series:
        """Per row of ``points`` (under its index): whether any of ``rules`` (ids of
        :data:`pxlib.spc.rules.RULE_IDS`; every rule when None) fired at the point."""
        import numpy as np

        signals = self._engine_signals("flagged")
        if rules is not None:
            signals = signals[signals["rule"].isin(list(rules))]
        out = np.zeros(len(self.points), dtype=bool)
        out[signals["point"].to_numpy()] = True
        return pd.Series(out, index=self.points.index, name="flagged")

    def rules_at(self) -> pd.Series:
        """Per row of ``points`` (under its index): the ids of the rules that fired at the
        point (:data:`pxlib.spc.rules.RULE_IDS`), a tuple in order of precedence, empty
        where none did; the ids of the ``special_cause`` labels."""
        import numpy as np

        signals = self._engine_signals("rules_at").drop_duplicates(["point", "rule"])
        signals = signals.sort_values(["point", "rule"], kind="stable")
        points = signals["point"].to_numpy()
        names = signals["rule"].astype(str).to_numpy()
        starts = np.flatnonzero(np.diff(points, prepend=-1) != 0)
        out = np.empty(len(self.points), dtype=object)
        out[:] = [()] * len(out)
        if len(points):
            for at, fired in zip(points[starts], np.split(names, starts[1:]), strict=True):
                out[at] = tuple(fired)
        return pd.Series(out, index=self.points.index, name="rules")

    @property
    def improvement(self) -> str:
        """The direction of improvement: increase, decrease or neutral (``spec.improvement``)."""
        return self.spec.improvement

    @property
    def target(self) -> float | None:
        """The target in plotted units, or None (``spec.target``)."""
        return self.spec.target

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule sets applied (``spec.rules``)."""
        return self.spec.rules

    def figure(self, **kwargs: Any) -> go.Figure:
        """A plotly Figure of the chart (see :func:`pxlib.spc.plot.spc_figure`)."""
        from pxlib.spc.plot import spc_figure

        return spc_figure(self, **kwargs)

    def summary_table(self, **kwargs: Any) -> Styler:
        """A pandas Styler: each group's latest value, limits and icons."""
        from pxlib.spc.plot import summary_table

        return summary_table(self, **kwargs)


def stack_results(parts: list[SPCResult]) -> SPCResult:
    """One result of the charts ``parts`` of different groups (drawn with one spec): their
    points and summaries one after another, their signals renumbered to match (points by
    the offset of their part, patterns kept apart). Spec and ``by`` are the first part's."""
    import numpy as np

    points = pd.concat([p.points for p in parts], ignore_index=True)
    summary = pd.concat([p.summary for p in parts], ignore_index=True)
    signals = None
    frames = [p.signals for p in parts if p.signals is not None]
    if len(frames) == len(parts):
        sizes = np.array([len(p.points) for p in parts])
        runs = np.array([int(f["run"].max()) + 1 if len(f) else 0 for f in frames])
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        run_offsets = np.concatenate([[0], np.cumsum(runs)[:-1]])
        signals = pd.concat(
            [
                f.assign(point=f["point"] + at, run=f["run"] + first)
                for f, at, first in zip(frames, offsets, run_offsets, strict=True)
            ],
            ignore_index=True,
        )
        signals = signals.sort_values(SIGNAL_ORDER, ascending=SIGNAL_ASCENDING, kind="stable")
        signals = signals.reset_index(drop=True).astype({"point": np.int64, "run": np.int64})
    return dataclasses.replace(parts[0], points=points, summary=summary, signals=signals)


@dataclass(frozen=True, init=False)
class FunnelResult(_ReadsSpec):
    """What a funnel analysis computed: ``points`` has one row per unit; ``spec`` how
    it was asked for (kind, multiply, percent, y_label)."""

    points: pd.DataFrame
    spec: ChartSpec
    unit: str
    overdispersion: bool = False
    #: the centre line (after ``multiply``) and the Laney sigma_z (1 without overdispersion)
    cl: float = float("nan")
    sigma_z: float = 1.0

    def __init__(
        self,
        points: pd.DataFrame,
        kind: str | ChartSpec | None = None,
        unit: str | None = None,
        overdispersion: bool = False,
        multiply: float = _UNSET,
        y_label: str | None = _UNSET,
        percent: bool = _UNSET,
        cl: float = float("nan"),
        sigma_z: float = 1.0,
        *,
        spec: ChartSpec | None = None,
    ) -> None:
        if unit is None:
            raise TypeError("FunnelResult needs the name of its unit column (unit=)")
        made = _make_spec(spec, kind, multiply=multiply, y_label=y_label, percent=percent)
        object.__setattr__(self, "points", points)
        object.__setattr__(self, "spec", made)
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "overdispersion", bool(overdispersion))
        object.__setattr__(self, "cl", float(cl))
        object.__setattr__(self, "sigma_z", float(sigma_z))

    def limits(self, n: ArrayLike, sigmas: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper limits at denominators ``n`` (arrays), for drawing the funnel."""
        return funnel_limits(
            self.cl, n, kind=self.kind, sigma_z=self.sigma_z, sigmas=sigmas, multiply=self.multiply
        )

    def figure(self, **kwargs: Any) -> go.Figure:
        """A plotly Figure of the funnel (see :func:`pxlib.spc.plot.funnel_figure`)."""
        from pxlib.spc.plot import funnel_figure

        return funnel_figure(self, **kwargs)

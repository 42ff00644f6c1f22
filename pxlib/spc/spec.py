"""One chart's specification, decided once: :class:`ChartSpec`.

:func:`pxlib.spc.chart` and :func:`pxlib.spc.funnel` validate their options and
build one frozen ``ChartSpec``, carried on the result (``result.spec``). Whatever
writes a value of the chart (figures, tables, captions, verdicts) asks the spec,
never ``multiply`` or the kind, so that "is this chart in percent", the direction
of improvement, the target's units and the number format have one home
(NHSRplotthedots keeps its validated ``ptd_spc_options`` on the result the same
way).

Units: ``target`` and every value passed to :meth:`ChartSpec.format_value` are in
the units of the plotted y, i.e. after ``multiply``. A chart is *in percent*
(``percent``) when its plotted values are a proportion (p and pp charts with
``multiply`` 1: 0.95 means 95 %) or a percentage (``multiply`` 100: 95 means 95 %).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

from pxlib.errors import ChartError
from pxlib.fmt import literal
from pxlib.spc.limits import KINDS, LIMIT_METHODS, PROPORTION_KINDS
from pxlib.spc.validate import check_multiply as _check_multiply
from pxlib.spc.validate import is_number as _is_number

#: improvement direction -> sign: higher is better (+1), lower is better (-1), neither (0)
IMPROVEMENT = {"increase": 1, "decrease": -1, "neutral": 0}
#: kinds whose plotted values cannot be negative, so neither can a target
NON_NEGATIVE_KINDS = ("p", "pp", "u", "up", "c", "g", "t", "mr", "s")
#: significant figures of a value that is not a percentage (3.2, 1,234, 0.01235)
SIGNIFICANT = 4


def in_percent(kind: str, multiply: float, has_n: bool = False) -> bool:
    """Whether a ``kind`` chart scaled by ``multiply`` plots a share: p and pp charts,
    and run charts of y over n (sum(y)/sum(n)), with ``multiply`` 1 (a proportion) or
    100 (a percentage)."""
    share = kind in PROPORTION_KINDS or (kind == "run" and has_n)
    return share and float(multiply) in (1.0, 100.0)


@dataclass(frozen=True)
class ChartSpec:
    """How a chart was asked for, validated once.

    ``kind``: the chart kind; ``rules``: the rule sets applied ("anhoej", "mdc",
    "ihi"); ``improvement``: "increase", "decrease" or "neutral"; ``target``: in
    plotted units (after ``multiply``) or None; ``percent``: the plotted values are
    a proportion (``multiply`` 1) or a percentage (``multiply`` 100); ``limits``:
    the limits method asked for ("normal", "exact" or "auto"; what each phase got is
    ``summary['limits']``); ``shift``, ``trend``: the MDC run lengths.
    """

    kind: str
    rules: tuple[str, ...] = ("anhoej",)
    improvement: str = "neutral"
    target: float | None = None
    multiply: float = 1.0
    percent: bool = False
    y_label: str | None = None
    limits: str = "normal"
    shift: int = 7
    trend: int = 7

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ChartError(f"unknown chart kind {self.kind!r}; choose one of {', '.join(KINDS)}")
        if self.improvement not in IMPROVEMENT:
            raise ChartError(
                f"improvement must be 'increase', 'decrease' or 'neutral', not {self.improvement!r}"
            )
        _check_multiply(self.multiply)
        if self.limits not in LIMIT_METHODS:
            raise ChartError(
                f"limits must be one of {', '.join(map(repr, LIMIT_METHODS))}, not {self.limits!r}"
            )
        if self.limits != "normal" and self.kind != "p":
            raise ChartError(
                f"limits={self.limits!r} (binomial probability limits) is for p charts only, "
                f"not a {self.kind} chart"
            )
        if self.percent and float(self.multiply) not in (1.0, 100.0):
            raise ChartError(
                f"a chart in percent plots a proportion (multiply 1) or a percentage "
                f"(multiply 100), not values multiplied by {literal(self.multiply)}"
            )
        if self.target is not None and not _is_number(self.target):
            raise ChartError(f"target must be a number, not {literal(self.target)}")
        object.__setattr__(self, "rules", tuple(self.rules))
        object.__setattr__(self, "multiply", float(self.multiply))
        object.__setattr__(self, "percent", bool(self.percent))
        if self.target is not None:
            object.__setattr__(self, "target", float(self.target))

    @property
    def direction(self) -> int:
        """+1 when higher is better, -1 when lower is better, 0 for neutral."""
        return IMPROVEMENT[self.improvement]

    @property
    def _proportion(self) -> bool:
        """The plotted values are proportions (0.95 is 95 %)."""
        return self.percent and self.multiply == 1.0

    def format_value(self, v: float | None, decimals: int = 0) -> str:
        """``v`` (in plotted units) in words: a share as a percentage with ``decimals``
        digits after the point (0.95 with multiply 1, or 95 with multiply 100: "95%"),
        any other value to 4 significant figures with thousands separators ("3.2",
        "1,234"); a missing or non-finite value is "n/a"."""
        if v is None:
            return "n/a"
        v = float(v)
        if not math.isfinite(v):
            return "n/a"
        if self.percent:
            pct = v * 100.0 if self._proportion else v
            return f"{pct:.{int(decimals)}f}%"
        return f"{v:,.{SIGNIFICANT}g}"

    def hover(self, ref: str) -> str:
        """A plotly hover-template field showing the value ``ref`` (e.g. "y") as
        :meth:`format_value` would with one decimal."""
        if self._proportion:
            return f"%{{{ref}:.1%}}"
        if self.percent:
            return f"%{{{ref}:.1f}}%"
        return f"%{{{ref}:,.{SIGNIFICANT}~r}}"

    def axis(self) -> dict[str, str]:
        """Plotly y-axis settings for the plotted values (percent ticks for shares)."""
        if self._proportion:
            return {"tickformat": ".0%", "hoverformat": ".1%"}
        if self.percent:
            return {"ticksuffix": "%"}
        return {}

    def to_plotted(self, value: float | str) -> float:
        """A user's target (or any value) in plotted units.

        On a chart in percent, "80%", "80 %", "80", 80 and 0.8 all mean 80 %: text
        ending in "%" is a percentage, a bare number above 1 a percentage and one from
        0 to 1 a proportion (so 1 means 100 %; write "1%" for one percent). The result
        is 80 with multiply 100 and 0.8 with multiply 1. On any other chart the value
        is taken as it is, in plotted units. Raises :class:`~pxlib.errors.ChartError`
        for text that is no number, a "%" on a chart not in percent, a share below
        0 % or above 100 %, or a negative value on a chart of counts, rates or times.
        """
        given = value
        marked = False
        if isinstance(value, str):
            text = value.strip()
            marked = text.endswith("%")
            text = text.removesuffix("%").strip()
            try:
                value = float(text)
            except ValueError:
                raise ChartError(
                    f"{given!r} is not a number; give a target such as 80, '80%' or 0.8"
                ) from None
        elif not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ChartError(f"{given!r} is not a number; give a target such as 80, '80%' or 0.8")
        value = float(value)
        if not math.isfinite(value):
            raise ChartError(f"{given!r} is not a finite number")
        if self.percent:
            if value < 0:
                raise ChartError(f"{given!r} is negative; a share lies between 0 % and 100 %")
            share = value / 100.0 if (marked or value > 1) else value
            if share > 1:
                raise ChartError(f"{given!r} is above 100 %; a share lies between 0 % and 100 %")
            # rounded so that 0.8 gives 80 rather than 80.00000000000001
            return round(share * self.multiply, 12)
        if marked:
            raise ChartError(
                f"{given!r} is a percentage but this {self.kind} chart is not in percent; "
                "give the value in the chart's units"
            )
        if value < 0 and self.kind in NON_NEGATIVE_KINDS:
            raise ChartError(f"{given!r} is negative; a {self.kind} chart has no negative values")
        return value


def chart_spec(
    kind: str,
    rule_set: Sequence[str],
    improvement: str,
    target: float | str | None,
    multiply: float,
    y_label: str | None,
    limits: str,
    shift: int,
    trend: int,
    has_n: bool = False,
) -> ChartSpec:
    """The chart's spec, which validates itself (the other options are checked by
    :func:`pxlib.spc.validate.check_settings`); a text target is converted to plotted units by
    ``ChartSpec.to_plotted``."""
    spec = ChartSpec(
        kind=kind,
        rules=tuple(rule_set),
        improvement=improvement,
        target=None if isinstance(target, str) else target,
        multiply=float(multiply),
        percent=in_percent(kind, multiply, has_n),
        y_label=y_label,
        limits=limits,
        shift=int(shift),
        trend=int(trend),
    )
    if isinstance(target, str):
        spec = dataclasses.replace(spec, target=spec.to_plotted(target))
    return spec


__all__ = ["ChartSpec", "IMPROVEMENT", "chart_spec", "in_percent"]

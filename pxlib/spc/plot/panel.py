"""One chart's traces on one pair of axes: the data line, the centre line (dashed
where the runs show a change), the process limits and 2-sigma lines drawn per phase,
the target, and the points by point type in the MDC colours with their own marker
symbols, each with its hover in plain words; plus the phase lines and labels
(:mod:`pxlib.spc.plot.annotations`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pxlib.escape import html_text
from pxlib.spc import vocabulary
from pxlib.spc.plot.annotations import phase_marks
from pxlib.spc.plot.groups import group_label
from pxlib.spc.plot.values import as_bools, as_floats, is_datetime, optional_floats, plotly_x
from pxlib.spc.plot.words import (
    LINE_NAMES,
    signal_texts,
    signal_words,
    split_rules,
    target_text,
)
from pxlib.spc.plot.xaxis import XScale
from pxlib.spc.spec import ChartSpec
from pxlib.spc.theme import NHS_DARK_GREY, NHS_MID_GREY

if TYPE_CHECKING:
    from pxlib.spc.result import SPCResult

_MEDIAN_KINDS = {"run", "g"}  # kinds whose centre line is the median
LIMIT_COLOUR = NHS_MID_GREY
CL_COLOUR = "#231F20"
_DATA_COLOUR = "#A6AEB3"


def _segments(phase: np.ndarray) -> list[tuple[int, int, Any]]:
    """(start, end, phase) of each run of equal phase values, in x order."""
    m = len(phase)
    if m == 0:
        return []
    change = np.ones(m, dtype=bool)
    change[1:] = phase[1:] != phase[:-1]
    starts = np.flatnonzero(change)
    ends = np.r_[starts[1:], m]
    return [(int(a), int(b), phase[a]) for a, b in zip(starts, ends, strict=True)]


def _stepped(
    x: list, values: np.ndarray, segments: list[tuple[int, int, Any]]
) -> tuple[list, np.ndarray] | None:
    """x and y of a line drawn per phase, broken between phases.

    A phase whose value is constant is drawn from its first to its last x with two
    points (compact JSON); a varying one (p and u charts with unequal n) point by
    point, drawn as steps centred on the points (plotly ``hvh``).
    """
    xs: list = []
    ys: list[float] = []
    for a, b, _ in segments:
        v = values[a:b]
        keep = np.flatnonzero(np.isfinite(v))
        if not len(keep):
            continue
        if xs:
            xs.append(None)
            ys.append(np.nan)
        v = v[keep]
        if np.allclose(v, v[0], rtol=1e-12, atol=0):
            xs += [x[a + keep[0]], x[a + keep[-1]]]
            ys += [v[0], v[0]]
        else:
            xs += [x[a + k] for k in keep]
            ys += v.tolist()
    if not xs:
        return None
    return xs, np.asarray(ys, dtype=float)


def _two_sigma(cl: np.ndarray, lcl: np.ndarray, ucl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """2-sigma lines where the engine gave none: cl ± 2σ, σ from the 3σ limits.

    σ = max(ucl − cl, cl − lcl)/3 (a limit cut at 0 or 1 is the shorter side);
    the 2-sigma lines are cut at the same bounds as the 3-sigma limits.
    """
    with np.errstate(invalid="ignore"):
        sigma = np.fmax(ucl - cl, cl - lcl) / 3
        lo = np.maximum(cl - 2 * sigma, np.where(np.isfinite(lcl), lcl, -np.inf))
        hi = np.minimum(cl + 2 * sigma, np.where(np.isfinite(ucl), ucl, np.inf))
    return lo, hi


class Panel:
    """Traces, shapes and annotations of one group on one pair of axes."""

    def __init__(
        self,
        result: SPCResult,
        spec: ChartSpec,
        opts: dict[str, Any],
        seen: set[str],
        scale: XScale | None = None,
    ):
        self.result = result
        self.spec = spec
        self.opts = opts
        self.seen = seen
        self.scale = scale
        self.traces: list[dict] = []
        self.shapes: list[dict] = []
        self.annotations: list[dict] = []
        self.phase_levels = 0  # levels of phase labels above the plotting area

    def _legend(self, name: str, rank: int) -> dict[str, Any]:
        show = name not in self.seen
        self.seen.add(name)
        return {"name": name, "legendgroup": name, "showlegend": show, "legendrank": rank}

    def build(self, frame: pd.DataFrame, key: tuple, xa: str, ya: str) -> None:
        result, spec, opts = self.result, self.spec, self.opts
        if is_datetime(frame["x"]) or pd.api.types.is_numeric_dtype(frame["x"]):
            frame = frame.sort_values("x", kind="stable")  # labels keep the engine's order
        axes = {"xaxis": xa, "yaxis": ya}
        dates = is_datetime(frame["x"])
        x = plotly_x(frame["x"])
        y = as_floats(frame["y"])
        cl = as_floats(frame["cl"])
        lcl, ucl, n = (optional_floats(frame, c) for c in ("lcl", "ucl", "n"))
        has_limits = bool(np.isfinite(lcl).any() or np.isfinite(ucl).any())
        phase = frame["phase"].to_numpy() if "phase" in frame.columns else np.ones(len(frame))
        segments = _segments(phase)

        # data line (gaps where y is missing)
        self.traces.append(
            {
                "type": "scatter",
                "x": x,
                "y": y,
                "mode": "lines",
                "line": {"color": _DATA_COLOUR, "width": 1.5},
                "hoverinfo": "skip",
                "connectgaps": False,
                **self._legend(LINE_NAMES["data"], 0),
                "showlegend": False,
                **axes,
            }
        )

        # centre line, split by the phases' runs signal
        median = result.kind in _MEDIAN_KINDS
        cl_name = LINE_NAMES["cl_median" if median else "cl_mean"]
        runs = self._runs_by_phase(key)
        plain = [s for s in segments if not runs.get(s[2])]
        flagged = [s for s in segments if runs.get(s[2])]
        for segs, name, dash, rank in (
            (plain, cl_name, "solid", 10),
            (flagged, LINE_NAMES["cl_runs"], "dash", 11),
        ):
            line = _stepped(x, cl, segs) if segs else None
            if line is None:
                continue
            self.traces.append(
                {
                    "type": "scatter",
                    "x": line[0],
                    "y": line[1],
                    "mode": "lines",
                    "line": {"color": CL_COLOUR, "width": 1.5, "dash": dash, "shape": "hvh"},
                    "hovertemplate": f"{html_text(name)}: {spec.hover('y')}<extra></extra>",
                    **self._legend(name, rank),
                    **axes,
                }
            )

        # limits, and 2-sigma lines
        if has_limits:
            values = {"ucl": ucl, "lcl": lcl}
            limit_lines = [("ucl", "solid", 1.5, 20), ("lcl", "solid", 1.5, 21)]
            if opts["show_2sigma"]:
                limit_lines += [("ucl_2s", "dot", 1, 30), ("lcl_2s", "dot", 1, 31)]
                if "lcl_2s" in frame.columns and "ucl_2s" in frame.columns:
                    values["lcl_2s"], values["ucl_2s"] = (
                        as_floats(frame["lcl_2s"]),
                        as_floats(frame["ucl_2s"]),
                    )
                else:
                    values["lcl_2s"], values["ucl_2s"] = _two_sigma(cl, lcl, ucl)
            for col, dash, width, rank in limit_lines:
                line = _stepped(x, values[col], segments)
                if line is None:
                    continue
                name = LINE_NAMES[col]
                self.traces.append(
                    {
                        "type": "scatter",
                        "x": line[0],
                        "y": line[1],
                        "mode": "lines",
                        "line": {
                            "color": LIMIT_COLOUR,
                            "width": width,
                            "dash": dash,
                            "shape": "hvh",
                        },
                        "hovertemplate": f"{name}: {spec.hover('y')}<extra></extra>",
                        **self._legend(name, rank),
                        **axes,
                    }
                )

        # target
        target = result.target
        if opts["show_target"] and target is not None and np.isfinite(target) and x:
            name = f"{LINE_NAMES['target']} ({target_text(spec, target)})"
            xs = [v for v in x if v is not None]
            self.traces.append(
                {
                    "type": "scatter",
                    "x": [xs[0], xs[-1]],
                    "y": [float(target), float(target)],
                    "mode": "lines",
                    "line": {"color": vocabulary.TARGET_COLOUR, "width": 1.5, "dash": "dash"},
                    "hovertemplate": f"{name}<extra></extra>",
                    **self._legend(name, 40),
                    **axes,
                }
            )

        self._points(frame, x, y, n, cl, lcl, ucl, has_limits, axes, key)
        named = frame["phase_label"].to_numpy(dtype=object) if "phase_label" in frame else None
        shapes, notes, self.phase_levels = phase_marks(
            segments, x, dates, xa, ya, opts["phase_labels"], named, self.scale
        )
        self.shapes += shapes
        self.annotations += notes

    def _runs_by_phase(self, key: tuple) -> dict:
        """{phase: runs signal} where the chart's rules include the Anhøj runs tests."""
        summary = self.result.summary
        if "anhoej" not in tuple(self.result.rules or ()):
            return {}
        if summary is None or "runs_signal" not in summary.columns or len(summary) == 0:
            return {}
        rows = summary
        for col, value in zip(self.result.by, key, strict=False):
            rows = rows[rows[col] == value]
        phases = rows["phase"] if "phase" in rows.columns else pd.Series([1] * len(rows))
        flags = rows["runs_signal"].astype("boolean").fillna(False)
        return dict(zip(phases.tolist(), flags.tolist(), strict=True))

    def _points(self, frame, x, y, n, cl, lcl, ucl, has_limits, axes, key) -> None:
        result, spec, opts = self.result, self.spec, self.opts
        m = len(frame)
        types = (
            frame["point_type"].astype(object).where(frame["point_type"].notna(), "common_cause")
            if "point_type" in frame.columns
            else pd.Series(["common_cause"] * m, index=frame.index)
        ).to_numpy()
        include = as_bools(frame["include"] if "include" in frame.columns else None, m, True)
        mixed = as_bools(
            frame["mixed_signal"] if "mixed_signal" in frame.columns else None, m, False
        )
        causes = (
            frame["special_cause"].to_numpy(dtype=object)
            if "special_cause" in frame.columns
            else np.full(m, "", dtype=object)
        )
        has_y = np.isfinite(y)
        has_n = bool(np.isfinite(n).any())
        dates = is_datetime(frame["x"])
        head = f"<b>{html_text(group_label(key))}</b><br>" if key and opts["group_in_hover"] else ""
        x_hover = "%{x|%d %b %Y}" if dates else f"{html_text(opts['x_title'] or 'Subgroup')} %{{x}}"
        value_name = html_text(result.y_label or "Value")
        # the rules that fired at each point with a value, in words: from the engine's
        # signals frame, or for a result built by hand from its special_cause text
        signals = np.full(m, "", dtype=object)
        valued = np.flatnonzero(has_y)
        if result.signals is not None:
            if "signal_words" not in opts:  # once per figure, for all its panels
                opts["signal_words"] = signal_words(
                    result.signals, len(result.points), result.improvement
                )
            positions = result.points.index.get_indexer(frame.index[valued])
            signals[valued] = opts["signal_words"][positions]
        else:
            signals[valued] = signal_texts(
                split_rules(causes[valued]),
                y[valued],
                cl[valued],
                ucl[valued],
                result.improvement,
                counted=include[valued],
            )
        mixed_note = "Part of both an improvement and a concern pattern"
        for rank, (ptype, style) in enumerate(vocabulary.POINT_STYLES.items(), start=1):
            sel = (types == ptype) & has_y
            if not sel.any():
                continue
            idx = np.flatnonzero(sel)
            text = [
                signals[i] + (("<br>" if signals[i] else "") + mixed_note if mixed[i] else "")
                for i in idx
            ]
            excluded = ~include[idx]
            text = [
                (t + "<br>" if t else "") + "Left out of the limit calculation" if ex else t
                for t, ex in zip(text, excluded, strict=True)
            ]
            any_text = any(text)
            template = [head + x_hover, f"{value_name}: {spec.hover('y')}"]
            custom = []
            if has_n:
                custom.append(n[idx])
                template.append("n = %{customdata[0]:,.4~r}")
            limits_ok = has_limits and np.isfinite(lcl[idx]).all() and np.isfinite(ucl[idx]).all()
            c0 = len(custom)
            if limits_ok:
                custom += [cl[idx], lcl[idx], ucl[idx]]
                template.append(
                    f"Process limits {spec.hover(f'customdata[{c0 + 1}]')} to "
                    f"{spec.hover(f'customdata[{c0 + 2}]')}; centre line "
                    f"{spec.hover(f'customdata[{c0}]')}"
                )
            else:
                custom.append(cl[idx])
                template.append(f"Centre line {spec.hover(f'customdata[{c0}]')}")
            if any_text:
                template.append("%{text}")
            symbol: Any = style["symbol"]
            if excluded.any():
                symbol = [f"{style['symbol']}-open" if ex else style["symbol"] for ex in excluded]
            line_colour: Any = "white"
            line_width: Any = 0.5
            if mixed[idx].any():
                line_colour = [NHS_DARK_GREY if mx else "white" for mx in mixed[idx]]
                line_width = [2 if mx else 0.5 for mx in mixed[idx]]
            trace = {
                "type": "scatter",
                "x": [x[i] for i in idx],
                "y": y[idx],
                "mode": "markers",
                "marker": {
                    "color": style["color"],
                    "symbol": symbol,
                    "size": opts["marker_size"] + (0 if ptype == "common_cause" else 2),
                    "line": {"color": line_colour, "width": line_width},
                },
                "customdata": np.column_stack(custom).astype(np.float32),  # display only: 4 bytes
                "hovertemplate": "<br>".join(template),
                **self._legend(style["name"], rank),
                **axes,
            }
            if any_text:
                trace["text"] = text
            self.traces.append(trace)

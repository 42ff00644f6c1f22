"""pxlib.spc: run and control charts (qicharts2 / Anhøj and Making Data Count rules),
and funnel plots."""

from pxlib.spc.chart import chart
from pxlib.spc.funnel import funnel
from pxlib.spc.result import FunnelResult, SPCResult
from pxlib.spc.spec import ChartSpec
from pxlib.spc.weighted import weighted_counts

__all__ = ["chart", "funnel", "weighted_counts", "SPCResult", "FunnelResult", "ChartSpec"]

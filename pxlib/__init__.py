"""pxlib: statistics for the Always Events improvement-science workbook.

Statistical process control (run and control charts with the Anhøj and Making
Data Count rules) and survey weighting with design-based estimation, for NHS
teams defining, testing and spreading an Always Event.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pxlib")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

"""pxlib.report: batch runs of the workbook, offline HTML reports and their index.

- :func:`run_batch` / ``pxlib batch``: chosen notebooks for chosen
  organisations, in parallel (a spawn-safe process pool, or a Dask cluster),
  each organisation seeing only its own records; writes
  ``<out>/<org>/<notebook>.html`` and ``.ipynb``, ``results.csv``, a log and
  ``index.html``; ``resume=True`` skips what is unchanged.
- :func:`record_results`: what a notebook calls to put its key results in the index.
- :class:`ReportExporter`: executed notebook -> HTML with code hidden that loads
  nothing from a network.
"""

from pxlib.report.batch import RESULT_COLUMNS, run_batch, select_notebooks, validate_parameters
from pxlib.report.batch_cli import add_batch_arguments, run_batch_from_args
from pxlib.report.export import ReportExporter, external_loads
from pxlib.report.index import write_index
from pxlib.report.results import json_safe, read_results, record_results

__all__ = [
    "RESULT_COLUMNS",
    "ReportExporter",
    "add_batch_arguments",
    "external_loads",
    "json_safe",
    "read_results",
    "record_results",
    "run_batch",
    "run_batch_from_args",
    "select_notebooks",
    "validate_parameters",
    "write_index",
]

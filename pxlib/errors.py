"""The exceptions pxlib users see.

Every message names what a facilitator can act on: the file, row and column,
the chart group, the margin. Messages never quote the content of a patient's
answer or comment.
"""

from __future__ import annotations


class PxlibError(Exception):
    """Base class of every error pxlib raises on purpose."""


class PxlibWarning(UserWarning):
    """Base class of warnings pxlib issues (trial limits, collapsed cells, ...)."""


# --- input data -----------------------------------------------------------


class DataValidationError(PxlibError, ValueError):
    """Input data failed validation.

    ``rejected`` holds a DataFrame of every rejected row (file, row, column,
    reason) when the error comes from a loader in strict mode.
    """

    def __init__(self, message: str, rejected=None):
        super().__init__(message)
        self.rejected = rejected


class ColumnError(DataValidationError):
    """A required column is missing, or a column name is ambiguous."""


# --- SPC --------------------------------------------------------------------


class ChartError(PxlibError, ValueError):
    """The data cannot support the chart asked for (e.g. y > n on a p chart)."""


class ChartWarning(PxlibWarning):
    """A chart was drawn but with a caveat (trial limits, too few points, ...)."""


# --- weighting and estimation ------------------------------------------------


class WeightingError(PxlibError, ValueError):
    """Weights could not be made as asked (bad margins, empty cells, ...)."""


class ConvergenceError(WeightingError):
    """Raking or calibration did not reach the targets within the iterations."""


class WeightingWarning(PxlibWarning):
    """Weights were made, with a change the user should know about."""


class DesignError(PxlibError, ValueError):
    """A survey design or estimate was asked for in a way that cannot work."""


# --- notebooks and batch runs ------------------------------------------------


class ParameterError(PxlibError, ValueError):
    """A notebook parameter is unknown or of the wrong type."""


class BatchError(PxlibError, RuntimeError):
    """A batch run could not be set up."""


# --- exit statuses of the command line ----------------------------------------

#: everything ran and nothing was set aside
EXIT_OK = 0
#: the command could not run at all (bad options, unreadable or missing inputs, a busy --out)
EXIT_COULD_NOT_RUN = 2
#: ``pxlib validate``: the data loaded, but some rows were rejected (each listed with its reason)
EXIT_ROWS_REJECTED = 3
#: ``pxlib batch`` / ``pxlib demo``: the batch finished, but one or more reports failed
EXIT_REPORTS_FAILED = 4
#: interrupted by Ctrl-C or SIGTERM (finished reports are kept)
EXIT_INTERRUPTED = 130

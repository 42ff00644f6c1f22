"""National patient-experience data as NHS England publishes it.

Friends and Family Test (``../shared/national-data.md`` section 1):

- :func:`read_fft` -- one published monthly workbook (any documented setting) or raw
  SDCS extract, as tidy frames by level;
- :func:`read_fft_dir` -- a folder of monthly files as one long frame per level;
- :func:`fft_suppress` -- NHS England's suppression reproduced from counts;
- :func:`fft_aggregate` -- counts re-summed to a higher level, percentages recomputed;
- :func:`write_fft_workbook` -- frames of counts written in the published layout;
- :func:`write_sample_fft` -- the synthetic sample's published-layout inpatient files.

GP Patient Survey, NCPES, CQC adult inpatient survey and NHS Staff Survey (sections
2-5): :func:`read_gpps`, :func:`read_ncpes`, :func:`read_cqc`, :func:`read_staff_survey`;
layouts the reference leaves unconfirmed fail by the column they expected.
"""

from pxlib.data.national.cqc import read_cqc
from pxlib.data.national.fft import FFTLayoutWarning, FFTLevels, read_fft, read_fft_dir
from pxlib.data.national.fft_stats import fft_aggregate
from pxlib.data.national.fft_suppression import fft_suppress
from pxlib.data.national.fft_writer import write_fft_workbook
from pxlib.data.national.gpps import SERIES_BREAK_2024, read_gpps, read_gpps_dir, series_break
from pxlib.data.national.ncpes import read_ncpes
from pxlib.data.national.sample_fft import write_sample_fft
from pxlib.data.national.staff_survey import PEOPLE_PROMISE_ELEMENTS, read_staff_survey

__all__ = [
    "PEOPLE_PROMISE_ELEMENTS",
    "SERIES_BREAK_2024",
    "read_cqc",
    "read_gpps",
    "read_gpps_dir",
    "read_ncpes",
    "read_staff_survey",
    "series_break",
    "FFTLayoutWarning",
    "FFTLevels",
    "fft_aggregate",
    "fft_suppress",
    "read_fft",
    "read_fft_dir",
    "write_fft_workbook",
    "write_sample_fft",
]

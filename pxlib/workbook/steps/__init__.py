"""What each workbook step computes, as single calls for the notebooks: one module per step.

- :mod:`~pxlib.workbook.steps.common`: whose data these are, their units, where files go
  (every notebook);
- :mod:`~pxlib.workbook.steps.insight` (01 what matters): FFT and GPPS results, shares
  by group, the index's records;
- :mod:`~pxlib.workbook.steps.define` (02 define): the current share, sample sizes, the
  criteria's evidence, the index's record;
- :mod:`~pxlib.workbook.steps.measurement` (03 test and measure): :func:`reliability`
  (weekly shares, frozen baselines and confirmed phases, the chart and each unit's
  reading in one call), :func:`read_weekly`, :func:`results_records`;
- :mod:`~pxlib.workbook.steps.spread_sustain` (04 spread and sustain): the quarter's
  funnel, adoption, sustain charts and their status, sites.

Every public name is re-exported here, so notebooks call ``steps.<name>``.
"""

from pxlib.workbook.steps.common import (
    about_data,
    default_unit,
    organisation_label,
    output_path,
    units_of,
)
from pxlib.workbook.steps.define import (
    SAMPLING_HEADERS,
    criteria_evidence,
    current_share,
    define_record,
    expected_per_week,
    sampling_alt,
    sampling_table,
    unit_status,
    weighting_variables,
)
from pxlib.workbook.steps.insight import (
    GROUP_NAMES,
    fft_by_ward,
    fft_for,
    fft_monthly_chart,
    gpps_for,
    insight_records,
    question_shares,
    share_by_group,
    weakest_text,
)
from pxlib.workbook.steps.measurement import (
    PDSA_HEADERS,
    RECENT_SPARK_WEEKS,
    Reliability,
    family_chart,
    pdsa_table,
    plan_text,
    read_weekly,
    reliability,
    results_records,
    verdict_lines,
)
from pxlib.workbook.steps.spread_sustain import (
    SUSTAIN_ADVICE,
    adoption_table,
    quarter_bounds,
    quarter_funnel,
    site_chart,
    spread_records,
    sustain,
    sustain_status,
)

__all__ = [
    "GROUP_NAMES",
    "PDSA_HEADERS",
    "RECENT_SPARK_WEEKS",
    "SAMPLING_HEADERS",
    "SUSTAIN_ADVICE",
    "Reliability",
    "about_data",
    "adoption_table",
    "criteria_evidence",
    "current_share",
    "default_unit",
    "define_record",
    "expected_per_week",
    "family_chart",
    "fft_by_ward",
    "fft_for",
    "fft_monthly_chart",
    "gpps_for",
    "insight_records",
    "organisation_label",
    "output_path",
    "pdsa_table",
    "plan_text",
    "quarter_bounds",
    "quarter_funnel",
    "question_shares",
    "read_weekly",
    "reliability",
    "results_records",
    "sampling_alt",
    "sampling_table",
    "share_by_group",
    "site_chart",
    "spread_records",
    "sustain",
    "sustain_status",
    "unit_status",
    "units_of",
    "verdict_lines",
    "weakest_text",
    "weighting_variables",
]

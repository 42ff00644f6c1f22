"""Workflow-step logic of the Always Events workbook (not SPC or survey maths).

The notebooks in ``notebooks/`` hold narrative, parameters and calls; what they
compute beyond charts and survey estimates lives here, tested:

- :mod:`~pxlib.workbook.themes`: a configurable dictionary of comment themes,
  counted in redacted comments;
- :mod:`~pxlib.workbook.aims`: is the aim statement measurable and dated; the
  four Always Event criteria as a checklist;
- :mod:`~pxlib.workbook.sampling`: confidence-interval width for n patients a
  week; weeks the chart rules need to detect a shift, by simulation;
- :mod:`~pxlib.workbook.measures`: weekly shares per unit, weighting, charts;
- :mod:`~pxlib.workbook.baseline`: frozen baselines, and phases the data confirm;
- :mod:`~pxlib.workbook.evidence`: the evidence of change a chart shows (rules
  confirmed by a two-proportion test, since when);
- :mod:`~pxlib.workbook.reading`: one reading per unit (signal, evidence,
  reliability with its uncertainty, verdict, next step) that every caption,
  icon, table and index entry is derived from;
- :mod:`~pxlib.workbook.codesign`: the team, who took part, what matters, and the
  team's own candidates ranked by the four criteria and votes (01);
- :mod:`~pxlib.workbook.themes` and :mod:`~pxlib.workbook.polarity`: comment themes,
  counted as problems or praise (01);
- :mod:`~pxlib.workbook.forms`: the fixed-wording and easy-read forms (02);
- :mod:`~pxlib.workbook.driver_tree` (the driver diagram's tree, words and table) and
  :mod:`~pxlib.workbook.drivers` (its figure), :mod:`~pxlib.workbook.pdsa_study`,
  :mod:`~pxlib.workbook.audits`, :mod:`~pxlib.workbook.equality`: the driver diagram,
  each PDSA cycle's prediction against the data, staff audits as p charts, and whether
  the improvement reaches every group (03);
- :mod:`~pxlib.workbook.spread`, :mod:`~pxlib.workbook.sustainability`,
  :mod:`~pxlib.workbook.storyboard`: the spread ladder, the Sustainability Model and the
  step-down rule, and the printable storyboards (04);
- :mod:`~pxlib.workbook.views`: what a notebook shows of a chart or table, computed
  (suppressed tables and points, labelled gaps, alt text, a figure with its words);
  :mod:`~pxlib.workbook.plots`: the workbook's own dot and line figures;
- :mod:`~pxlib.workbook.display`: notebook display only (renderer, tables, captions,
  chart views, widgets);
- :mod:`~pxlib.workbook.printable`: the data-collection template and one-page
  plan as printable HTML;
- :mod:`~pxlib.workbook.steps`: one call per thing a notebook shows, one module per
  notebook step (insight, define, measurement, spread and sustain, the records for the
  batch index);
- :mod:`~pxlib.workbook.workshop`: the training workshop's simulations;
- :mod:`~pxlib.workbook.nbtools`: strip notebook outputs except golden cells,
  refresh golden outputs.
"""

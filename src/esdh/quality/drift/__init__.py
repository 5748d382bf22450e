"""Quality and drift between two versions of a dataset: per column, per table and overall pass/warn/fail.

Two output folders (each with a ``datapackage.json``) are compared table by table and column by column,
the *current* one against the *reference* one (Evidently's vocabulary). Exact counts (rows, nulls,
distinct values, category frequencies) come from DuckDB over the files, so memory stays bounded whatever
the size. Distribution metrics of numeric columns and correlations use a systematic sample of each table:
every k-th row in file order, at most ``SAMPLE_ROWS`` rows (all rows of a smaller table). File order is
fixed, so the same folders always give the same sample and the same JSON bytes.

Which metrics decide follows Evidently. On samples larger than ``small_sample`` values, effect sizes
decide (normalised Wasserstein distance, KS statistic, Jensen-Shannon distance, PSI, the largest
significant change of one category's share) and p-values are reported as information only: with millions
of rows a KS p-value is ~0 for a shift nobody would notice. On small samples distances are mostly noise,
so the KS and chi-square p-values decide instead and the distances are information. Null rates,
cardinality, row counts and correlations are judged the same way at any size (correlations only above
``small_sample`` rows).

The modules follow the comparison's path: ``sources`` opens a folder's tables, ``queries`` counts and
samples one table, ``numeric``, ``categorical``, ``correlation`` and ``psi`` compute the metrics, ``judge``
turns them into verdicts against ``thresholds``, ``table_pair`` compares one table, ``compare`` pairs the
tables of two folders and ``report`` holds the result. The constants are re-exported here for reading.
"""

from esdh.quality.drift.categorical import MAX_CATEGORIES, MIN_SHARE, OTHER
from esdh.quality.drift.compare import compare_folders
from esdh.quality.drift.correlation import MAX_CORRELATION_COLUMNS
from esdh.quality.drift.numeric import HISTOGRAM_BINS, PSI_BINS
from esdh.quality.drift.psi import PSI_FLOOR
from esdh.quality.drift.queries import DAYS, FREQUENCY_LIMIT, NUMERIC_FAMILIES, SAMPLE_ROWS
from esdh.quality.drift.report import FORMAT_VERSION, DriftReport
from esdh.quality.drift.sources import FORMAT_PREFERENCE, MANIFEST
from esdh.quality.drift.table_pair import HIGH_CARDINALITY, MARKER
from esdh.quality.drift.thresholds import VERDICTS, Thresholds, worst

__all__ = [
    "DAYS", "FORMAT_PREFERENCE", "FORMAT_VERSION", "FREQUENCY_LIMIT", "HIGH_CARDINALITY", "HISTOGRAM_BINS",
    "MANIFEST", "MARKER", "MAX_CATEGORIES", "MAX_CORRELATION_COLUMNS", "MIN_SHARE", "NUMERIC_FAMILIES", "OTHER",
    "PSI_BINS", "PSI_FLOOR", "SAMPLE_ROWS", "VERDICTS", "DriftReport", "Thresholds", "compare_folders", "worst",
]

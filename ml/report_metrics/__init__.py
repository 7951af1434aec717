"""Report metrics: findings extraction, clinical comparison, style, lexical overlap, alignment.

Importing this package is cheap: the rules are our own (no spaCy), and sacrebleu and
rouge-score load inside the functions that need them. ``score_report`` is the one entry point;
the LLM judge (``ml.report_metrics.judge``) is a separate, optional backend and is not imported
here.
"""

from ml.report_metrics.scoring import (
    MAX_REPORT_CHARS,
    SCORER_VERSION,
    ReportCase,
    ReportInputError,
    score_many,
    score_report,
    validate,
)

__all__ = [
    "MAX_REPORT_CHARS",
    "SCORER_VERSION",
    "ReportCase",
    "ReportInputError",
    "score_many",
    "score_report",
    "validate",
]

"""What a case's licence allows an educator to do with its imported material."""

from __future__ import annotations

from apps.cases.models import Case

# The IU X-ray collection's terms (importers.reports.TERMS) and any other no-derivatives licence.
_NO_DERIVATIVES_MARKS = ("-nd", "noderivatives", "no derivatives", "unmodified copies only")

NO_DERIVATIVES_MESSAGE = (
    "This report is the IU collection's own text under CC BY-NC-ND 4.0: it is shown unmodified. "
    "To teach from different wording, make a new case with your own report."
)


def licence_forbids_derivatives(case: Case) -> bool:
    """True when the case's licence forbids modified copies (CC BY-NC-ND and the like): its
    imported report must then reach residents word for word."""
    licence = (case.licence or "").lower()
    return any(mark in licence for mark in _NO_DERIVATIVES_MARKS)

"""Educators' analytics pages: a cohort's dashboard, a resident's drill-down, the per-finding
page, and the admin's view across cohorts. Each parses, calls one selector, renders."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.accounts.permissions import admin_required, educator_required
from apps.cohorts.selectors import cohorts_managed_by

from . import charts
from .dashboard import admin_overview, cohort_dashboard
from .drilldown import cohort_findings, resident_drilldown


@educator_required
@require_GET
@never_cache
def cohort_page(request: HttpRequest, cohort_id: int) -> HttpResponse:
    dashboard = cohort_dashboard(actor=request.user, cohort_id=cohort_id)
    curve = charts.learning_curves(
        dashboard.curves, chart_id="cohort-curve", title="Cohort learning curve"
    )
    return render(request, "analytics/cohort.html", {"d": dashboard, "curve": curve})


@educator_required
@require_GET
@never_cache
def resident_page(request: HttpRequest, cohort_id: int, user_id: int) -> HttpResponse:
    drill = resident_drilldown(actor=request.user, cohort_id=cohort_id, user_id=user_id)
    name = drill.resident.shown_name
    context = {
        "d": drill,
        "curve": charts.learning_curves(
            drill.curves, chart_id="resident-curve", title=f"Learning curve of {name}"
        ),
        "froc": charts.froc_curves(
            {name: drill.froc}, chart_id="resident-froc", title=f"FROC curve of {name}"
        ),
        "sensitivity": charts.sensitivity_bars(
            drill.findings, chart_id="resident-findings", title=f"Sensitivity per finding, {name}"
        ),
    }
    return render(request, "analytics/resident.html", context)


@educator_required
@require_GET
@never_cache
def findings_page(request: HttpRequest, cohort_id: int) -> HttpResponse:
    data = cohort_findings(actor=request.user, cohort_id=cohort_id)
    context = {
        "d": data,
        "froc": charts.froc_curves(
            {data.cohort.name: data.froc}, chart_id="cohort-froc", title="Cohort FROC curve"
        ),
        "sensitivity": charts.sensitivity_bars(
            data.findings, chart_id="cohort-findings", title="Sensitivity per finding"
        ),
    }
    return render(request, "analytics/findings.html", context)


@admin_required
@require_GET
@never_cache
def admin_page(request: HttpRequest) -> HttpResponse:
    rows = admin_overview(cohorts=cohorts_managed_by(actor=request.user))
    return render(request, "analytics/admin.html", {"rows": rows})

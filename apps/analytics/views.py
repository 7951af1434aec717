"""Educators' analytics pages: a cohort's dashboard, a resident's drill-down, the per-finding
page, and the admin's view across cohorts. Each parses, calls one selector, renders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.permissions import admin_required, educator_required
from apps.cohorts.selectors import cohorts_managed_by
from apps.core.exceptions import ApplicationError

from . import charts, prepost
from .dashboard import admin_overview, cohort_dashboard
from .drilldown import cohort_findings, resident_drilldown
from .exports import FORMATS, TABLES, export_stream
from .models import ApiToken, PrePost
from .period import period_errors, period_of
from .table import table_view
from .tokens import api_token_create, api_token_revoke, api_tokens_of

ATTEMPTS_PAGE = 100


class TokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the script is, e.g. “retention study”.")


@educator_required
@require_GET
@never_cache
def cohort_page(request: HttpRequest, cohort_id: int) -> HttpResponse:
    period, period_form = period_of(request.GET)
    dashboard = cohort_dashboard(
        actor=request.user, cohort_id=cohort_id, view=table_view(request.GET), period=period
    )
    curve = charts.learning_curves(
        dashboard.curves, chart_id="cohort-curve", title="Cohort learning curve"
    )
    context = {
        "d": dashboard,
        "curve": curve,
        "assessments": prepost.assessments_of(dashboard.cohort),
        "pairs": PrePost.objects.filter(cohort=dashboard.cohort).select_related("pre", "post"),
        "period": period,
        "period_form": period_form,
    }
    status = 400 if period_form.errors else 200
    return render(request, "analytics/cohort.html", context, status=status)


@educator_required
@require_GET
@never_cache
def resident_page(request: HttpRequest, cohort_id: int, user_id: int) -> HttpResponse:
    drill = resident_drilldown(actor=request.user, cohort_id=cohort_id, user_id=user_id)
    name = drill.resident.shown_name
    context = {
        "d": drill,
        # The attempts table in pages: the figures above it still read every listed attempt.
        "page": Paginator(drill.attempts, ATTEMPTS_PAGE).get_page(request.GET.get("page")),
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
    period, period_form = period_of(request.GET)
    data = cohort_findings(actor=request.user, cohort_id=cohort_id, period=period)
    context = {
        "period": period,
        "period_form": period_form,
        "d": data,
        "froc": charts.froc_curves(
            {data.cohort.name: data.froc}, chart_id="cohort-froc", title="Cohort FROC curve"
        ),
        "sensitivity": charts.sensitivity_bars(
            data.findings, chart_id="cohort-findings", title="Sensitivity per finding"
        ),
    }
    status = 400 if period_form.errors else 200
    return render(request, "analytics/findings.html", context, status=status)


@admin_required
@require_GET
@never_cache
def admin_page(request: HttpRequest) -> HttpResponse:
    rows = admin_overview(cohorts=cohorts_managed_by(actor=request.user))
    return render(request, "analytics/admin.html", {"rows": rows})


def export_response(stream: Iterator[str], *, cohort_id: int, table: str, fmt: str) -> Any:
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = StreamingHttpResponse(stream, content_type=content_type)
    filename = f"cohort-{cohort_id}-{table}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@educator_required
@require_GET
def export(request: HttpRequest, cohort_id: int, table: str, fmt: str) -> HttpResponse:
    if table not in TABLES or fmt not in FORMATS:
        raise Http404("No such export")
    period, period_form = period_of(request.GET)
    if period_form.errors:
        return HttpResponse(period_errors(period_form), status=400, content_type="text/plain")
    stream = export_stream(
        actor=request.user, cohort_id=cohort_id, table=table, fmt=fmt, period=period
    )
    return export_response(stream, cohort_id=cohort_id, table=table, fmt=fmt)


@educator_required
@require_http_methods(["GET", "POST"])
@never_cache
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_token = api_token_create(actor=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            form.add_error(exc.field, exc.message)
        else:
            form = TokenForm()
    context = {"form": form, "new_token": new_token, "tokens": api_tokens_of(actor=request.user)}
    return render(request, "analytics/tokens.html", context)


@educator_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        row = api_token_revoke(actor=request.user, token_id=token_id)
    except ApiToken.DoesNotExist as exc:
        raise Http404("No such token") from exc
    messages.success(request, f"Token “{row.name}” revoked: scripts using it are refused.")
    return redirect("analytics:tokens")


@educator_required
@require_POST
def prepost_create(request: HttpRequest, cohort_id: int) -> HttpResponse:
    try:
        pair = prepost.prepost_create(
            actor=request.user,
            cohort_id=cohort_id,
            pre_id=_int(request.POST.get("pre")),
            post_id=_int(request.POST.get("post")),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("analytics:cohort", cohort_id=cohort_id)
    return redirect("analytics:prepost", cohort_id=cohort_id, pair_id=pair.pk)


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


@educator_required
@require_GET
@never_cache
def prepost_page(request: HttpRequest, cohort_id: int, pair_id: int) -> HttpResponse:
    results = prepost.prepost_results(actor=request.user, cohort_id=cohort_id, pair_id=pair_id)
    return render(request, "analytics/prepost.html", {"r": results})


@educator_required
@require_http_methods(["GET", "POST"])
@never_cache
def prepost_delete(request: HttpRequest, cohort_id: int, pair_id: int) -> HttpResponse:
    """GET asks to confirm; POST (with its CSRF token) unlinks the pair."""
    if request.method == "GET":
        pair = prepost.prepost_for_manager(actor=request.user, cohort_id=cohort_id, pair_id=pair_id)
        return render(request, "analytics/prepost_delete.html", {"pair": pair})
    pair = prepost.prepost_delete(actor=request.user, cohort_id=cohort_id, pair_id=pair_id)
    messages.success(
        request,
        f"Pre/post pair “{pair.pre.name} → {pair.post.name}” deleted; the assessments and "
        "their attempts are kept.",
    )
    return redirect("analytics:cohort", cohort_id=cohort_id)

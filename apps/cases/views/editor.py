"""The case editor (ground truth, facts, report), the resident's-eye preview, publish/unpublish."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.accounts.permissions import educator_required
from apps.cases import selectors
from apps.cases.forms import PROJECTION_CHOICES, CaseEditForm
from apps.cases.models import Case
from apps.cases.services import case_publish, case_unpublish
from apps.cases.services.editor import case_editor_save
from apps.core.bounded_json import json_loads_bounded
from apps.core.exceptions import ApplicationError
from apps.core.htmx import render_page
from ml import taxonomy


def _initial(case: Case) -> dict[str, Any]:
    report = getattr(case, "report", None)
    return {
        "title": case.title,
        "patient_age": case.patient_age,
        "patient_sex": case.patient_sex,
        "view": case.view,
        "indication": case.indication,
        "comparison": case.comparison,
        "difficulty": case.difficulty,
        "tags": ", ".join(case.tags),
        "marks": json.dumps(_marks(case)),
        "selected": [f.label for f in case.findings.all() if not f.localizable],
        "is_normal": case.is_normal,
        "report_findings": report.findings if report else "",
        "report_impression": report.impression if report else "",
    }


def _marks(case: Case) -> dict[str, Any]:
    """Every reader's box as one mark (the viewer's initial-marks shape)."""
    return {
        "boxes": [
            {"label": finding.label, "box": box.box, "confidence": None, "view": box.image_id}
            for finding in case.findings.all()
            for box in finding.boxes.all()
        ]
    }


def _editor_context(case: Case, form: CaseEditForm) -> dict[str, Any]:
    labels = [label.name for label in taxonomy.draw_labels()]
    for finding in case.findings.all():
        if finding.label not in labels:
            labels.append(finding.label)
    image = next(iter(case.images.all()), None)
    marks = form["marks"].value() or json.dumps(_marks(case))
    try:
        initial_marks = json_loads_bounded(marks)
    except ValueError:
        initial_marks = _marks(case)
    return {
        "case": case,
        "form": form,
        "image": image,
        "labels": labels,
        "initial_marks": initial_marks,
        "presets": image.window_presets if image else [],
        "projection_choices": PROJECTION_CHOICES,
        "readers": sorted(
            {b.reader for f in case.findings.all() for b in f.boxes.all() if b.reader}
        ),
    }


@educator_required
@require_http_methods(["GET", "POST"])
def case_edit(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_for_manager(actor=request.user, case_id=case_id)
    form = CaseEditForm(request.POST or None, initial=_initial(case), case=case)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case_editor_save(
                actor=request.user,
                case=case,
                facts=form.facts(),
                marks=data["marks"] or "{}",
                selected=data["selected"],
                is_normal=data["is_normal"],
                report_findings=data["report_findings"],
                report_impression=data["report_impression"],
            )
        except ApplicationError as exc:
            field = exc.field if exc.field in form.fields else None
            form.add_error(field, exc.message)
        else:
            messages.success(request, "Case saved.")
            for job in case.__dict__.get("followups", ()):
                # The progress shows here, live (the span loads the job's status and polls it);
                # the link is for a browser without JavaScript, and leaves the editor.
                status_url = reverse("inference:status", kwargs={"job_id": job.pk})
                messages.info(
                    request,
                    format_html(
                        "Residents had answered this case: their answers are being re-scored "
                        'against your changes. <span hx-get="{}" hx-trigger="load" '
                        'hx-swap="outerHTML">(<a href="{}">progress</a>)</span>',
                        status_url,
                        status_url,
                    ),
                )
            return redirect("cases:case_edit", case_id=case.pk)
    return render_page(request, "cases/case_edit.html", _editor_context(case, form), no_store=True)


@educator_required
@require_GET
def case_preview(request: HttpRequest, case_id: int) -> HttpResponse:
    """What a resident sees before answering: the image and the facts, no ground truth. The
    template receives no findings or report, so it cannot show them."""
    managed = selectors.case_for_manager(actor=request.user, case_id=case_id)
    context = {
        "case_id": managed.pk,
        "title": managed.title,
        "patient_age": managed.patient_age,
        "patient_sex": managed.get_patient_sex_display() if managed.patient_sex else "",
        "view": managed.view,
        "indication": managed.indication,
        "comparison": managed.comparison,
        "images": list(managed.images.all()),
        "status": managed.get_status_display(),
    }
    return render_page(request, "cases/case_preview.html", context, no_store=True)


@educator_required
@require_POST
def case_publish_view(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.case_for_manager(actor=request.user, case_id=case_id)
    try:
        if request.POST.get("publish") == "0":
            case_unpublish(actor=request.user, case=case)
            messages.success(request, "Case unpublished: residents no longer see it.")
        else:
            case_publish(actor=request.user, case=case)
            messages.success(request, "Case published.")
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("cases:case_edit", case_id=case.pk)

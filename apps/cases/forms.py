"""Forms for the authoring pages. They parse and validate input only; services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.cases.importers import FORMATS
from apps.cases.licences import NO_DERIVATIVES_MESSAGE, licence_forbids_derivatives
from apps.cases.models import Case, CaseSetMode, Difficulty, PracticeMode, Sex
from ml import taxonomy

VIEW_CHOICES = [
    ("PA", "PA"),
    ("AP", "AP"),
    ("LL", "Lateral (LL)"),
    ("RL", "Lateral (RL)"),
    ("", "Unknown"),
]


class UploadForm(forms.Form):
    file = forms.FileField(help_text="A DICOM file, or a PNG/JPEG chest radiograph.")
    title = forms.CharField(
        max_length=200, required=False, help_text="Shown to residents; no patient details."
    )
    allow_non_chest = forms.BooleanField(required=False, label="Not a chest film: import anyway")


PROJECTION_CHOICES = [
    ("", "Not named"),
    ("Frontal", "Frontal"),
    ("PA", "PA"),
    ("AP", "AP"),
    ("Lateral", "Lateral"),
    ("LL", "Lateral (LL)"),
    ("RL", "Lateral (RL)"),
    ("Oblique", "Oblique"),
]


class ViewUploadForm(forms.Form):
    file = forms.FileField(help_text="A DICOM file, or a PNG/JPEG view of the same study.")
    projection = forms.ChoiceField(choices=PROJECTION_CHOICES, required=False, label="View")
    allow_non_chest = forms.BooleanField(required=False, label="Not a chest film: import anyway")


class ProjectionForm(forms.Form):
    projection = forms.ChoiceField(choices=PROJECTION_CHOICES, required=False, label="View")


class LibraryFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Title")
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), ("draft", "Draft"), ("published", "Published")]
    )
    difficulty = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any difficulty"), *Difficulty.choices],
    )
    tag = forms.CharField(required=False)
    source = forms.CharField(required=False)


def select_choices(case: Case | None = None) -> list[tuple[str, str]]:
    """The checklist: findings answered by ticking, plus any label the case has without a box
    (an image-level dataset label that was never localised)."""
    names = [label.name for label in taxonomy.select_labels()]
    if case is not None:
        for finding in case.findings.all():
            if not finding.localizable and finding.label not in names:
                names.append(finding.label)
    return [(name, name) for name in names]


def _same_text(text: str) -> str:
    """A textarea's text as a browser posts it back (CRLF line ends, edges trimmed) compared as
    stored."""
    return text.replace("\r\n", "\n").strip()


class CaseEditForm(forms.Form):
    title = forms.CharField(max_length=200)
    patient_age = forms.IntegerField(
        required=False, min_value=0, max_value=130, label="Age (years)"
    )
    patient_sex = forms.ChoiceField(required=False, choices=Sex.choices, label="Sex")
    view = forms.ChoiceField(
        required=False,
        choices=VIEW_CHOICES,
        help_text="Names the study's only view when that view has no name of its own.",
    )
    indication = forms.CharField(
        required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    comparison = forms.CharField(
        required=False,
        max_length=500,
        help_text='The prior the report compares with: empty if not stated, "None." if there is '
        "none. Residents never see the prior itself.",
    )
    difficulty = forms.TypedChoiceField(coerce=int, choices=Difficulty.choices)
    tags = forms.CharField(required=False, help_text="Comma-separated.")
    marks = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"id": "marks-input"}))
    selected = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Findings present without a box"
    )
    is_normal = forms.BooleanField(required=False, label="Normal study (no findings)")
    report_findings = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}), label="Reference report: findings"
    )
    report_impression = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Impression (optional)"
    )

    REPORT_FIELDS = ("report_findings", "report_impression")

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["selected"].choices = select_choices(case)
        # A no-derivatives report is shown as imported: the fields are disabled (the browser sends
        # nothing, the form keeps the stored text) and a changed text posted anyway is refused.
        self.report_locked = licence_forbids_derivatives(case) and hasattr(case, "report")
        if self.report_locked:
            for name in self.REPORT_FIELDS:
                self.fields[name].disabled = True
            self.fields["report_findings"].help_text = NO_DERIVATIVES_MESSAGE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.report_locked:
            for name in self.REPORT_FIELDS:
                posted = self.data.get(name)
                stored = self.get_initial_for_field(self.fields[name], name) or ""
                if posted is not None and _same_text(posted) != _same_text(stored):
                    self.add_error("report_findings", NO_DERIVATIVES_MESSAGE)
                    break
        return cleaned

    def facts(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "patient_age": data["patient_age"],
            "patient_sex": data["patient_sex"],
            "view": data["view"],
            "indication": data["indication"],
            "comparison": data["comparison"],
            "difficulty": data["difficulty"],
            "tags": data["tags"],
        }


class CaseSetForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    mode = forms.ChoiceField(choices=CaseSetMode.choices)
    practice_mode = forms.ChoiceField(
        choices=PracticeMode.choices,
        initial=PracticeMode.ACTIVE,
        required=False,
        label="Practice mode",
        help_text="How residents play this set in practice (an assessment is always active).",
    )
    rapid_seconds = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=600,
        label="Rapid-fire countdown (seconds)",
        help_text="Optional, rapid-fire only: the answer is sent when it runs out.",
    )
    iou_threshold = forms.FloatField(
        min_value=0.05,
        max_value=0.95,
        initial=0.3,
        label="IoU threshold",
        help_text="A box counts as found at this overlap (0.3 is usual).",
    )
    shared = forms.BooleanField(
        required=False, help_text="Every educator may use and edit a shared set."
    )

    def clean_practice_mode(self) -> str:
        return self.cleaned_data.get("practice_mode") or PracticeMode.ACTIVE


class AssignForm(forms.Form):
    cohort = forms.ModelChoiceField(queryset=None, empty_label=None)  # type: ignore[arg-type]
    due_at = forms.DateTimeField(
        required=False,
        label="Due (optional)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, cohorts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts


class ImportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[(key, f"{key}: {text}") for key, (_, text) in FORMATS.items()]
    )
    file = forms.FileField(help_text="A zip of the dataset folder (or one JSON/CSV/DICOM file).")
    case_set = forms.CharField(
        required=False,
        max_length=200,
        label="Add to case set",
        help_text="Created if it does not exist.",
    )
    publish = forms.BooleanField(required=False, label="Publish cases that have ground truth")
    allow_non_chest = forms.BooleanField(
        required=False, label="Accept DICOM that is not a chest film"
    )

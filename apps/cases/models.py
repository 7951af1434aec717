"""The case library: studies, their images, ground truth, reference reports and case sets."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.cases.imaging.ocr import FLAGGED as OCR_FLAGGED
from apps.core.models import TimeStampedModel


class CaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    OTHER = "O", "Other"
    UNKNOWN = "", "Unknown"


class Difficulty(models.IntegerChoices):
    EASY = 1, "Easy"
    MEDIUM = 2, "Medium"
    HARD = 3, "Hard"


class Case(TimeStampedModel):
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases"
    )
    patient_age = models.PositiveSmallIntegerField(null=True, blank=True)
    patient_sex = models.CharField(max_length=1, choices=Sex.choices, blank=True, default="")
    view = models.CharField(max_length=8, blank=True, default="PA")  # PA, AP, LL, ...
    indication = models.CharField(max_length=500, blank=True, default="")
    # What the report compares with: "" (not stated), "None." (no prior), or the prior's
    # description. Residents never see the prior itself.
    comparison = models.CharField(max_length=500, blank=True, default="")
    difficulty = models.PositiveSmallIntegerField(
        choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    # Provenance: where the study came from, under which terms, and its id there (imports are
    # idempotent on (source, external_id)).
    source = models.CharField(max_length=120, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")
    licence = models.CharField(max_length=300, blank=True, default="")
    attribution = models.TextField(blank=True, default="")
    # True when the study has no abnormal finding (NIH "No Finding"): a normal case with no marks
    # scores 1.
    is_normal = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="case_unique_source_id",
            ),
            models.CheckConstraint(condition=Q(patient_age__lte=130), name="case_age_plausible"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == CaseStatus.PUBLISHED


class CaseImage(TimeStampedModel):
    """One view of the study; ``position`` orders the views (the first is shown first)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveSmallIntegerField(default=0)
    projection = models.CharField(max_length=16, blank=True, default="")  # Frontal, Lateral, PA...
    kind = models.CharField(max_length=8)  # dicom | png | jpeg
    original = models.FileField(upload_to="cases/original/%Y/%m/")
    display = models.FileField(upload_to="cases/display/%Y/%m/")
    pixels16 = models.FileField(upload_to="cases/pixels16/%Y/%m/", blank=True, default="")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    display_width = models.PositiveIntegerField()
    display_height = models.PositiveIntegerField()
    pixel_spacing_mm = models.JSONField(null=True, blank=True)
    window_presets = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(default=dict, blank=True)  # de-identified header facts only
    sha256 = models.CharField(max_length=64)
    burned_in_annotation = models.CharField(max_length=3, blank=True, default="")  # YES / NO / ""
    # An educator's attestation that the whole image shows no patient details (burned-in names,
    # dates, record numbers); a DICOM whose flag is not NO is published only with one. Set by
    # ``image_attest_phi_checked``; cleared when the pixels are replaced. ``phi_checked_at`` is
    # what counts (the user may later be deleted).
    # No index: only shown, never searched by (deleting a user scans images once; the migration
    # takes no index-build lock on the images table).
    phi_checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    phi_checked_at = models.DateTimeField(null=True, blank=True)
    phi_check_note = models.CharField(max_length=200, blank=True, default="")
    # The optional OCR flag (apps.cases.imaging.ocr): what the scan of the display image found,
    # "text" | "clear" | "unavailable" | "off" | "failed", "" for views stored before it existed;
    # and the engine that read it. The recognised text itself is never stored (it may be PHI).
    ocr_status = models.CharField(max_length=12, blank=True, default="")
    ocr_engine = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["case", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case", "position"], name="caseimage_unique_position"),
            models.CheckConstraint(
                condition=Q(width__gt=0) & Q(height__gt=0), name="caseimage_size_positive"
            ),
        ]

    @property
    def burned_in_flag_unclear(self) -> bool:
        """A DICOM that declares burned-in annotation, or does not say (PNG/JPEG carry no flag)."""
        return self.kind == "dicom" and self.burned_in_annotation != "NO"

    @property
    def ocr_found_text(self) -> bool:
        return self.ocr_status == OCR_FLAGGED

    @property
    def needs_phi_check(self) -> bool:
        """The header flag is not NO, or OCR found text in the pixels (any kind of image)."""
        return self.burned_in_flag_unclear or self.ocr_found_text

    @property
    def blocks_publishing(self) -> bool:
        """Publishing waits for an educator's check of the whole image (RELIABILITY S21)."""
        return self.needs_phi_check and self.phi_checked_at is None


class Finding(TimeStampedModel):
    """A ground-truth finding: a canonical taxonomy label, drawn (with boxes) or selected."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="findings")
    label = models.CharField(max_length=80)
    localizable = models.BooleanField(default=True)
    sentence = models.TextField(blank=True, default="")  # the report sentence it came from, if any
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["case", "position", "pk"]


class FindingBox(models.Model):
    """One reader's box for one region of a finding. Several readers' boxes of a region are
    alternatives: a mark matching any of them hits the region."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="boxes")
    # The view the box was drawn on; null only for a case without any image. Removing a view
    # that carries ground truth is refused (RESTRICT; deleting the whole case still goes): its boxes
    # would silently leave the truth.
    image = models.ForeignKey(
        CaseImage, null=True, blank=True, on_delete=models.RESTRICT, related_name="truth_boxes"
    )
    region = models.PositiveSmallIntegerField(default=0)
    reader = models.CharField(max_length=40, blank=True, default="")
    x1 = models.FloatField()
    y1 = models.FloatField()
    x2 = models.FloatField()
    y2 = models.FloatField()

    class Meta:
        ordering = ["finding", "region", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(x1__gte=0)
                & Q(x2__lte=1)
                & Q(x1__lt=F("x2"))
                & Q(y1__gte=0)
                & Q(y2__lte=1)
                & Q(y1__lt=F("y2")),
                name="findingbox_normalised",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.finding_id} region {self.region} {self.box}"

    @property
    def box(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]


class ReferenceReport(TimeStampedModel):
    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="report")
    findings = models.TextField()
    impression = models.TextField(blank=True, default="")
    author = models.CharField(max_length=120, blank=True, default="")
    # e.g. "radiologist", "MIMIC-CXR", or "derived from NIH labels and boxes, not a radiologist's
    # report"
    source = models.CharField(max_length=200, blank=True, default="")
    is_derived = models.BooleanField(default=False)


class CaseSetMode(models.TextChoices):
    PRACTICE = "practice", "Practice"
    ASSESSMENT = "assessment", "Assessment"


class PracticeMode(models.TextChoices):
    """How a practice set is played (recorded on every attempt). An assessment is always active."""

    GUIDED = "guided", "Guided: the worked example first, then mark it (no accuracy credit)"
    ACTIVE = "active", "Active: read, answer, then the feedback"
    RAPID = "rapid", "Rapid-fire: active, against a countdown per case"


class CaseSet(TimeStampedModel):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_sets"
    )
    # Shared sets are visible to (and editable by) every educator, not only the owner.
    shared = models.BooleanField(default=False)
    mode = models.CharField(
        max_length=16, choices=CaseSetMode.choices, default=CaseSetMode.PRACTICE
    )
    iou_threshold = models.FloatField(default=0.3)
    practice_mode = models.CharField(
        max_length=8, choices=PracticeMode.choices, default=PracticeMode.ACTIVE
    )
    rapid_seconds = models.PositiveSmallIntegerField(null=True, blank=True)  # rapid-fire only
    cases = models.ManyToManyField(Case, through="CaseSetItem", related_name="case_sets")

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(iou_threshold__gt=0) & Q(iou_threshold__lte=1), name="caseset_iou_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CaseSetItem(models.Model):
    case_set = models.ForeignKey(CaseSet, on_delete=models.CASCADE, related_name="items")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="set_items")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["case_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["case_set", "case"], name="casesetitem_unique_case"),
            models.UniqueConstraint(
                fields=["case_set", "position"], name="casesetitem_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_set_id}#{self.position}: case {self.case_id}"


class Assignment(TimeStampedModel):
    """A case set given to a cohort, optionally with a due date."""

    case_set = models.ForeignKey(CaseSet, on_delete=models.CASCADE, related_name="assignments")
    cohort = models.ForeignKey(
        "cohorts.Cohort", on_delete=models.CASCADE, related_name="assignments"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_set", "cohort"], name="assignment_unique")
        ]

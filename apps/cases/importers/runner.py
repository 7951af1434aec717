"""Write a parsed dataset: one transaction per case, idempotent on (source, external_id)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.accounts.permissions import can_edit_case
from apps.cases.imaging import ImageRejected, IngestedImage, ingest_image
from apps.cases.models import Case, CaseImage, CaseSet
from apps.cases.services.boxes import MarkedBox, pixel_box
from apps.cases.services.cases import case_create, case_publish
from apps.cases.services.findings import (
    TruthFinding,
    case_truth_replace,
    report_store,
    truth_from_boxes,
)
from apps.cases.services.images import (
    case_image_add,
    case_image_projection_set,
    case_image_remove,
    case_image_replace,
    image_attest_phi_checked,
    image_read_ocr,
    projection_name,
)
from apps.cases.services.sets import case_set_case_add
from apps.cases.services.storage import files_removed_on_error
from apps.core.exceptions import ApplicationError
from ml.boxes import BoxError, validate_box

from .base import (
    ImageSource,
    ImportSummary,
    ParsedCase,
    ParsedDataset,
    Problem,
    Progress,
    ReportText,
    SourceBox,
    sha256_of,
)
from .derived import derived_findings_text, derived_source

logger = logging.getLogger(__name__)

_FACTS = (
    "title",
    "patient_age",
    "patient_sex",
    "view",
    "indication",
    "comparison",
    "difficulty",
    "tags",
)


class _Skip(Exception):
    pass


MAX_EXTERNAL_ID = Case._meta.get_field("external_id").max_length


def _has_nul(value: Any) -> bool:
    """Whether any text in a parsed case holds a NUL character (Postgres text cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    if isinstance(value, ParsedCase | ReportText | SourceBox):
        return _has_nul(list(vars(value).values()))
    return False


def _check_storable(parsed: ParsedCase) -> None:
    """Text the database cannot hold is the dataset's problem, reported like any other, never an
    internal error."""
    if not parsed.external_id or len(parsed.external_id) > (MAX_EXTERNAL_ID or 0):
        raise _Skip(f"the case id must be 1 to {MAX_EXTERNAL_ID} characters")
    if _has_nul(parsed):
        raise _Skip("its text holds a NUL character (\\x00), which cannot be stored")


@dataclass
class _View:
    ingested: IngestedImage | None  # None: the stored image at this position is unchanged
    data: bytes
    width: int
    height: int
    projection: str  # "" when the dataset does not say (a DICOM header may)


def _box_problem(source: SourceBox, problem: str) -> str:
    # ``where.message`` holds a JSON path for JSON sources (they have no line numbers).
    spot = f"{source.where.message}: " if source.where.message else ""
    return str(Problem(source.where.file, source.where.line, f"{spot}{source.label}: {problem}"))


def _normalised(parsed: ParsedCase, width: int, height: int) -> list[MarkedBox]:
    boxes: list[MarkedBox] = []
    for source in parsed.boxes:
        x1, y1, x2, y2 = source.coords
        try:
            if source.pixels:
                box = pixel_box(x1, y1, x2 - x1, y2 - y1, image_width=width, image_height=height)
            else:
                box = validate_box([x1, y1, x2, y2])
        except BoxError as exc:
            raise _Skip(_box_problem(source, exc.problem)) from None
        except ValueError as exc:
            raise _Skip(_box_problem(source, str(exc))) from None
        boxes.append(MarkedBox(label=source.label, box=box, reader=source.reader))
    return boxes


def _truth_key(findings: list[TruthFinding], is_normal: bool) -> Any:
    return (
        is_normal,
        [
            (
                f.label,
                f.localizable,
                f.sentence,
                [[(b.reader, tuple(round(v, 6) for v in b.box)) for b in r] for r in f.regions],
            )
            for f in findings
        ],
    )


def _stored_truth(case: Case) -> list[TruthFinding]:
    findings: list[TruthFinding] = []
    for finding in case.findings.prefetch_related("boxes").order_by("position", "pk"):
        regions: dict[int, list[MarkedBox]] = {}
        for box in finding.boxes.all():
            regions.setdefault(box.region, []).append(
                MarkedBox(finding.label, tuple(box.box), box.reader)
            )  # type: ignore[arg-type]
        findings.append(
            TruthFinding(finding.label, [regions[k] for k in sorted(regions)], finding.sentence)
        )
    return findings


def _report_key(report: ReportText | None) -> Any:
    if report is None:
        return None
    return (
        report.findings.strip(),
        report.impression.strip(),
        report.source[:200],
        report.author[:120],
        report.is_derived,
    )


def _stored_report_key(case: Case) -> Any:
    report = getattr(case, "report", None)
    if report is None:
        return None
    return (report.findings, report.impression, report.source, report.author, report.is_derived)


class CaseWriter:
    """Imports one parsed dataset for one owner."""

    def __init__(
        self, dataset: ParsedDataset, *, owner: Any, case_set: CaseSet | None, publish: bool
    ) -> None:
        self.dataset = dataset
        self.owner = owner
        self.case_set = case_set
        self.publish = publish
        self.summary = ImportSummary()
        self._parsed_warnings: list[Problem] = []  # of the case being written

    def _ingest_view(
        self, source: ImageSource, existing_image: CaseImage | None
    ) -> tuple[IngestedImage | None, bytes, int, int]:
        """The view's new pixels (None when the stored image has the same SHA-256) and its size."""
        try:
            data = source.read()
        except OSError:
            raise _Skip(f"image {source.filename} could not be read") from None
        if existing_image is not None and existing_image.sha256 == sha256_of(data):
            return None, b"", existing_image.width, existing_image.height
        try:
            ingested = ingest_image(
                data,
                filename=source.filename,
                allow_non_chest=self.dataset.allow_non_chest,
                max_bytes=settings.RADGAME_MAX_UPLOAD_BYTES,
            )
        except ImageRejected as exc:
            raise _Skip(f"image {source.filename}: {exc}") from None
        # Read for text here, before the case's transaction opens (no lock waits on tesseract).
        ingested = image_read_ocr(ingested)
        return ingested, data, ingested.width, ingested.height

    def _ingest(self, parsed: ParsedCase, existing_images: list[CaseImage]) -> list[_View]:
        """Every view of the study, in order; a case without an image keeps its stored views."""
        if not parsed.views:
            if not existing_images:
                raise _Skip("no image for this case")
            return [
                _View(None, b"", image.width, image.height, image.projection)
                for image in existing_images
            ]
        views: list[_View] = []
        for index, source in enumerate(parsed.views):
            stored = existing_images[index] if index < len(existing_images) else None
            ingested, data, width, height = self._ingest_view(source, stored)
            views.append(
                _View(ingested, data, width, height, projection_name(source.projection) or "")
            )
        return views

    def _report(
        self, parsed: ParsedCase, findings: list[TruthFinding], view: str
    ) -> ReportText | None:
        if parsed.report is not None:
            return parsed.report
        if parsed.derive_report:
            text = derived_findings_text(findings, is_normal=parsed.is_normal, view=view)
            return ReportText(
                findings=text, source=derived_source(self.dataset.source_short), is_derived=True
            )
        return None

    def write(self, parsed: ParsedCase) -> None:
        self._parsed_warnings = parsed.warnings
        if parsed.problems:
            raise _Skip("; ".join(str(p) for p in parsed.problems))
        _check_storable(parsed)
        existing = (
            Case.objects.filter(source=self.dataset.source, external_id=parsed.external_id)
            .select_related("report")
            .first()
        )
        if existing is not None and not can_edit_case(self.owner, existing):
            raise _Skip("already imported by another educator")
        existing_images = list(existing.images.order_by("position")) if existing else []
        views = self._ingest(parsed, existing_images)
        findings = truth_from_boxes(
            _normalised(parsed, views[0].width, views[0].height), parsed.present, parsed.sentences
        )
        if parsed.is_normal and findings:
            raise _Skip("marked normal but has findings " + ", ".join(f.label for f in findings))
        facts = {key: value for key, value in parsed.facts.items() if key in _FACTS}
        view = facts.get("view") or (existing.view if existing else "PA")
        report = self._report(parsed, findings, view)
        provenance = {
            "licence": self.dataset.licence[:300],
            "attribution": self.dataset.attribution,
        }
        views_unchanged = len(views) == len(existing_images) and all(
            view.ingested is None and view.projection in ("", stored.projection)
            for view, stored in zip(views, existing_images, strict=True)
        )
        if existing is not None and views_unchanged:
            same = (
                _truth_key(_stored_truth(existing), existing.is_normal)
                == _truth_key(findings, parsed.is_normal)
                and _stored_report_key(existing) == _report_key(report)
                and all(
                    getattr(existing, k) == v
                    for k, v in {**facts, "title": parsed.title, **provenance}.items()
                )
            )
            if same:
                self._finish(existing, created=False, changed=False)
                return
        with files_removed_on_error(), transaction.atomic():
            if existing is None:
                case = case_create(
                    actor=self.owner,
                    source=self.dataset.source,
                    external_id=parsed.external_id,
                    **provenance,
                    **{**facts, "title": parsed.title},
                )
            else:
                case = existing
                for key, value in {**facts, "title": parsed.title, **provenance}.items():
                    setattr(case, key, value)
                case.save()
            self._write_views(case, views, existing_images)
            case_truth_replace(case=case, findings=findings, is_normal=parsed.is_normal)
            if report is not None:
                report_store(case=case, **report.__dict__)
            # Publishing (and its hooks) and the set membership join the case's transaction:
            # one commit per case.
            self._finish(case, created=existing is None, changed=True)

    def _write_views(self, case: Case, views: list[_View], stored: list[CaseImage]) -> None:
        for view, image in zip(views, stored, strict=False):
            if view.ingested is not None:
                case_image_replace(
                    actor=self.owner, image=image, ingested=view.ingested, source=view.data
                )
            if view.projection and image.projection != view.projection:
                case_image_projection_set(actor=self.owner, image=image, projection=view.projection)
        for view in views[len(stored) :]:
            assert view.ingested is not None  # a view with no stored image was ingested
            case_image_add(
                actor=self.owner,
                case=case,
                ingested=view.ingested,
                source=view.data,
                projection=view.projection,
            )
        for image in reversed(stored[len(views) :]):
            case_image_remove(actor=self.owner, image=image)

    def _finish(self, case: Case, *, created: bool, changed: bool) -> None:
        for warning in self._parsed_warnings:
            self.summary.warn(f"{case.external_id}: {warning}")
        if self.dataset.deidentified_by_publisher:
            for image in case.images.filter(phi_checked_at__isnull=True):
                image_attest_phi_checked(
                    actor=self.owner, image=image, note=self.dataset.phi_check_note
                )
        if self.publish and not case.is_published:
            try:
                with transaction.atomic():
                    case_publish(actor=self.owner, case=case)
            except ApplicationError as exc:
                self.summary.problem(
                    f"{case.external_id}: imported as a draft, not published: {exc.message}"
                )
            except Exception:
                logger.exception("a publish hook failed for case %s", case.pk)
                self.summary.problem(
                    f"{case.external_id}: imported as a draft, not published (internal error, logged)"
                )
        if self.case_set is not None:
            case_set_case_add(actor=self.owner, case_set=self.case_set, case=case)
        if created:
            self.summary.created += 1
        elif changed:
            self.summary.updated += 1
        else:
            self.summary.unchanged += 1
        self.summary.case_ids.append(case.pk)


def run_import(
    dataset: ParsedDataset,
    *,
    owner: Any,
    case_set: CaseSet | None = None,
    publish: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    started = time.monotonic()
    writer = CaseWriter(dataset, owner=owner, case_set=case_set, publish=publish)
    for problem in dataset.problems:
        writer.summary.problem(problem)
    for warning in dataset.warnings:
        writer.summary.warn(warning)
    total = len(dataset.cases)
    for done, parsed in enumerate(dataset.cases, start=1):
        try:
            writer.write(parsed)
        except _Skip as exc:
            writer.summary.skip(parsed.external_id, str(exc))
        except ApplicationError as exc:
            writer.summary.skip(parsed.external_id, exc.message)
        except Exception:
            # One bad case must not stop the others; its transaction has rolled back.
            logger.exception("importing %s failed", parsed.external_id)
            writer.summary.skip(
                parsed.external_id, "internal error while writing this case (logged)"
            )
        if progress is not None:
            progress(done, total, parsed.external_id)
    writer.summary.seconds = time.monotonic() - started
    return writer.summary

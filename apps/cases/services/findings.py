"""Ground truth writes: drawn boxes from the viewer, ticked findings, the reference report.

A drawn finding is a label with one or more regions, each region holding one box per reader.
A finding without boxes is "present, not localised" (ticked in the checklist, or an image-level
dataset label): the scorer counts a tick, or a box of that label anywhere, as finding it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from apps.accounts.permissions import require_case_editor
from apps.cases.licences import NO_DERIVATIVES_MESSAGE, licence_forbids_derivatives
from apps.cases.models import Case, Finding, FindingBox, ReferenceReport
from apps.cases.registry import report_changed_hooks, truth_changed_hooks
from apps.core.exceptions import ApplicationError

from .boxes import MarkedBox, canonical_label, group_reader_boxes, parse_marked_boxes

MAX_REPORT_CHARS = 20_000


@dataclass
class TruthFinding:
    label: str  # canonical
    regions: list[list[MarkedBox]] = field(default_factory=list)
    sentence: str = ""

    @property
    def localizable(self) -> bool:
        return bool(self.regions)


def truth_from_boxes(
    boxes: Sequence[MarkedBox], present: Sequence[str] = (), sentences: dict[str, str] | None = None
) -> list[TruthFinding]:
    """Findings from readers' boxes (grouped into regions) plus labels present without a box; a
    label that has a box is not repeated as an unlocalised finding."""
    sentences = sentences or {}
    findings = [
        TruthFinding(label=label, regions=regions, sentence=sentences.get(label, ""))
        for label, regions in group_reader_boxes(boxes).items()
    ]
    drawn = {finding.label for finding in findings}
    for label in present:
        if label not in drawn:
            drawn.add(label)
            findings.append(TruthFinding(label=label, sentence=sentences.get(label, "")))
    return findings


def case_truth_replace(
    *, case: Case, findings: Sequence[TruthFinding], is_normal: bool, actor: Any = None
) -> None:
    """Replace every finding of a case (callers check permissions and are atomic); the apps that
    scored answers against the old truth hear of it (``registry.on_truth_changed``)."""
    if is_normal and findings:
        raise ApplicationError("A normal study has no findings.")
    Finding.objects.filter(case=case).delete()
    # A box that names no view (an importer's, a single-view client's) lies on the first view.
    first_view = case.images.order_by("position").values_list("pk", flat=True).first()
    boxes: list[FindingBox] = []
    for position, truth in enumerate(findings):
        finding = Finding.objects.create(
            case=case,
            label=truth.label,
            localizable=truth.localizable,
            sentence=truth.sentence[:2000],
            position=position,
        )
        for region_index, region in enumerate(truth.regions):
            boxes.extend(
                FindingBox(
                    finding=finding,
                    image_id=marked.view or first_view,
                    region=region_index,
                    reader=marked.reader[:40],
                    x1=marked.box[0],
                    y1=marked.box[1],
                    x2=marked.box[2],
                    y2=marked.box[3],
                )
                for marked in region
            )
    FindingBox.objects.bulk_create(boxes)
    if case.is_normal != is_normal:
        case.is_normal = is_normal
        case.save(update_fields=["is_normal", "updated_at"])
    _truth_changed(case, actor)


def _truth_changed(case: Case, actor: Any) -> None:
    for hook in truth_changed_hooks():
        hook(case, actor)


def _key(label: str, box: Sequence[float], view: int | None) -> tuple[Any, ...]:
    # The viewer rounds coordinates to 5 decimals; an untouched box comes back equal at that grain.
    return label, tuple(round(value, 4) for value in box), view


def _existing_truth(
    case: Case, first_view: int | None = None
) -> tuple[dict[Any, str], list[str], dict[str, str]]:
    readers: dict[Any, str] = {}
    present: list[str] = []
    sentences: dict[str, str] = {}
    for finding in Finding.objects.filter(case=case).prefetch_related("boxes"):
        if finding.sentence:
            sentences.setdefault(finding.label, finding.sentence)
        boxes = list(finding.boxes.all())
        if not boxes:
            present.append(finding.label)
        for box in boxes:
            view = box.image_id or first_view
            readers.setdefault(_key(finding.label, box.box, view), box.reader)
    return readers, present, sentences


@transaction.atomic
def case_boxes_set(*, actor: Any, case: Case, marks: Any) -> list[TruthFinding]:
    """Replace the drawn ground truth with the viewer's marks JSON. Findings ticked without a box
    are kept. A box the educator left untouched keeps its reader, so imported alternative boxes
    of several readers stay alternatives; a new or moved box is the editing educator's."""
    require_case_editor(actor, case)
    views = list(case.images.order_by("position").values_list("pk", flat=True))
    readers, present, sentences = _existing_truth(case, views[0] if views else None)
    editor = f"educator:{actor.username}"[:40]
    boxes = [
        MarkedBox(
            label=m.label,
            box=m.box,
            reader=readers.get(_key(m.label, m.box, m.view), editor),
            view=m.view,
        )
        for m in parse_marked_boxes(marks, views=views)
    ]
    findings = truth_from_boxes(boxes, present, sentences)
    case_truth_replace(
        case=case, findings=findings, is_normal=case.is_normal and not findings, actor=actor
    )
    return findings


@transaction.atomic
def case_selected_set(*, actor: Any, case: Case, labels: Sequence[str]) -> list[TruthFinding]:
    """Replace the findings present without a box (the checklist); drawn findings stay."""
    require_case_editor(actor, case)
    wanted: list[str] = []
    for name in labels:
        label = canonical_label(name, field="selected")
        if label not in wanted:
            wanted.append(label)
    _, _, sentences = _existing_truth(case)
    findings = _regions_kept(case, wanted, sentences)
    case_truth_replace(
        case=case, findings=findings, is_normal=case.is_normal and not findings, actor=actor
    )
    return findings


def _regions_kept(case: Case, present: list[str], sentences: dict[str, str]) -> list[TruthFinding]:
    """The case's drawn findings exactly as stored (regions and readers), plus ``present``."""
    findings: list[TruthFinding] = []
    for finding in Finding.objects.filter(case=case).prefetch_related("boxes"):
        regions: dict[int, list[MarkedBox]] = {}
        for box in finding.boxes.all():
            regions.setdefault(box.region, []).append(
                MarkedBox(
                    label=finding.label,
                    box=tuple(box.box),  # type: ignore[arg-type]
                    reader=box.reader,
                    view=box.image_id,
                )
            )
        if regions:
            findings.append(
                TruthFinding(finding.label, [regions[k] for k in sorted(regions)], finding.sentence)
            )
    drawn = {finding.label for finding in findings}
    findings.extend(
        TruthFinding(label, sentence=sentences.get(label, ""))
        for label in present
        if label not in drawn
    )
    return findings


def case_normal_set(*, actor: Any, case: Case, is_normal: bool) -> Case:
    require_case_editor(actor, case)
    if is_normal and case.findings.exists():
        raise ApplicationError(
            "Remove the findings before marking the study normal.", field="is_normal"
        )
    if case.is_normal != is_normal:
        case.is_normal = is_normal
        case.save(update_fields=["is_normal", "updated_at"])
        _truth_changed(case, actor)
    return case


def case_report_write(
    *,
    actor: Any,
    case: Case,
    findings: str,
    impression: str = "",
    source: str = "",
    author: str = "",
    is_derived: bool = False,
) -> ReferenceReport | None:
    """Write (or with empty text, remove) the reference report residents compare against. A
    no-derivatives licence (``licence_forbids_derivatives``) keeps an existing report as it is."""
    require_case_editor(actor, case)
    if licence_forbids_derivatives(case):
        existing = ReferenceReport.objects.filter(case=case).first()
        if existing is not None and (
            existing.findings != (findings or "").strip()
            or existing.impression != (impression or "").strip()
        ):
            raise ApplicationError(NO_DERIVATIVES_MESSAGE, field="report_findings")
    return report_store(
        case=case,
        findings=findings,
        impression=impression,
        source=source,
        author=author,
        is_derived=is_derived,
        actor=actor,
    )


def report_store(
    *,
    case: Case,
    findings: str,
    impression: str = "",
    source: str = "",
    author: str = "",
    is_derived: bool = False,
    actor: Any = None,
) -> ReferenceReport | None:
    """Store the reference report; when its scored part changed, the apps that scored answers
    against the old one hear of it (``registry.on_report_changed``; ``actor`` None: an importer)."""
    findings, impression = (findings or "").strip(), (impression or "").strip()
    if len(findings) > MAX_REPORT_CHARS or len(impression) > MAX_REPORT_CHARS:
        raise ApplicationError(
            f"A report section is at most {MAX_REPORT_CHARS} characters.", field="findings"
        )
    if not findings:
        if impression:
            raise ApplicationError(
                "Write the findings section (the impression alone is not scored).", field="findings"
            )
        ReferenceReport.objects.filter(case=case).delete()
        return None
    before = ReferenceReport.objects.filter(case=case).values_list("findings", "is_derived").first()
    report, _ = ReferenceReport.objects.update_or_create(
        case=case,
        defaults={
            "findings": findings,
            "impression": impression,
            "source": source[:200],
            "author": author[:120],
            "is_derived": is_derived,
        },
    )
    if before != (findings, is_derived):
        for hook in report_changed_hooks():
            hook(case, actor)
    return report

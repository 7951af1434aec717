"""Explanations: which items of an attempt need words, the jobs that write them, and storing them.

The web side never imports the model code (ml.vlm): requests are built here as the plain JSON of
``ml.vlm.ExplainRequest`` and sent by task name. Two kinds of job:

- ``localization.case:<id>:<digest>``, sent when a case is published: one "reference" explanation
  per ground-truth finding, cached per (finding, model id, prompt version). Every player's misses
  are explained from this cache at once.
- ``localization.attempt:<id>``, sent by the submit: the attempt's misses, false positives and
  mislabelled marks, each with this attempt's context (every mark the player made, the film's
  reference findings, the IoU threshold) so the words describe what this player did on this film.
  The case's precomputed words stand in for a miss until the attempt's own arrive.

Payload: ``{"requests": [ExplainRequest dict, ...], "items": [item key, ...]}``; the worker reads
``requests`` only, and the completion hook pairs its answers with ``items`` by position.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from apps.cases.models import Case, Finding
from apps.inference.models import Job, JobStatus
from apps.inference.services import inference_job_dispatch
from ml.contracts import VLM_EXPLAIN_TASK

from .items import ExplanationItem
from .models import ErrorKind, Explanation, LocalizationAttempt
from .reference import MAX_SENTENCE_CHARS, first_box, scoring_reference

logger = logging.getLogger(__name__)

EXPLAIN_TASK = VLM_EXPLAIN_TASK
CASE_SUBJECT = "localization.case:"
ATTEMPT_SUBJECT = "localization.attempt:"
MAX_CONTEXT_ITEMS = 50  # ml.vlm.schema.MAX_CONTEXT_BOXES (the web side cannot import ml.vlm)


def _case_context(case: Case) -> dict[str, Any]:
    """What every request about this case carries: the view, the patient, the image to look at."""
    sex = case.patient_sex if case.patient_sex in ("M", "F", "O") else None
    return {
        "view": (case.view or "PA")[:8],
        "age": case.patient_age,
        "sex": sex,
        "image_path": _first_image_path(case),
    }


def _first_image_path(case: Case) -> str | None:
    # The JSON submit's selector read only the first image's file name; the pages prefetch the
    # images; anything else reads them here.
    name = getattr(case, "first_display_name", None)
    if name is None:
        images = sorted(case.images.all(), key=lambda image: image.position)
        name = images[0].display.name if images and images[0].display else ""
    return name or None


def _request(context: dict[str, Any], **fields: Any) -> dict[str, Any]:
    sentence = fields.get("sentence") or None
    return {
        "label": fields["label"],
        "error": fields["error"],
        "box": fields.get("box"),
        "sentence": sentence[:MAX_SENTENCE_CHARS] if sentence else None,
        "marked_label": fields.get("marked_label"),
        "marked_box": fields.get("marked_box"),
        **context,
    }


# ---------------------------------------------------------------- precomputed (case published)


def case_reference_requests(*, case: Case) -> tuple[list[dict[str, Any]], list[str]]:
    """One "reference" request per scored ground-truth finding of ``case``."""
    scoring = scoring_reference(case=case, iou_threshold=None)
    context = _case_context(case)
    requests, items = [], []
    for finding in scoring.findings:
        requests.append(
            _request(
                context,
                label=finding["label"],
                error=ErrorKind.REFERENCE,
                box=first_box(finding["regions"]) if finding["localizable"] else None,
                sentence=finding["sentence"],
            )
        )
        items.append(ExplanationItem.reference(finding["finding_id"]).key)
    return requests, items


def localization_case_explanations_dispatch(*, case: Case) -> Job | None:
    """Precompute reference explanations of a case (the cases publish hook calls this inside the
    publish transaction). The subject carries a digest of the requests, so publishing the same
    content twice sends one job and an edited case gets a fresh one."""
    requests, items = case_reference_requests(case=case)
    if not requests:
        return None
    digest = hashlib.sha256(json.dumps(requests, sort_keys=True, default=str).encode()).hexdigest()[
        :16
    ]
    return inference_job_dispatch(
        kind=EXPLAIN_TASK,
        payload={"requests": requests, "items": items},
        owner=None,  # nobody's: a player must never read a case's answers through the jobs API
        subject=f"{CASE_SUBJECT}{case.pk}:{digest}",
    )


def on_case_published(case: Case) -> None:
    localization_case_explanations_dispatch(case=case)


# ---------------------------------------------------------------- per attempt


def attempt_explain_requests(
    *, attempt: LocalizationAttempt, boxes: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Requests for everything this attempt got wrong, with the attempt's own context."""
    result, snapshot = attempt.result, attempt.reference
    regions = result.get("regions", [])
    # The fields of each request; the case context (which may read the image) is added at the
    # end, and only when something needs words: most submits of a good reader need none.
    requests: list[dict[str, Any]] = []
    items: list[str] = []
    mislabelled_marks = set()
    for entry in result.get("mislabelled", []):
        mark = entry["mark"]
        mislabelled_marks.add(mark)
        region = regions[entry["region"]]
        finding = snapshot[region["finding"]]
        requests.append(
            {
                "label": entry["true_label"],
                "error": ErrorKind.MISLABELLED,
                "box": first_box(finding["regions"], region["index"]),
                "sentence": finding["sentence"],
                "marked_label": entry["marked_label"],
                "marked_box": boxes[mark]["box"],
            }
        )
        items.append(ExplanationItem.mislabelled(mark).key)
    for entry in result.get("false_positives", []):
        mark = entry.get("mark")
        if mark is not None and mark in mislabelled_marks:
            continue
        requests.append(
            {
                "label": entry["label"],
                "error": ErrorKind.FALSE_POSITIVE,
                "marked_label": entry["label"],
                "marked_box": boxes[mark]["box"] if mark is not None else None,
            }
        )
        items.append(ExplanationItem.false_positive(mark, entry["label"]).key)
    for finding, region_index in _missed_findings(result, snapshot):
        requests.append(
            {
                "label": finding["label"],
                "error": ErrorKind.MISSED,
                "box": first_box(finding["regions"], region_index)
                if finding["localizable"]
                else None,
                "sentence": finding["sentence"],
            }
        )
        items.append(ExplanationItem.missed(finding["finding_id"]).key)
    if not requests:
        return [], []
    context = {**_case_context(attempt.case), **_attempt_context(attempt, boxes)}
    return [_request(context, **fields) for fields in requests], items


def _attempt_context(attempt: LocalizationAttempt, boxes: list[dict[str, Any]]) -> dict[str, Any]:
    """What the player marked and what the film holds (``ml.vlm.ExplainRequest`` caps each list at
    50; a film or an answer with more is cut, the nearest items come first either way)."""
    ticks = [{"label": m.label, "box": None} for m in attempt.marks_list() if m.selected]
    marks = [{"label": b["label"], "box": b["box"]} for b in boxes] + ticks
    findings: list[dict[str, Any]] = []
    for finding in attempt.reference:
        if finding["localizable"]:
            for index in range(len(finding["regions"])):
                findings.append(
                    {"label": finding["label"], "box": first_box(finding["regions"], index)}
                )
        else:
            findings.append({"label": finding["label"], "box": None})
    return {
        "marks": marks[:MAX_CONTEXT_ITEMS],
        "findings": findings[:MAX_CONTEXT_ITEMS],
        "iou_threshold": attempt.iou_threshold,
    }


def _missed_findings(
    result: dict[str, Any], snapshot: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], int]]:
    """Each missed finding once, with the index of its first missed region (0 for select)."""
    regions = result.get("regions", [])
    seen: set[int] = set()
    out = []
    for miss in result.get("misses", []):
        if miss.get("kind") == "draw":
            region = regions[miss["region"]]
            finding, index = snapshot[region["finding"]], region["index"]
        else:
            finding = next(
                (f for f in snapshot if f["label"] == miss["label"] and not f["localizable"]),
                None,
            )
            index = 0
        if finding is None or finding["finding_id"] in seen:
            continue
        seen.add(finding["finding_id"])
        out.append((finding, index))
    return out


def localization_attempt_explanations_dispatch(
    *,
    attempt: LocalizationAttempt,
    boxes: list[dict[str, Any]],
    sealed: bool = False,
    planned: tuple[list[dict[str, Any]], list[str]] | None = None,
    job_id: Any = None,
) -> Job | None:
    """The attempt's explanation job; ``sealed`` while an assessment holds its feedback back.
    ``planned`` is ``attempt_explain_requests``'s answer when the submit asked it before writing
    the attempt (with ``job_id`` on that row, so the row is written once)."""
    requests, items = planned or attempt_explain_requests(attempt=attempt, boxes=boxes)
    if not requests:
        return None
    return inference_job_dispatch(
        kind=EXPLAIN_TASK,
        payload={"requests": requests, "items": items},
        owner=attempt.user,
        subject=f"{ATTEMPT_SUBJECT}{attempt.pk}",
        subject_is_new=True,  # the submit created the attempt in this transaction
        sealed=sealed,
        job_id=job_id,
    )


# ---------------------------------------------------------------- storing results


def _explanations(job: Job) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    requests = job.request.get("requests", [])
    items = job.request.get("items", [])
    answers = (job.result or {}).get("explanations", [])
    if not (len(requests) == len(items) == len(answers)):
        raise ValueError(f"job {job.pk}: {len(answers)} explanations for {len(requests)} requests")
    return list(zip(items, requests, answers, strict=True))


def _written_by(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "text": str(answer.get("text", ""))[:4000],
        "backend": str(answer.get("backend", ""))[:40],
        "model_id": str(answer.get("model_id", ""))[:200],
        "prompt_version": str(answer.get("prompt_version", ""))[:40],
        "fallback_reason": str(answer.get("fallback_reason") or "")[:300],
    }


def localization_explanations_store(job: Job) -> None:
    """Completion hook of ``ml.vlm.explain`` (runs once, inside the finishing transaction)."""
    if job.status != JobStatus.DONE:
        return  # the page reads the job's failure from the job itself
    # An attempt's job is found by its foreign key; a case's (precomputed) job by its subject.
    attempt = LocalizationAttempt.objects.filter(explain_job=job).first()
    if attempt is not None:
        _store_attempt(job, attempt)
    elif job.subject.startswith(CASE_SUBJECT):
        _store_reference(job)


def _store_reference(job: Job) -> None:
    case_id = int(job.subject[len(CASE_SUBJECT) :].split(":", 1)[0])
    pairs = _explanations(job)
    wanted = [ExplanationItem.parse(item).finding_id for item, _, _ in pairs]
    existing = set(
        Finding.objects.filter(case_id=case_id, pk__in=wanted).values_list("pk", flat=True)
    )
    for (_, request, answer), finding_id in zip(pairs, wanted, strict=True):
        if finding_id not in existing:
            continue  # edited away since the job was sent
        fields = _written_by(answer)
        Explanation.objects.update_or_create(
            case_id=case_id,
            finding_id=finding_id,
            attempt=None,
            model_id=fields.pop("model_id"),
            prompt_version=fields.pop("prompt_version"),
            defaults={
                **fields,
                "item": "reference",
                "error": ErrorKind.REFERENCE,
                "label": request["label"],
            },
        )


def _store_attempt(job: Job, attempt: LocalizationAttempt) -> None:
    for item, request, answer in _explanations(job):
        parsed = ExplanationItem.parse(item)
        Explanation.objects.get_or_create(
            attempt=attempt,
            item=item,
            defaults={
                **_written_by(answer),
                "case_id": attempt.case_id,
                "finding_id": parsed.finding_id if parsed.kind == "missed" else None,
                "mark_index": parsed.mark,
                "error": request["error"],
                "label": request["label"],
            },
        )

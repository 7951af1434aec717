"""RadGame / PadChest-GR grounded-report JSON, with the images in the same folder tree.

Fields read (anything else is ignored; verify them against your copy of the data):

    [ {"ImageID": "<file name of the image>",              required, also the external id
       "PatientAge": 71, "PatientSex": "M", "ViewPosition": "PA", "Indication": "...",  optional
       "findings": [                                       also accepted as "sentences"
         {"sentence_en": "Cardiomegaly.",                  also "sentence"; the report text
          "abnormal": true,                                false: a normal statement, no label
          "labels": ["cardiomegaly"],                      PadChest terms, through the taxonomy
          "locations": ["cardiac"],                        shown only, not scored
          "boxes": [[x1, y1, x2, y2], ...],                first reader, NORMALISED to [0, 1]
          "extra_boxes": [[x1, y1, x2, y2], ...]}]}]       second reader, normalised

The top level may also be ``{"studies": [...]}``. A sentence's boxes belong to its first label
the taxonomy knows; its other labels are present without a box. Each first-reader box is a
region; a second-reader box overlapping a first-reader box of the label at IoU >= 0.3 is an
alternative of that region, otherwise a region of its own. The English sentences, in order, form
the reference report (a radiologist's report, translated: not derived). A study with no abnormal
sentence is normal. Boxes with a value outside [0, 1] are rejected, never guessed as pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import (
    ImageSource,
    ImportFailed,
    ParsedCase,
    ParsedDataset,
    Problem,
    ReportText,
    SourceBox,
    age_fact,
    dataset_label,
    index_files,
    sex_code,
    view_code,
)
from .coco import load_json

SOURCE = "PadChest-GR"
LICENCE = (
    "PadChest / PadChest-GR (BIMCV): research use under the BIMCV data use agreement; "
    "do not redistribute, check the current terms"
)
ATTRIBUTION = (
    "Image and grounded report from PadChest-GR (BIMCV and Microsoft Research), built on PadChest: "
    "Bustos A, Pertusa A, Salinas JM, de la Iglesia-Vaya M. PadChest: A large chest x-ray image "
    "dataset with multi-label annotated reports. Medical Image Analysis 66, 101797 (2020)."
)


def _json_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    files = sorted(root.rglob("*.json"))
    if not files:
        raise ImportFailed(
            "No JSON file found: expected the grounded-report JSON beside the images."
        )
    return files


def _studies(data: Any, name: str) -> list[Any]:
    if isinstance(data, dict) and isinstance(data.get("studies"), list):
        return data["studies"]
    if isinstance(data, list):
        return data
    raise ImportFailed(f"{name}: expected a list of studies (or {{'studies': [...]}}).")


def parse(root: Path) -> ParsedDataset:
    images = index_files(root.parent if root.is_file() else root, [".png", ".jpg", ".jpeg", ".dcm"])
    cases: list[ParsedCase] = []
    problems: list[Problem] = []
    seen: set[str] = set()
    for path in _json_files(root):
        for index, study in enumerate(_studies(load_json(path), path.name)):
            where = f"[{index}]"
            if not isinstance(study, dict) or not isinstance(study.get("ImageID"), str):
                problems.append(Problem(path.name, None, f"{where}: needs an ImageID"))
                continue
            image_id = study["ImageID"]
            if image_id in seen:
                problems.append(
                    Problem(
                        path.name, None, f"{where}: {image_id} appears twice; the first is used"
                    )
                )
                continue
            seen.add(image_id)
            found = images.get(Path(image_id).name)
            if found is None:
                problems.append(
                    Problem(path.name, None, f"{where}: image {image_id!r} not found in the folder")
                )
                continue
            cases.append(_case(study, image_id, found, path.name, where))
    return ParsedDataset(
        source=SOURCE,
        short_name="PadChest-GR",
        licence=LICENCE,
        attribution=ATTRIBUTION,
        cases=cases,
        problems=problems,
    )


def _box_list(
    value: Any, label: str, reader: str, file: str, where: str, case: ParsedCase
) -> list[SourceBox]:
    boxes: list[SourceBox] = []
    if value in (None, []):
        return boxes
    if not isinstance(value, list):
        case.problems.append(Problem(file, None, f"{where}: expected a list of boxes"))
        return boxes
    for index, raw in enumerate(value):
        spot = f"{where}[{index}]"
        if not (
            isinstance(raw, list)
            and len(raw) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
        ):
            case.problems.append(
                Problem(file, None, f"{spot}: expected [x1, y1, x2, y2], got {raw!r}")
            )
            continue
        boxes.append(
            SourceBox(label, tuple(float(v) for v in raw), reader, False, Problem(file, None, spot))
        )  # type: ignore[arg-type]
    return boxes


def _case(study: dict[str, Any], image_id: str, image: Path, file: str, where: str) -> ParsedCase:
    case = ParsedCase(
        external_id=image_id,
        title=f"PadChest-GR {Path(image_id).stem[-16:]}",
        image=ImageSource(image),
        facts={"tags": ["padchest-gr"]},
    )
    age_fact(case, study.get("PatientAge"), Problem(file, None, f"{where}.PatientAge"))
    case.facts["patient_sex"] = sex_code(study.get("PatientSex"))
    if study.get("ViewPosition"):
        case.facts["view"] = view_code(study.get("ViewPosition"))
    if isinstance(study.get("Indication"), str):
        case.facts["indication"] = study["Indication"]
    sentences = study.get("findings", study.get("sentences", []))
    if not isinstance(sentences, list):
        case.problems.append(Problem(file, None, f"{where}.findings: expected a list"))
        sentences = []
    texts: list[str] = []
    for index, sentence in enumerate(sentences):
        spot = f"{where}.findings[{index}]"
        if not isinstance(sentence, dict):
            case.problems.append(Problem(file, None, f"{spot}: expected an object"))
            continue
        text = sentence.get("sentence_en", sentence.get("sentence", ""))
        if isinstance(text, str) and text.strip():
            texts.append(text.strip())
        if sentence.get("abnormal") is False:
            continue
        _sentence_labels(case, sentence, str(text or ""), file, spot)
    case.is_normal = not case.present and not case.boxes and not case.problems
    if texts:
        case.report = ReportText(
            findings=" ".join(texts),
            source="PadChest-GR grounded report (radiologist, English translation)",
        )
    return case


def _sentence_labels(
    case: ParsedCase, sentence: dict[str, Any], text: str, file: str, spot: str
) -> None:
    labels = sentence.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(n, str) for n in labels):
        case.problems.append(Problem(file, None, f"{spot}.labels: expected a list of names"))
        return
    boxed = False
    for name in labels:
        try:
            label = dataset_label("padchest", name)
        except ValueError as exc:
            case.problems.append(Problem(file, None, f"{spot}.labels: {exc}"))
            continue
        if label is None:
            continue
        case.sentences.setdefault(label, text[:2000])
        boxes = (
            []
            if boxed
            else (
                _box_list(sentence.get("boxes"), label, "reader1", file, f"{spot}.boxes", case)
                + _box_list(
                    sentence.get("extra_boxes"), label, "reader2", file, f"{spot}.extra_boxes", case
                )
            )
        )
        if boxes:
            boxed = True
            case.boxes.extend(boxes)
        else:
            case.add_present(label)
    if not boxed and (sentence.get("boxes") or sentence.get("extra_boxes")) and not case.problems:
        case.problems.append(
            Problem(file, None, f"{spot}: boxes given but no known label to attach them to")
        )

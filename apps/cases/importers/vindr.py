"""VinDr-CXR (PhysioNet release): ``annotations_*.csv``, ``image_labels_*.csv`` and the images.

- Annotations CSV (detected by its header): ``image_id``, ``rad_id``, ``class_name``, ``x_min``,
  ``y_min``, ``x_max``, ``y_max`` in pixels of the DICOM's own grid, origin top-left. "No finding"
  rows carry no box. Several radiologists read each training image: boxes of one label from
  DIFFERENT radiologists that overlap at IoU >= 0.3 become alternative boxes of one region (a mark
  matching any of them hits it); a box nobody else drew is a region of its own. One radiologist's
  boxes are always separate regions.
- Image labels CSV (optional; header has ``image_id`` and a ``No finding`` column): one row per
  radiologist with a 0/1 column per label. A label ticked by any radiologist is present; the
  global ones (COPD, Lung tumor, Pneumonia, Tuberculosis, Other disease) are never boxed, so they
  become present-but-not-localised findings.
- An image with no box and no label other than "No finding" is a normal study.
- Images: ``<image_id>.dicom`` (or .dcm, .png, .jpg) anywhere under the folder.
"""

from __future__ import annotations

from pathlib import Path

from .base import (
    ImageSource,
    ImportFailed,
    ParsedCase,
    ParsedDataset,
    Problem,
    SourceBox,
    dataset_label,
    index_files,
    number,
    read_csv,
)

SOURCE = "VinDr-CXR"
LICENCE = (
    "VinDr-CXR (PhysioNet): credentialed access under a restricted health data licence; "
    "do not redistribute, check the current PhysioNet terms"
)
ATTRIBUTION = (
    "Image and annotations from VinDr-CXR (PhysioNet). Nguyen HQ, Lam K, Le LT, et al. VinDr-CXR: "
    "An open dataset of chest X-rays with radiologist's annotations. Scientific Data 9, 429 (2022)."
)
BOX_COLUMNS = ["image_id", "rad_id", "class_name", "x_min", "y_min", "x_max", "y_max"]
SUFFIXES = [".dicom", ".dcm", ".png", ".jpg", ".jpeg"]


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        return [name.strip().casefold() for name in handle.readline().split(",")]


def parse(root: Path) -> ParsedDataset:
    csv_files = sorted(root.rglob("*.csv")) if root.is_dir() else []
    box_files = [p for p in csv_files if {"image_id", "class_name", "x_min"} <= set(_header(p))]
    label_files = [p for p in csv_files if {"image_id", "no finding"} <= set(_header(p))]
    if not box_files:
        raise ImportFailed(
            "No VinDr annotations CSV found (a CSV with columns " + ", ".join(BOX_COLUMNS) + ")."
        )
    images = index_files(root, SUFFIXES)
    cases: dict[str, ParsedCase] = {}
    problems: list[Problem] = []

    def case_for(image_id: str, file: str, line: int) -> ParsedCase | None:
        if image_id in cases:
            return cases[image_id]
        path = images.get(image_id)
        if path is None:
            problems.append(Problem(file, line, f"image {image_id} not found in the folder"))
            return None
        cases[image_id] = ParsedCase(
            external_id=image_id,
            title=f"VinDr {image_id[:12]}",
            image=ImageSource(path),
            facts={"tags": ["vindr"]},
        )
        cases[image_id].is_normal = True  # until a box or a label says otherwise
        return cases[image_id]

    missing_reported: set[str] = set()
    for path in box_files:
        for line, row, _ in read_csv(path, BOX_COLUMNS):
            image_id = row["image_id"]
            if image_id in missing_reported:
                continue
            case = case_for(image_id, path.name, line)
            if case is None:
                missing_reported.add(image_id)
                continue
            try:
                label = dataset_label("vindr", row["class_name"])
                if label is None:
                    continue
                coords = tuple(number(row[k], k) for k in ("x_min", "y_min", "x_max", "y_max"))
            except ValueError as exc:
                case.problems.append(Problem(path.name, line, str(exc)))
                continue
            case.is_normal = False
            reader = row["rad_id"] or "vindr"
            case.boxes.append(SourceBox(label, coords, reader, True, Problem(path.name, line, "")))  # type: ignore[arg-type]
    for path in label_files:
        _read_labels(path, cases, problems, case_for, missing_reported)
    return ParsedDataset(
        source=SOURCE,
        short_name="VinDr-CXR",
        licence=LICENCE,
        attribution=ATTRIBUTION,
        cases=list(cases.values()),
        problems=problems,
    )


def _read_labels(path, cases, problems, case_for, missing_reported) -> None:  # type: ignore[no-untyped-def]
    header = _header(path)
    label_columns = [name for name in header if name not in ("image_id", "rad_id", "no finding")]
    for line, row, _ in read_csv(path, ["image_id"]):
        image_id = row["image_id"]
        if image_id in missing_reported:
            continue
        case = case_for(image_id, path.name, line)
        if case is None:
            missing_reported.add(image_id)
            continue
        for column in label_columns:
            value = row.get(column, "")
            if value in ("", "0", "0.0"):
                continue
            if value not in ("1", "1.0"):
                case.problems.append(
                    Problem(path.name, line, f"column {column!r}: expected 0 or 1, got {value!r}")
                )
                continue
            try:
                label = dataset_label("vindr", column)
            except ValueError as exc:
                case.problems.append(Problem(path.name, line, str(exc)))
                continue
            if label is not None:
                case.is_normal = False
                case.add_present(label)

"""NIH ChestX-ray14: a folder with ``images/`` (PNG, 1024x1024), ``Data_Entry_2017.csv`` and,
optionally, ``BBox_List_2017.csv``.

- Data_Entry_2017.csv (required): ``Image Index``, ``Finding Labels`` (pipe-separated NIH labels;
  "No Finding" alone = a normal study), ``Patient Age`` (years; older releases write "058Y"),
  ``Patient Gender``, ``View Position``. Only rows whose image is in the folder become cases; the
  others are counted in one problem line (a partial download is normal).
- BBox_List_2017.csv: ``Image Index``, ``Finding Label`` ("Infiltrate" here), then x, y, w, h in
  pixels of the image, origin top-left (the header ``Bbox [x,y,w,h]`` splits into four columns,
  read by position). One radiologist drew them: each box is its own region.
- An image-level label without a box (e.g. Effusion listed but boxed only as Atelectasis) is
  recorded as present but not localised: finding it means ticking it, or drawing it anywhere.
- NIH ships no reports: each case gets a derived reference findings text (see ``derived``).
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
    age_fact,
    dataset_label,
    index_files,
    number,
    read_csv,
    sex_code,
    view_code,
)

SOURCE = "NIH ChestX-ray14"
LICENCE = "NIH ChestX-ray14: no restrictions on use; attribution requested (NIH Clinical Center)"
ATTRIBUTION = (
    "Image and labels from the NIH ChestX-ray14 dataset, courtesy of the NIH Clinical Center "
    "(https://nihcc.app.box.com/v/ChestXray-NIHCC). Wang X, Peng Y, Lu L, Lu Z, Bagheri M, "
    "Summers RM. ChestX-ray8: Hospital-scale Chest X-ray Database and Benchmarks on "
    "Weakly-Supervised Classification and Localization of Common Thorax Diseases. IEEE CVPR 2017, "
    "pp. 3462-3471."
)
DATA_ENTRY = "Data_Entry_2017.csv"
BBOX_LIST = "BBox_List_2017.csv"
READER = "nih"


def _labels(value: str) -> tuple[list[str], bool]:
    """Canonical labels and whether the study is normal; ValueError naming a bad label."""
    names = [name.strip() for name in value.split("|") if name.strip()]
    labels: list[str] = []
    normal = False
    for name in names:
        label = dataset_label("nih", name)
        if label is None:
            normal = True
        elif label not in labels:
            labels.append(label)
    if normal and labels:
        raise ValueError(f"'No Finding' together with {', '.join(labels)}")
    if not names:
        raise ValueError("no finding labels")
    return labels, normal


def _find(root: Path, name: str) -> Path | None:
    for candidate in (root / name, root / name.lower()):
        if candidate.is_file():
            return candidate
    return None


def parse(root: Path) -> ParsedDataset:
    entry_path = _find(root, DATA_ENTRY)
    if entry_path is None:
        raise ImportFailed(f"{DATA_ENTRY} is missing: an NIH folder has it beside images/.")
    images = index_files(root, [".png"])
    if not images:
        raise ImportFailed("No PNG images found (expected them under images/).")
    cases: dict[str, ParsedCase] = {}
    problems: list[Problem] = []
    absent: list[str] = []
    required = ["Image Index", "Finding Labels", "Patient Age", "Patient Gender", "View Position"]
    for line, row, _ in read_csv(entry_path, required):
        name = row["image index"]
        path = images.get(name)
        if path is None:
            absent.append(name)
            continue
        case = ParsedCase(
            external_id=name,
            title=f"NIH {Path(name).stem}",
            image=ImageSource(path),
            facts={
                "view": view_code(row["view position"]),
                "patient_sex": sex_code(row["patient gender"]),
            },
            derive_report=True,
        )
        case.facts["tags"] = ["nih"]
        try:
            labels, case.is_normal = _labels(row["finding labels"])
            case.present.extend(labels)
        except ValueError as exc:
            case.problems.append(Problem(entry_path.name, line, str(exc)))
        age_fact(case, row["patient age"], Problem(entry_path.name, line, ""))
        if name in cases:
            problems.append(
                Problem(entry_path.name, line, f"{name} is listed twice; the first row is used")
            )
            continue
        cases[name] = case
    if absent:
        shown = ", ".join(absent[:5]) + (" ..." if len(absent) > 5 else "")
        problems.append(
            Problem(
                entry_path.name,
                None,
                f"{len(absent)} row(s) name images not in the folder, not imported: {shown}",
            )
        )
    bbox_path = _find(root, BBOX_LIST)
    if bbox_path is not None:
        _read_boxes(bbox_path, cases, problems)
    return ParsedDataset(
        source=SOURCE,
        short_name="NIH",
        licence=LICENCE,
        attribution=ATTRIBUTION,
        cases=list(cases.values()),
        problems=problems,
        deidentified_by_publisher=True,  # NIH Clinical Center released the images de-identified
    )


def _read_boxes(path: Path, cases: dict[str, ParsedCase], problems: list[Problem]) -> None:
    for line, row, cells in read_csv(path, ["Image Index", "Finding Label"]):
        name = row["image index"]
        case = cases.get(name)
        where = Problem(path.name, line, "")
        if case is None:
            problems.append(
                Problem(path.name, line, f"{name}: no such image in the folder or in {DATA_ENTRY}")
            )
            continue
        try:
            label = dataset_label("nih", row["finding label"])
            if label is None:
                raise ValueError("a 'No Finding' row cannot carry a box")
            if len(cells) < 6:
                raise ValueError("expected x, y, w, h after the label")
            x, y, w, h = (
                number(cells[i].strip(), what) for i, what in zip(range(2, 6), "xywh", strict=True)
            )
            if w <= 0 or h <= 0:
                raise ValueError(f"box width and height must be positive, got w={w:g}, h={h:g}")
        except ValueError as exc:
            case.problems.append(Problem(path.name, line, str(exc)))
            continue
        case.boxes.append(SourceBox(label, (x, y, x + w, y + h), READER, True, where))
        if case.is_normal:
            case.problems.append(Problem(path.name, line, "a box on a study labelled 'No Finding'"))

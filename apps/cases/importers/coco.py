"""COCO object-detection JSON: ``images`` [{id, file_name, width, height}], ``annotations``
[{image_id, category_id, bbox: [x, y, w, h]}] in pixels of that width and height, origin top-left,
and ``categories`` [{id, name}]. Category names go through the taxonomy (any known synonym).

An image without annotations is imported as a normal study (a detection set lists every lesion);
a category named "No finding" / "Normal" marks an image normal explicitly. Each annotation is its
own region unless it names a reader (``rad_id`` or ``reader``), in which case overlapping boxes of
different readers become alternatives, as for VinDr-CXR. Problems are located by JSON path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from apps.cases.services.boxes import pixel_box

from .base import (
    ImageSource,
    ImportFailed,
    ParsedCase,
    ParsedDataset,
    Problem,
    SourceBox,
    dataset_label,
    index_files,
)

SOURCE = "COCO import"
MAX_JSON_BYTES = 256 * 1024 * 1024


def _json_file(root: Path) -> Path:
    if root.is_file():
        return root
    candidates = sorted(root.rglob("*.json"))
    for path in candidates:
        if path.stat().st_size <= MAX_JSON_BYTES:
            head = path.read_text(encoding="utf-8", errors="replace")[:1_000_000]
            if '"annotations"' in head and '"images"' in head:
                return path
    raise ImportFailed("No COCO JSON found (a .json file with images, annotations and categories).")


def load_json(path: Path) -> Any:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise ImportFailed(f"{path.name} is larger than {MAX_JSON_BYTES // (1024 * 1024)} MiB.")
    try:
        return json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise ImportFailed(f"{path.name} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ImportFailed(f"{path.name}:{exc.lineno}: invalid JSON ({exc.msg}).") from None


def _id(value: Any) -> int | str | None:
    """A COCO id as a dict key: an integer or a string (JSON gives lists and objects too)."""
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def parse(root: Path) -> ParsedDataset:
    path = _json_file(root)
    data = load_json(path)
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), list) for k in ("images", "annotations", "categories")
    ):
        raise ImportFailed(
            f"{path.name}: expected an object with lists images, annotations and categories."
        )
    folder = path.parent if root.is_file() else root
    files = index_files(folder, [".png", ".jpg", ".jpeg", ".dcm", ".dicom"])
    name = path.name
    categories: dict[Any, str | None] = {}
    category_errors: dict[Any, str] = {}
    for index, category in enumerate(data["categories"]):
        if (
            not isinstance(category, dict)
            or _id(category.get("id")) is None
            or not isinstance(category.get("name"), str)
        ):
            raise ImportFailed(f"{name}: categories[{index}] needs an id and a name.")
        try:
            categories[category["id"]] = dataset_label(None, category["name"])
        except ValueError as exc:
            category_errors[category["id"]] = str(exc)
    cases: dict[Any, ParsedCase] = {}
    sizes: dict[Any, tuple[int, int]] = {}
    problems: list[Problem] = []
    for index, image in enumerate(data["images"]):
        where = f"images[{index}]"
        if (
            not isinstance(image, dict)
            or _id(image.get("id")) is None
            or not isinstance(image.get("file_name"), str)
        ):
            problems.append(Problem(name, None, f"{where}: needs an id and a file_name"))
            continue
        file_name = image["file_name"]
        found = files.get(Path(file_name).name)
        if found is None:
            problems.append(
                Problem(name, None, f"{where}: image {file_name!r} not found in the folder")
            )
            continue
        width, height = image.get("width"), image.get("height")
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            problems.append(
                Problem(name, None, f"{where}: width and height must be positive integers")
            )
            continue
        sizes[image["id"]] = (width, height)
        cases[image["id"]] = ParsedCase(
            external_id=str(image["id"])
            if not image.get("external_id")
            else str(image["external_id"]),
            title=f"COCO {Path(file_name).stem[:40]}",
            image=ImageSource(found),
            is_normal=True,
        )
    for index, annotation in enumerate(data["annotations"]):
        where = f"annotations[{index}]"
        if not isinstance(annotation, dict):
            problems.append(Problem(name, None, f"{where}: not an object"))
            continue
        case = cases.get(_id(annotation.get("image_id")))
        if case is None:
            problems.append(
                Problem(
                    name,
                    None,
                    f"{where}: image_id {annotation.get('image_id')!r} is not a usable image",
                )
            )
            continue
        _annotation(
            case,
            annotation,
            where,
            name,
            categories,
            category_errors,
            sizes[annotation["image_id"]],
        )
    return ParsedDataset(
        # Image ids are only unique within one JSON file: the file names the source.
        source=f"{SOURCE}: {path.stem}"[:120],
        short_name="COCO",
        licence="as stated by the dataset's provider (check before sharing)",
        attribution=f"Imported from {name}.",
        cases=list(cases.values()),
        problems=problems,
    )


def _annotation(case, annotation, where, name, categories, category_errors, size) -> None:  # type: ignore[no-untyped-def]
    category_id = _id(annotation.get("category_id"))
    if category_id in category_errors:
        case.problems.append(Problem(name, None, f"{where}: {category_errors[category_id]}"))
        return
    if category_id not in categories:
        case.problems.append(Problem(name, None, f"{where}: unknown category_id {category_id!r}"))
        return
    label = categories[category_id]
    if label is None:  # a "No finding" category: the image is normal
        return
    case.is_normal = False
    bbox = annotation.get("bbox")
    if bbox in (None, []):
        case.add_present(label)
        return
    try:
        if (
            not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox)
        ):
            raise ValueError(f"bbox must be [x, y, w, h] numbers, got {bbox!r}")
        x, y, w, h = (float(v) for v in bbox)
        box = pixel_box(x, y, w, h, image_width=size[0], image_height=size[1])
    except ValueError as exc:
        case.problems.append(Problem(name, None, f"{where}: {label}: {exc}"))
        return
    # Unnamed annotations share one reader, so they never merge into alternatives.
    reader = str(annotation.get("rad_id") or annotation.get("reader") or "coco")
    case.boxes.append(SourceBox(label, box, reader, False, Problem(name, None, where)))

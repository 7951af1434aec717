"""Dataset importers: one module per format on a shared framework (``base``, ``runner``).

``import_path`` is what the management command and the import job call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction

from apps.cases.models import CaseSet

from .base import ImportFailed, ImportSummary, ParsedDataset, Progress
from .runner import run_import

# format name -> (module, what the educator uploads)
FORMATS: dict[str, tuple[str, str]] = {
    "nih": ("nih", "NIH ChestX-ray14 folder: images/, Data_Entry_2017.csv, BBox_List_2017.csv"),
    "vindr": ("vindr", "VinDr-CXR: annotations CSV, image labels CSV, images (DICOM or PNG)"),
    "coco": ("coco", "COCO detection JSON with its images"),
    "radgame": ("radgame", "RadGame / PadChest-GR grounded-report JSON with its images"),
    "reports": (
        "reports",
        "Reports: MIMIC-CXR text files, IU X-ray CSV or ReXGradient JSON, with images",
    ),
    "dicom": ("dicom", "A folder or zip of DICOM files (one case each, no ground truth yet)"),
}


def parser_for(name: str) -> Callable[[Path], ParsedDataset]:
    if name not in FORMATS:
        raise ImportFailed(f"Unknown format {name!r}; expected one of {', '.join(FORMATS)}.")
    module = importlib.import_module(f"{__name__}.{FORMATS[name][0]}")
    return module.parse


def case_set_for_import(*, owner: Any, name: str) -> CaseSet:
    """The owner's set of that name, created on first use (re-running an import reuses it)."""
    from apps.cases.services.sets import case_set_create

    with transaction.atomic():
        existing = CaseSet.objects.filter(owner=owner, name=name).order_by("pk").first()
        return existing or case_set_create(actor=owner, name=name)


def import_path(
    format_name: str,
    path: Path,
    *,
    owner: Any,
    case_set_name: str | None = None,
    publish: bool = False,
    allow_non_chest: bool = False,
    progress: Progress | None = None,
) -> ImportSummary:
    if not path.exists():
        raise ImportFailed(f"{path} does not exist.")
    dataset = parser_for(format_name)(path)
    dataset.allow_non_chest = allow_non_chest
    case_set = case_set_for_import(owner=owner, name=case_set_name) if case_set_name else None
    return run_import(dataset, owner=owner, case_set=case_set, publish=publish, progress=progress)


__all__ = ["FORMATS", "ImportFailed", "ImportSummary", "import_path", "parser_for"]

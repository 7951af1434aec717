"""Dataset importers: one module per format on a shared framework (``base``, ``runner``).

``import_path`` is what the management command and the import job call.
"""

from __future__ import annotations

import importlib
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from apps.cases.importers.archive import ArchiveRejected, safe_extract
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


MAX_ARCHIVE_ENTRIES = 20_000
# A dataset zip holds already-compressed images; the cap is on what it unpacks to.
MAX_UNPACKED_FACTOR = 8


@contextmanager
def unpacked(path: Path) -> Iterator[Path]:
    """The folder to import from: ``path`` itself, or a zip unpacked by ``archive.safe_extract``
    (no traversal, links or nesting; size and entry caps) into a private work folder."""
    if not (path.is_file() and zipfile.is_zipfile(path)):
        yield path
        return
    workdir = Path(settings.MEDIA_ROOT) / "uploads" / f"work-{uuid.uuid4().hex}"
    try:
        try:
            safe_extract(
                path,
                dest_dir=workdir,
                max_total_bytes=settings.RADGAME_MAX_UPLOAD_BYTES * MAX_UNPACKED_FACTOR,
                max_entries=MAX_ARCHIVE_ENTRIES,
            )
        except ArchiveRejected as exc:
            raise ImportFailed(f"The archive was refused: {exc}") from None
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


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
    parse = parser_for(format_name)
    with unpacked(path) as root:
        dataset = parse(root)
        dataset.allow_non_chest = allow_non_chest
        case_set = case_set_for_import(owner=owner, name=case_set_name) if case_set_name else None
        return run_import(
            dataset, owner=owner, case_set=case_set, publish=publish, progress=progress
        )


__all__ = ["FORMATS", "ImportFailed", "ImportSummary", "import_path", "parser_for"]

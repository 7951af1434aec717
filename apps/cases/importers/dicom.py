"""A folder (or an unpacked zip) of DICOM files: one draft case per study, no ground truth yet.

Files are recognised by the DICM marker, not by name. Files that share a StudyInstanceUID are the
views of one study and become one case, ordered by series and instance number (then file name);
a file without one is a study of its own. The external id is the file's SHA-256 for a one-file
study and a SHA-256 of the study UID otherwise, so importing the same files again finds the same
cases, and no identifier from the header is stored. Age, sex and each view's projection come
from the de-identified header; the educator then draws the ground truth.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydicom import dcmread

from apps.cases.imaging.dicom_pixels import silence_pydicom_value_echoes

from .base import ImageSource, ImportFailed, ParsedCase, ParsedDataset, Problem, sha256_of

MAX_FILES = 5000


def _is_dicom(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(132)[128:132] == b"DICM"
    except OSError:
        return False


def _number(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _study_and_order(path: Path) -> tuple[str, tuple[int, int, str]]:
    """The file's StudyInstanceUID ("" when absent or unreadable) and its place in the study."""
    silence_pydicom_value_echoes()
    try:
        header = dcmread(
            path,
            stop_before_pixels=True,
            specific_tags=["StudyInstanceUID", "SeriesNumber", "InstanceNumber"],
        )
    except Exception:
        # An unreadable header is the ingest's to report, with the reason; here it only means
        # that the file cannot be grouped.
        return "", (0, 0, path.name)
    study = str(header.get("StudyInstanceUID", "") or "").strip()
    order = (_number(header.get("SeriesNumber")), _number(header.get("InstanceNumber")), path.name)
    return study, order


def parse(root: Path) -> ParsedDataset:
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    )
    if len(files) > MAX_FILES:
        raise ImportFailed(f"More than {MAX_FILES} files: import them in smaller batches.")
    studies: dict[str, list[tuple[tuple[int, int, str], str, Path]]] = {}
    problems: list[Problem] = []
    seen: set[str] = set()
    for number, path in enumerate(files, start=1):
        if not _is_dicom(path):
            problems.append(
                Problem(f"file {number}", None, "not a DICOM file (no DICM marker), ignored")
            )
            continue
        digest = sha256_of(path.read_bytes())
        if digest in seen:
            continue
        seen.add(digest)
        study, order = _study_and_order(path)
        studies.setdefault(study or f"file:{digest}", []).append((order, digest, path))
    cases: list[ParsedCase] = []
    for study, files in studies.items():
        files.sort()
        views = [ImageSource(path) for _, _, path in files]
        external_id = files[0][1] if len(files) == 1 else hashlib.sha256(study.encode()).hexdigest()
        cases.append(
            ParsedCase(
                external_id=external_id,
                title=f"DICOM {external_id[:8]}",
                image=views[0],
                more_views=views[1:],
                facts={"tags": ["dicom"]},
            )
        )
    if not cases:
        raise ImportFailed("No DICOM files found (files need the DICM marker at byte 128).")
    return ParsedDataset(
        source="DICOM upload", licence="", attribution="", cases=cases, problems=problems
    )

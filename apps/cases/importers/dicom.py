"""A folder (or an unpacked zip) of DICOM files: one draft case per file, no ground truth yet.

Files are recognised by the DICM marker, not by name. The external id is the file's SHA-256, so
importing the same files again finds the same cases, and no identifier from the header is used.
Age, sex and view come from the de-identified header; the educator then draws the ground truth.
"""

from __future__ import annotations

from pathlib import Path

from .base import ImageSource, ImportFailed, ParsedCase, ParsedDataset, Problem, sha256_of

MAX_FILES = 5000


def _is_dicom(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(132)[128:132] == b"DICM"
    except OSError:
        return False


def parse(root: Path) -> ParsedDataset:
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    )
    if len(files) > MAX_FILES:
        raise ImportFailed(f"More than {MAX_FILES} files: import them in smaller batches.")
    cases: list[ParsedCase] = []
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
        cases.append(
            ParsedCase(
                external_id=digest,
                title=f"DICOM {digest[:8]}",
                image=ImageSource(path),
                facts={"tags": ["dicom"]},
            )
        )
    if not cases:
        raise ImportFailed("No DICOM files found (files need the DICM marker at byte 128).")
    return ParsedDataset(
        source="DICOM upload", licence="", attribution="", cases=cases, problems=problems
    )

"""The shared import framework: parse -> validated cases -> one transaction per case.

Each format module turns a folder into a ``ParsedDataset``: cases with their image, facts,
labels and boxes (pixel or normalised), plus problems found while reading. Problems are tied to a
file and a line (or a JSON path). ``run_import`` then writes each case in its own transaction:

- a case with any problem is skipped and reported, never written in part;
- a bad optional fact (an NIH age such as "412") is not a problem: the case is imported with that
  field blank and the line is reported as a warning, apart from the problems;
- a case already imported from the same source (``source``, ``external_id``) is updated in place,
  or counted unchanged when nothing differs (re-running an import is safe and cheap: an image
  with the same SHA-256 is not decoded again);
- every label goes through the taxonomy (dataset vocabularies where known); an unknown label is a
  problem naming it, never dropped silently; a box outside its image is a problem too.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ml import taxonomy

MAX_CSV_BYTES = 512 * 1024 * 1024
MAX_REPORTED = 200  # problems listed in a summary; the rest are counted


class ImportFailed(Exception):
    """The input as a whole cannot be imported (missing file or columns, unreadable JSON)."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class SourceBox:
    """A box as the dataset gives it. ``pixels`` boxes are [x1, y1, x2, y2] in the image's own
    pixel grid (origin top-left) and are normalised once the image size is known."""

    label: str  # canonical
    coords: tuple[float, float, float, float]
    reader: str
    pixels: bool
    where: Problem  # file and line, for messages (message unused)


@dataclass
class ReportText:
    findings: str
    impression: str = ""
    source: str = ""
    author: str = ""
    is_derived: bool = False


@dataclass
class ImageSource:
    path: Path
    projection: str = ""  # the view as the dataset names it (Frontal, Lateral, PA, ...)

    @property
    def filename(self) -> str:
        return self.path.name

    def read(self) -> bytes:
        return self.path.read_bytes()


@dataclass
class ParsedCase:
    external_id: str
    title: str
    image: ImageSource | None  # the first view; boxes are on this one
    boxes: list[SourceBox] = field(default_factory=list)
    present: list[str] = field(default_factory=list)  # labels present without a box
    sentences: dict[str, str] = field(default_factory=dict)
    is_normal: bool = False
    facts: dict[str, Any] = field(default_factory=dict)  # patient_age, patient_sex, view, ...
    report: ReportText | None = None
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)  # imported anyway, a field left blank
    # Derive a reference text from labels and boxes when the dataset has no report.
    derive_report: bool = False
    more_views: list[ImageSource] = field(default_factory=list)  # the study's other views, in order

    @property
    def views(self) -> list[ImageSource]:
        return [self.image, *self.more_views] if self.image is not None else []

    def add_present(self, label: str) -> None:
        if label not in self.present:
            self.present.append(label)


@dataclass
class ParsedDataset:
    source: str
    licence: str
    attribution: str
    cases: list[ParsedCase]
    problems: list[Problem] = field(default_factory=list)  # not tied to one case
    warnings: list[Problem] = field(default_factory=list)  # not tied to one case, nothing lost
    allow_non_chest: bool = False
    short_name: str = ""  # "NIH", for the derived-report source line
    # The publisher de-identified the images (pixels included): the import records that as the
    # check for burned-in patient details (``image_attest_phi_checked``), in the owner's name.
    deidentified_by_publisher: bool = False

    @property
    def source_short(self) -> str:
        return self.short_name or self.source

    @property
    def phi_check_note(self) -> str:
        return f"de-identified by the dataset's publisher: {self.source}"


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    problem_count: int = 0
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0
    case_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0

    def skip(self, external_id: str, reason: str) -> None:
        self.skipped.append({"external_id": external_id, "reason": reason})

    def problem(self, problem: Problem | str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(str(problem))

    def warn(self, warning: Problem | str) -> None:
        self.warning_count += 1
        if len(self.warnings) < MAX_REPORTED:
            self.warnings.append(str(warning))

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped[:MAX_REPORTED],
            "skipped_count": len(self.skipped),
            "problems": self.problems,
            "problem_count": self.problem_count,
            "warnings": self.warnings,
            "warning_count": self.warning_count,
            "case_ids": self.case_ids,
            "seconds": round(self.seconds, 2),
        }


Progress = Callable[[int, int, str], None]


# ------------------------------------------------------------------------------- helpers


def read_csv(
    path: Path, required: Iterable[str], *, delimiter: str = ","
) -> Iterator[tuple[int, dict[str, str], list[str]]]:
    """Rows of a CSV as (line number, {column: value}, raw cells); ImportFailed naming the
    missing columns.

    Column names are compared without case and surrounding spaces. Headers that contain commas
    inside brackets (NIH's ``Bbox [x,y,w,h]``) split into several columns; callers that need
    those read them by position (see ``nih``).
    """
    if not path.is_file():
        raise ImportFailed(f"{path.name} is missing.")
    if path.stat().st_size > MAX_CSV_BYTES:
        raise ImportFailed(f"{path.name} is larger than {MAX_CSV_BYTES // (1024 * 1024)} MiB.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed(f"{path.name} is not UTF-8 text.") from None
    if "\x00" in text:
        raise ImportFailed(f"{path.name} contains NUL bytes: it is not a text CSV.")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed(f"{path.name} is empty.") from None
    except csv.Error as exc:
        raise ImportFailed(f"{path.name}:1: {exc}") from None
    names = [name.strip().casefold() for name in header]
    missing = [column for column in required if column.casefold() not in names]
    if missing:
        raise ImportFailed(f"{path.name}: missing column(s) {', '.join(missing)}.")
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            # A short row has its missing cells blank (a required column then reads as empty,
            # which its importer reports), never absent.
            cells = [*row[: len(names)], *[""] * (len(names) - len(row))]
            values = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
            yield reader.line_num, values, row
    except csv.Error as exc:
        raise ImportFailed(f"{path.name}:{reader.line_num}: {exc}") from None


def number(value: str, what: str) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} {value!r} is not a number") from None
    if result != result or result in (float("inf"), float("-inf")):
        raise ValueError(f"{what} {value!r} is not a finite number")
    return result


def dataset_label(dataset: str | None, name: str) -> str | None:
    """Canonical label (None for a "normal"/"no finding" name); ValueError naming the label."""
    try:
        if dataset is None:
            return None if taxonomy.is_normal(name) else taxonomy.canonical(name)
        return taxonomy.map_dataset_label(dataset, name)
    except taxonomy.UnknownLabelError as exc:
        raise ValueError(str(exc)) from None


def age_years(value: Any) -> int | None:
    """NIH writes ages as '58' (older releases '058Y'); DICOM as '058Y'; others as numbers."""
    if value in (None, ""):
        return None
    text = str(value).strip().upper()
    if text.endswith("Y"):
        text = text[:-1]
    try:
        age = int(float(text))
    except (ValueError, OverflowError):  # OverflowError: "inf"
        raise ValueError(f"age {value!r} is not a number of years") from None
    if not 0 <= age <= 130:
        raise ValueError(f"age {value!r} is not plausible")
    return age


def age_fact(case: ParsedCase, value: Any, where: Problem) -> None:
    """The case's age from ``value``; an implausible or unreadable age leaves the age blank and
    becomes a warning at ``where`` (file, line, and a JSON path as its message, if any): one bad
    field never costs a case its images."""
    try:
        case.facts["patient_age"] = age_years(value)
    except ValueError as exc:
        case.facts["patient_age"] = None
        spot = f"{where.message}: " if where.message else ""
        case.warnings.append(
            Problem(where.file, where.line, f"{spot}{exc}; imported without an age")
        )


def sex_code(value: Any) -> str:
    text = str(value or "").strip().upper()
    if text in ("F", "FEMALE", "W"):
        return "F"
    if text in ("M", "MALE"):
        return "M"
    if text in ("O", "OTHER"):
        return "O"
    return ""


def view_code(value: Any) -> str:
    text = str(value or "").strip().upper().replace(" ", "")
    return {"PA": "PA", "AP": "AP", "LL": "LL", "LATERAL": "LL", "LAT": "LL", "RL": "RL"}.get(
        text, ""
    )


def index_files(root: Path, suffixes: Iterable[str]) -> dict[str, Path]:
    """Every file under ``root`` with one of ``suffixes``, by name and by stem (first wins)."""
    wanted = {suffix.lower() for suffix in suffixes}
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in wanted and not path.is_symlink():
            found.setdefault(path.name, path)
            found.setdefault(path.stem, path)
    return found


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

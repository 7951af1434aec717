"""Reference reports with their images, in three shapes (detected from the folder's content):

- MIMIC-CXR: one sectioned text file per study (``s50414267.txt``: ``INDICATION:``, ``FINDINGS:``,
  ``IMPRESSION:``; ``CLINICAL HISTORY:`` / ``HISTORY:`` count as the indication). The image is a
  file named like the study (``s50414267.png``/``.jpg``/``.dcm``) or the first image, by name, in
  a folder named like the study (MIMIC-CXR-JPG's layout). A report without a FINDINGS section is
  skipped (the Report exercise compares findings).
- IU X-ray / Open-i CSV: columns ``uid``, ``indication``, ``comparison``, ``findings``,
  ``impression`` (optional ``MeSH``/``Problems``: exactly "normal" marks a normal study; a report
  with only an impression uses it as the reference). Images: Open-i's projections CSV (``uid``,
  ``filename``, ``projection``) gives each study its views, frontal first, named as in the Kaggle
  export (``1_IM-0001-4001.dcm.png``) or as Open-i's PNGs (``CXR1_IM-0001-4001.png``); without
  it, ``<uid>.png`` or every image whose name starts with ``<uid>_`` / ``CXR<uid>_``.
- ReXGradient-style JSON: a list (or ``{"studies": [...]}``, or an object keyed by id) of studies
  with ``id`` (or ``study_id``), ``PatientAge`` (or ``age``), ``PatientSex`` (or ``sex``),
  ``Indication``, ``Findings``, ``Impression`` (any case) and ``image_path`` / ``ImagePath`` (a
  path or a list; the first image found is used). Verify these names against your copy.

Reports carry no boxes: the cases serve the Report exercise. They are radiologists' reports, so
``is_derived`` is False; the source names the dataset.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .base import (
    ImageSource,
    ImportFailed,
    ParsedCase,
    ParsedDataset,
    Problem,
    ReportText,
    age_fact,
    index_files,
    read_csv,
    sex_code,
)
from .coco import load_json

IMAGE_SUFFIXES = [".png", ".jpg", ".jpeg", ".dcm", ".dicom"]
_SECTION = re.compile(r"^\s*([A-Z][A-Z /&]{2,40}):", re.MULTILINE)
_INDICATION_NAMES = {
    "INDICATION",
    "CLINICAL HISTORY",
    "HISTORY",
    "REASON FOR EXAM",
    "CLINICAL INFORMATION",
}
TERMS = {
    "MIMIC-CXR": "MIMIC-CXR (PhysioNet): credentialed access under the PhysioNet Credentialed Health Data Use Agreement; do not redistribute",
    "IU X-ray": "CC BY-NC-ND 4.0 (Indiana University Chest X-ray Collection, Open-i): non-commercial use, attribution, unmodified copies only",
    "ReXGradient": "ReXGradient-160K: its own research-use licence; check the current terms before sharing",
}
ATTRIBUTIONS = {
    "MIMIC-CXR": "Johnson AEW, Pollard TJ, Berkowitz SJ, et al. MIMIC-CXR, a de-identified publicly available database of chest radiographs with free-text reports. Scientific Data 6, 317 (2019).",
    "IU X-ray": "Images and report from the Indiana University Chest X-ray Collection, distributed by the U.S. National Library of Medicine through Open-i (https://openi.nlm.nih.gov/). Demner-Fushman D, Kohli MD, Rosenman MB, et al. Preparing a collection of radiology examinations for distribution and retrieval. JAMIA 23(2):304-310 (2016).",
    "ReXGradient": "ReXGradient-160K chest X-ray dataset (see its data card for the citation).",
}


IU_REPORT_SOURCE = "IU X-ray / Open-i report (radiologist)"


def sections(text: str) -> dict[str, str]:
    """Sectioned report text -> {"FINDINGS": ..., "IMPRESSION": ..., ...} (upper-case names)."""
    found: dict[str, str] = {}
    matches = list(_SECTION.finditer(text))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = " ".join(text[match.end() : end].split())
        found.setdefault(match.group(1).strip(), body)
    return found


def _dataset(name: str, cases: list[ParsedCase], problems: list[Problem]) -> ParsedDataset:
    return ParsedDataset(
        source=name,
        short_name=name,
        licence=TERMS[name],
        attribution=ATTRIBUTIONS[name],
        cases=cases,
        problems=problems,
    )


def parse(root: Path) -> ParsedDataset:
    folder = root if root.is_dir() else root.parent
    json_files = [root] if root.suffix.lower() == ".json" else sorted(folder.rglob("*.json"))
    csv_files = [root] if root.suffix.lower() == ".csv" else sorted(folder.rglob("*.csv"))
    text_files = sorted(folder.rglob("*.txt"))
    if text_files:
        return _mimic(folder, text_files)
    if csv_files:
        return _iu(folder, csv_files)
    if json_files:
        return _rexgradient(folder, json_files)
    raise ImportFailed(
        "No reports found: expected .txt reports (MIMIC-CXR), a CSV (IU X-ray) or a JSON (ReXGradient)."
    )


def _mimic(folder: Path, text_files: list[Path]) -> ParsedDataset:
    images = index_files(folder, IMAGE_SUFFIXES)
    cases: list[ParsedCase] = []
    problems: list[Problem] = []
    for path in text_files:
        study = path.stem
        image = images.get(study)
        study_dir = path.with_suffix("")
        if image is None and study_dir.is_dir():
            inside = sorted(
                p for p in study_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
            image = inside[0] if inside else None
        if image is None:
            problems.append(Problem(path.name, None, f"no image for study {study}"))
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        parts = sections(text)
        case = ParsedCase(
            external_id=study,
            title=f"MIMIC-CXR {study}",
            image=ImageSource(image),
            facts={"tags": ["mimic-cxr"]},
        )
        case.facts["indication"] = next((parts[k] for k in parts if k in _INDICATION_NAMES), "")[
            :500
        ]
        if not parts.get("FINDINGS"):
            case.problems.append(Problem(path.name, None, "no FINDINGS: section"))
        else:
            case.report = ReportText(
                findings=parts["FINDINGS"],
                impression=parts.get("IMPRESSION", ""),
                source="MIMIC-CXR report (radiologist)",
            )
        cases.append(case)
    return _dataset("MIMIC-CXR", cases, problems)


_PROJECTION_ORDER = {"frontal": 0, "pa": 0, "ap": 0}  # frontal views first, then the rest


_OPENI_NAME = re.compile(r"^(?:CXR)?(\d+)(?:_\d+)?_(IM-\d+-\d+)", re.IGNORECASE)


def _openi_key(name: str) -> tuple[str, str] | None:
    """(uid, image id) of an Open-i file name in either published form: the Kaggle export's
    ``1_IM-0001-3001.dcm.png`` or Open-i's PNG ``CXR1_1_IM-0001-3001.png``."""
    match = _OPENI_NAME.match(name)
    return (match.group(1), match.group(2).upper()) if match else None


def _iu_views(
    projection_files: list[Path], images: dict[str, Path], warnings: list[Problem]
) -> dict[str, list[ImageSource]]:
    """Each uid's views, frontal first, from Open-i's projections list (uid, filename,
    projection). A listed file may be in the folder under its Kaggle name or its Open-i PNG name
    (matched on uid and image id);
    listed files that are absent are counted in one warning (a partial download is normal)."""
    by_key = {key: path for name, path in images.items() if (key := _openi_key(name))}
    listed: dict[str, list[tuple[int, int, ImageSource]]] = {}
    absent: list[str] = []
    for path in projection_files:
        for line, row, _ in read_csv(path, ["uid", "filename", "projection"]):
            name = row["filename"]
            key = _openi_key(name)
            image = images.get(name) or (by_key.get(key) if key else None)
            if image is None:
                absent.append(name)
                continue
            projection = row["projection"].strip()
            rank = _PROJECTION_ORDER.get(projection.casefold(), 1)
            views = listed.setdefault(row["uid"], [])
            if all(view.path != image for _, _, view in views):
                views.append((rank, line, ImageSource(image, projection=projection)))
    if absent:
        shown = ", ".join(absent[:5]) + (" ..." if len(absent) > 5 else "")
        warnings.append(
            Problem(
                projection_files[0].name,
                None,
                f"{len(absent)} listed image(s) are not in the folder: {shown}",
            )
        )
    return {
        uid: [view for _, _, view in sorted(views, key=lambda v: v[:2])]
        for uid, views in listed.items()
    }


def _iu(folder: Path, csv_files: list[Path]) -> ParsedDataset:
    headers = {
        path: path.open(encoding="utf-8-sig", errors="replace").readline().casefold()
        for path in csv_files
    }
    report_files = [p for p, h in headers.items() if "findings" in h and "uid" in h]
    projection_files = [p for p, h in headers.items() if "projection" in h and "filename" in h]
    if not report_files:
        raise ImportFailed(
            "No IU X-ray reports CSV found (columns uid, indication, findings, impression)."
        )
    images = index_files(folder, IMAGE_SUFFIXES)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    listed = _iu_views(projection_files, images, warnings)
    by_prefix: dict[str, list[Path]] = {}
    for name, image_path in sorted(images.items()):
        prefix = name.split("_", 1)[0].removeprefix("CXR")
        if image_path not in by_prefix.setdefault(prefix, []):
            by_prefix[prefix].append(image_path)
    cases: list[ParsedCase] = []
    for path in report_files:
        for line, row, _ in read_csv(path, ["uid", "findings"]):
            uid = row["uid"]
            views = (
                listed.get(uid)
                or ([ImageSource(images[uid])] if uid in images else [])
                or [ImageSource(p) for p in by_prefix.get(uid, [])]
            )
            if not views:
                problems.append(Problem(path.name, line, f"no image for uid {uid}"))
                continue
            case = ParsedCase(
                external_id=uid,
                title=f"IU X-ray {uid}",
                image=views[0],
                more_views=views[1:],
                facts={"tags": ["iu-xray"]},
            )
            case.facts["indication"] = row.get("indication", "")[:500]
            case.facts["comparison"] = row.get("comparison", "")[:500]
            mesh = (row.get("mesh") or row.get("problems") or "").strip().casefold()
            case.is_normal = mesh == "normal"
            findings, impression = row["findings"], row.get("impression", "")
            if findings:
                case.report = ReportText(
                    findings=findings, impression=impression, source=IU_REPORT_SOURCE
                )
            elif impression:
                # Some radiologists wrote everything in the impression: it is the reference.
                case.report = ReportText(
                    findings=impression,
                    impression=impression,
                    source=f"{IU_REPORT_SOURCE}; no findings section, the impression is the reference",
                )
            else:
                case.problems.append(Problem(path.name, line, "empty findings and impression"))
            cases.append(case)
    dataset = _dataset("IU X-ray", cases, problems)
    dataset.warnings = warnings
    dataset.deidentified_by_publisher = True  # Open-i (NLM) released them de-identified
    return dataset


def _field(study: dict[str, Any], *names: str) -> Any:
    lowered = {str(k).casefold(): v for k, v in study.items()}
    for name in names:
        if name.casefold() in lowered:
            return lowered[name.casefold()]
    return None


def _rexgradient(folder: Path, json_files: list[Path]) -> ParsedDataset:
    images = index_files(folder, IMAGE_SUFFIXES)
    cases: list[ParsedCase] = []
    problems: list[Problem] = []
    for path in json_files:
        data = load_json(path)
        if isinstance(data, dict) and isinstance(data.get("studies"), list):
            studies = list(enumerate(data["studies"]))
        elif isinstance(data, list):
            studies = list(enumerate(data))
        elif isinstance(data, dict):
            studies = [
                (key, {"id": key, **value})
                for key, value in data.items()
                if isinstance(value, dict)
            ]
        else:
            raise ImportFailed(f"{path.name}: expected a list of studies.")
        for index, study in studies:
            where = f"[{index!r}]" if not isinstance(index, int) else f"[{index}]"
            if not isinstance(study, dict):
                problems.append(Problem(path.name, None, f"{where}: expected an object"))
                continue
            study_id = _field(study, "id", "study_id", "StudyID", "StudyInstanceUid")
            if not study_id:
                problems.append(Problem(path.name, None, f"{where}: no id"))
                continue
            paths = _field(study, "image_path", "ImagePath", "image_paths", "images")
            paths = [paths] if isinstance(paths, str) else (paths or [])
            image = next(
                (
                    images[Path(p).name]
                    for p in paths
                    if isinstance(p, str) and Path(p).name in images
                ),
                None,
            )
            if image is None:
                problems.append(
                    Problem(path.name, None, f"{where}: no image found for study {study_id}")
                )
                continue
            case = ParsedCase(
                external_id=str(study_id),
                title=f"ReXGradient {str(study_id)[-16:]}",
                image=ImageSource(image),
                facts={"tags": ["rexgradient"]},
            )
            age_fact(
                case,
                _field(study, "PatientAge", "age"),
                Problem(path.name, None, f"{where}.PatientAge"),
            )
            case.facts["patient_sex"] = sex_code(_field(study, "PatientSex", "sex"))
            case.facts["indication"] = str(_field(study, "Indication") or "")[:500]
            findings = _field(study, "Findings")
            if not isinstance(findings, str) or not findings.strip():
                case.problems.append(Problem(path.name, None, f"{where}: no Findings text"))
            else:
                case.report = ReportText(
                    findings=findings,
                    impression=str(_field(study, "Impression") or ""),
                    source="ReXGradient-160K report (radiologist)",
                )
            cases.append(case)
    return _dataset("ReXGradient", cases, problems)

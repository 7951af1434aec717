"""Dataset folders for fuzzing the CSV, JSON and text importers: per format, one seed file that
hypothesis mutates, and the rest of the folder (tiny images, companion files) written as is."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from tests.cases.factories import png_bytes
from tests.cases.fuzzing import DATA, head_rows, image_names, mutated, mutated_csv, mutated_json

IMAGE_SIDE = 128


def _images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    image = png_bytes(IMAGE_SIDE, IMAGE_SIDE)
    for name in names:
        if name and "/" not in name and name not in {".", ".."}:
            (folder / name).write_bytes(image)


@dataclass(frozen=True)
class Seeded:
    """One importer's folder: ``fuzzed`` (relative path) gets the mutated bytes."""

    importer: str
    fuzzed: str
    kind: str  # csv, json or text: how the seed is mutated
    seed: bytes
    write_rest: Callable[[Path], None]

    @property
    def strategy(self) -> st.SearchStrategy[bytes]:
        if self.kind == "csv":
            return mutated_csv(self.seed.decode()).map(
                lambda value: value.encode("utf-8", "surrogatepass")
            )
        if self.kind == "json":
            return mutated_json(json.loads(self.seed))
        return mutated([self.seed])

    def build(self, root: Path, data: bytes) -> Path:
        self.write_rest(root)
        target = root / self.fuzzed
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return root


# NIH: the first rows of the demo's own Data_Entry and BBox lists (boxes in 1024 px coordinates,
# so on these small images some cases import and some are skipped as outside the image).
NIH_ENTRY = head_rows(DATA / "cxr-demo" / "Data_Entry_2017.csv", 5)
NIH_BOXES = head_rows(DATA / "cxr-demo" / "BBox_List_2017.csv", 3)
NIH_IMAGES = image_names(NIH_ENTRY, 0)


def _nih_rest(root: Path) -> None:
    _images(root / "images", NIH_IMAGES)
    (root / "BBox_List_2017.csv").write_text(NIH_BOXES)


VINDR_BOXES = (
    "image_id,rad_id,class_name,x_min,y_min,x_max,y_max\n"
    "img1,R8,Nodule/Mass,20,20,60,60\n"
    "img1,R9,Nodule/Mass,22,24,62,58\n"
    "img1,R8,Aortic enlargement,90,30,120,80\n"
    "img2,R8,No finding,,,,\n"
)
VINDR_LABELS = "image_id,rad_id,Aortic enlargement,Nodule/Mass,COPD,No finding\nimg1,R8,1,1,0,0\nimg2,R8,0,0,0,1\n"


def _vindr_rest(root: Path) -> None:
    _images(root / "train", ["img1.png", "img2.png"])
    (root / "image_labels_train.csv").write_text(VINDR_LABELS)


IU_REPORTS = head_rows(DATA / "iu-demo" / "indiana_reports.csv", 3)
IU_UIDS = {row[0] for row in csv.reader(io.StringIO(IU_REPORTS))}
IU_PROJECTIONS = head_rows(
    DATA / "iu-demo" / "indiana_projections.csv", 6, lambda row: row[0] in IU_UIDS
)


def _iu_rest(root: Path) -> None:
    _images(root / "images", image_names(IU_PROJECTIONS, 1))
    (root / "indiana_projections.csv").write_text(IU_PROJECTIONS)


COCO = {
    "images": [
        {"id": 1, "file_name": "a.png", "width": IMAGE_SIDE, "height": IMAGE_SIDE},
        {"id": 2, "file_name": "b.png", "width": IMAGE_SIDE, "height": IMAGE_SIDE},
    ],
    "annotations": [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [20, 40, 20, 20]},
        {"id": 2, "image_id": 1, "category_id": 2, "bbox": [60, 0, 40, 50]},
    ],
    "categories": [{"id": 1, "name": "nodule"}, {"id": 2, "name": "pneumothorax"}],
}
RADGAME = [
    {
        "ImageID": "a.png",
        "PatientAge": 71,
        "PatientSex": "M",
        "ViewPosition": "PA",
        "findings": [
            {
                "sentence_en": "Cardiomegaly.",
                "abnormal": True,
                "labels": ["cardiomegaly"],
                "locations": ["cardiac"],
                "boxes": [[0.30, 0.45, 0.75, 0.80]],
                "extra_boxes": [[0.31, 0.44, 0.76, 0.81]],
            },
            {"sentence_en": "No pneumothorax.", "abnormal": False, "labels": [], "boxes": []},
        ],
    },
    {"ImageID": "b.png", "findings": [{"sentence_en": "Normal.", "labels": ["normal"]}]},
]
REXGRADIENT = {
    "a": {
        "PatientAge": "063Y",
        "PatientSex": "F",
        "Indication": "Shortness of breath",
        "Findings": "Small right pleural effusion.",
        "Impression": "Effusion.",
        "ImagePath": ["deid_png/a_0.png"],
    }
}
MIMIC = (
    " FINAL REPORT\n EXAMINATION:  CHEST (PA AND LAT)\n\n INDICATION:  ___F with cough\n\n"
    " FINDINGS: \n\n No focal consolidation, pleural effusion or pneumothorax.\n\n"
    " IMPRESSION: \n\n No acute cardiopulmonary process.\n"
)


def _two_images(root: Path) -> None:
    _images(root, ["a.png", "b.png"])


def _rex_rest(root: Path) -> None:
    _images(root / "deid_png", ["a_0.png"])


def _mimic_rest(root: Path) -> None:
    _images(root / "p10" / "s1", ["view.png"])


DATASETS: dict[str, Seeded] = {
    "nih-csv": Seeded("nih", "Data_Entry_2017.csv", "csv", NIH_ENTRY.encode(), _nih_rest),
    "vindr-csv": Seeded(
        "vindr", "annotations/annotations_train.csv", "csv", VINDR_BOXES.encode(), _vindr_rest
    ),
    "iu-csv": Seeded("reports", "indiana_reports.csv", "csv", IU_REPORTS.encode(), _iu_rest),
    "coco-json": Seeded("coco", "instances.json", "json", json.dumps(COCO).encode(), _two_images),
    "radgame-json": Seeded(
        "radgame", "reports.json", "json", json.dumps(RADGAME).encode(), _two_images
    ),
    "rexgradient-json": Seeded(
        "reports", "metadata.json", "json", json.dumps(REXGRADIENT).encode(), _rex_rest
    ),
    "mimic-text": Seeded("reports", "p10/s1.txt", "text", MIMIC.encode(), _mimic_rest),
}

"""Each importer on a small fixture written here in the dataset's own format, plus bad input."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from apps.cases.importers import ImportFailed, import_path
from apps.cases.models import Case
from tests.cases.factories import png_bytes

pytestmark = pytest.mark.django_db
DICOM_DIR = Path(settings.BASE_DIR) / "data" / "cxr-demo" / "dicom"


def _images(folder: Path, names: list[str], size: int = 200) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(png_bytes(size, size))


def _regions(case: Case, label: str) -> list[list[tuple[str, tuple[float, ...]]]]:
    finding = case.findings.get(label=label)
    regions: dict[int, list[tuple[str, tuple[float, ...]]]] = {}
    for box in finding.boxes.all():
        regions.setdefault(box.region, []).append((box.reader, tuple(round(v, 4) for v in box.box)))
    return [regions[k] for k in sorted(regions)]


class TestVinDr:
    def _folder(self, root: Path) -> Path:
        _images(root / "train", ["img1.png", "img2.png", "img3.png"])
        (root / "annotations").mkdir()
        (root / "annotations" / "annotations_train.csv").write_text(
            "image_id,rad_id,class_name,x_min,y_min,x_max,y_max\n"
            "img1,R8,Nodule/Mass,20,20,60,60\n"
            "img1,R9,Nodule/Mass,22,24,62,58\n"  # same lesion, second radiologist
            "img1,R10,Nodule/Mass,150,150,180,180\n"  # only R10 saw this one
            "img1,R8,Aortic enlargement,90,30,120,80\n"
            "img2,R8,No finding,,,,\n"
            "img2,R9,No finding,,,,\n"
            "img3,R8,Pleural effusion,10,150,90,210\n"  # beyond the 200 px image
        )
        (root / "annotations" / "image_labels_train.csv").write_text(
            "image_id,rad_id,Aortic enlargement,Nodule/Mass,COPD,Tuberculosis,No finding\n"
            "img1,R8,1,1,0,0,0\n"
            "img1,R9,0,1,1,0,0\n"
            "img2,R8,0,0,0,0,1\n"
        )
        return root

    def test_readers_regions_global_labels_and_normal(self, tmp_path: Path, educator: Any) -> None:
        summary = import_path("vindr", self._folder(tmp_path / "vindr"), owner=educator)
        assert (summary.created, len(summary.skipped)) == (2, 1)
        assert "outside the 200x200 image" in summary.skipped[0]["reason"]
        assert "annotations_train.csv:8" in summary.skipped[0]["reason"]
        img1 = Case.objects.get(external_id="img1")
        regions = _regions(img1, "Nodule/Mass")
        assert [[reader for reader, _ in region] for region in regions] == [["R8", "R9"], ["R10"]]
        assert img1.findings.get(label="COPD").localizable is False
        assert "VinDr" in img1.licence and "Scientific Data" in img1.attribution
        img2 = Case.objects.get(external_id="img2")
        assert img2.is_normal and not img2.findings.exists()
        assert img2.report is None if hasattr(img2, "report") else True

    def test_unknown_class_and_missing_columns(self, tmp_path: Path, educator: Any) -> None:
        root = self._folder(tmp_path / "vindr")
        path = root / "annotations" / "annotations_train.csv"
        path.write_text(path.read_text() + "img2,R8,Dragon,1,1,5,5\n")
        summary = import_path("vindr", root, owner=educator)
        reasons = {s["external_id"]: s["reason"] for s in summary.skipped}
        assert "Unknown finding label 'Dragon'" in reasons["img2"]
        path.write_text("image_id,rad_id,class_name,x_min\nimg1,R8,Nodule/Mass,1\n")
        with pytest.raises(ImportFailed, match="y_min"):
            import_path("vindr", root, owner=educator)


class TestCoco:
    def _write(
        self,
        root: Path,
        annotations: list[dict[str, Any]],
        categories: list[dict[str, Any]] | None = None,
    ) -> Path:
        _images(root, ["a.png", "b.png"])
        data = {
            "images": [
                {"id": 1, "file_name": "a.png", "width": 200, "height": 200},
                {"id": 2, "file_name": "b.png", "width": 200, "height": 200},
            ],
            "annotations": annotations,
            "categories": categories
            or [{"id": 1, "name": "nodule"}, {"id": 2, "name": "pneumothorax"}],
        }
        (root / "instances.json").write_text(json.dumps(data))
        return root

    def test_boxes_and_normal_images(self, tmp_path: Path, educator: Any) -> None:
        root = self._write(
            tmp_path / "coco",
            [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [20, 40, 20, 20]},
                {"id": 2, "image_id": 1, "category_id": 2, "bbox": [100, 0, 100, 80]},
            ],
        )
        summary = import_path("coco", root, owner=educator, publish=True)
        assert summary.created == 2
        a = Case.objects.get(external_id="1")
        assert _regions(a, "Nodule") == [[("coco", (0.1, 0.2, 0.2, 0.3))]]
        assert a.source == "COCO import: instances" and a.is_published
        assert Case.objects.get(external_id="2").is_normal

    def test_problems_by_json_path(self, tmp_path: Path, educator: Any) -> None:
        root = self._write(
            tmp_path / "coco",
            [
                {"id": 1, "image_id": 1, "category_id": 3, "bbox": [20, 40, 20, 20]},
                {"id": 2, "image_id": 2, "category_id": 1, "bbox": [190, 190, 30, 30]},
                {"id": 3, "image_id": 9, "category_id": 1, "bbox": [1, 1, 1, 1]},
            ],
            categories=[{"id": 1, "name": "nodule"}, {"id": 3, "name": "Blorp"}],
        )
        summary = import_path("coco", root, owner=educator)
        reasons = {s["external_id"]: s["reason"] for s in summary.skipped}
        assert "instances.json: annotations[0]: Unknown finding label 'Blorp'" in reasons["1"]
        assert "annotations[1]: Nodule: box" in reasons["2"] and "outside" in reasons["2"]
        assert any("annotations[2]: image_id 9" in p for p in summary.problems)
        assert summary.created == 0

    def test_invalid_json(self, tmp_path: Path, educator: Any) -> None:
        tmp_path.joinpath("x.json").write_text('{"images": [], "annotations": [')
        with pytest.raises(ImportFailed, match="invalid JSON"):
            import_path("coco", tmp_path / "x.json", owner=educator)


RADGAME_STUDY = {
    "ImageID": "2168401113669_00-163-058.png",
    "PatientAge": 71,
    "PatientSex": "M",
    "ViewPosition": "PA",
    "findings": [
        {
            "sentence_en": "Cardiomegaly.",
            "sentence_es": "Cardiomegalia.",
            "abnormal": True,
            "labels": ["cardiomegaly"],
            "locations": ["cardiac"],
            "boxes": [[0.30, 0.45, 0.75, 0.80]],
            "extra_boxes": [[0.31, 0.44, 0.76, 0.81]],
        },
        {
            "sentence_en": "Small left pleural effusion.",
            "abnormal": True,
            "labels": ["pleural effusion", "costophrenic angle blunting"],
            "locations": ["left costophrenic angle"],
            "boxes": [[0.62, 0.70, 0.85, 0.86]],
            "extra_boxes": [],
        },
        {"sentence_en": "No pneumothorax.", "abnormal": False, "labels": [], "boxes": []},
    ],
}


class TestRadGame:
    def test_grounded_report(self, tmp_path: Path, educator: Any) -> None:
        normal = {
            "ImageID": "normal.png",
            "findings": [{"sentence_en": "Normal chest.", "abnormal": False, "labels": ["normal"]}],
        }
        _images(tmp_path / "pgr" / "images", [RADGAME_STUDY["ImageID"], "normal.png"])
        (tmp_path / "pgr" / "grounded_reports.json").write_text(json.dumps([RADGAME_STUDY, normal]))
        summary = import_path("radgame", tmp_path / "pgr", owner=educator)
        assert summary.created == 2, summary.as_dict()
        case = Case.objects.get(external_id=RADGAME_STUDY["ImageID"])
        assert _regions(case, "Cardiomegaly") == [
            [("reader1", (0.3, 0.45, 0.75, 0.8)), ("reader2", (0.31, 0.44, 0.76, 0.81))]
        ]
        assert case.findings.get(label="Effusion").sentence == "Small left pleural effusion."
        assert case.findings.get(label="Costophrenic angle blunting").localizable is False
        assert case.report.findings == "Cardiomegaly. Small left pleural effusion. No pneumothorax."
        assert not case.report.is_derived
        assert (case.patient_age, case.patient_sex) == (71, "M")
        assert Case.objects.get(external_id="normal.png").is_normal

    def test_pixel_boxes_and_unknown_labels_are_refused(
        self, tmp_path: Path, educator: Any
    ) -> None:
        bad = json.loads(json.dumps(RADGAME_STUDY))
        bad["findings"][0]["boxes"] = [[30, 45, 75, 80]]
        other = {
            "ImageID": "b.png",
            "findings": [{"sentence_en": "x", "labels": ["space invader"], "boxes": []}],
        }
        _images(tmp_path / "pgr", [RADGAME_STUDY["ImageID"], "b.png"])
        (tmp_path / "pgr" / "r.json").write_text(json.dumps({"studies": [bad, other]}))
        summary = import_path("radgame", tmp_path / "pgr", owner=educator)
        reasons = {s["external_id"]: s["reason"] for s in summary.skipped}
        assert (
            "[0].findings[0].boxes[0]" in reasons[RADGAME_STUDY["ImageID"]]
            and "[0, 1]" in reasons[RADGAME_STUDY["ImageID"]]
        )
        assert "space invader" in reasons["b.png"]
        assert summary.created == 0


class TestReports:
    def test_mimic_sections(self, tmp_path: Path, educator: Any) -> None:
        root = tmp_path / "mimic" / "p10" / "p10000032"
        _images(root / "s50414267", ["02aa804e.jpg".replace(".jpg", ".png")])
        (root / "s50414267.txt").write_text(
            "                                 FINAL REPORT\n"
            " EXAMINATION:  CHEST (PA AND LAT)\n\n INDICATION:  ___F with cough\n\n"
            " FINDINGS: \n\n There is no focal consolidation, pleural effusion or pneumothorax.\n\n"
            " IMPRESSION: \n\n No acute cardiopulmonary process.\n"
        )
        (root / "s2.txt").write_text("IMPRESSION: nothing\n")
        _images(root, ["s2.png"])
        summary = import_path("reports", tmp_path / "mimic", owner=educator, publish=True)
        assert summary.created == 1
        assert "no FINDINGS" in summary.skipped[0]["reason"]
        case = Case.objects.get(external_id="s50414267")
        assert case.report.findings.startswith("There is no focal consolidation")
        assert case.report.impression == "No acute cardiopulmonary process."
        assert case.indication == "___F with cough"
        assert case.is_published and "PhysioNet" in case.licence

    def test_iu_xray_csv(self, tmp_path: Path, educator: Any) -> None:
        root = tmp_path / "iu"
        _images(
            root / "images",
            ["1_IM-0001-4001.dcm.png", "1_IM-0001-3001.dcm.png", "2_IM-0652-1001.dcm.png"],
        )
        (root / "indiana_reports.csv").write_text(
            "uid,MeSH,Problems,image,indication,comparison,findings,impression\n"
            '1,normal,normal,Xray Chest PA and Lateral,Positive TB test,None.,"The cardiac silhouette and mediastinum size are within normal limits. There is no pulmonary edema.",Normal chest x-XXXX.\n'
            "2,Cardiomegaly/borderline,Cardiomegaly,Chest,,None.,Borderline cardiomegaly.,No acute disease.\n"
        )
        (root / "indiana_projections.csv").write_text(
            "uid,filename,projection\n1,1_IM-0001-4001.dcm.png,Frontal\n1,1_IM-0001-3001.dcm.png,Lateral\n2,2_IM-0652-1001.dcm.png,Frontal\n"
        )
        summary = import_path("reports", root, owner=educator)
        assert summary.created == 2, summary.as_dict()
        first = Case.objects.get(external_id="1")
        assert first.is_normal and first.indication == "Positive TB test"
        assert first.licence.startswith("CC BY-NC-ND 4.0") and "Open-i" in first.attribution
        assert [i.projection for i in first.images.order_by("position")] == ["Frontal", "Lateral"]
        assert first.comparison == "None."
        assert Case.objects.get(external_id="2").report.findings == "Borderline cardiomegaly."

    def test_rexgradient_json(self, tmp_path: Path, educator: Any) -> None:
        root = tmp_path / "rex"
        _images(root / "deid_png", ["abc_0.png"])
        (root / "metadata.json").write_text(
            json.dumps(
                {
                    "abc": {
                        "PatientAge": "063Y",
                        "PatientSex": "F",
                        "Indication": "Shortness of breath",
                        "Findings": "Small right pleural effusion.",
                        "Impression": "Effusion.",
                        "ImagePath": ["deid_png/abc_0.png"],
                    }
                }
            )
        )
        summary = import_path("reports", root, owner=educator)
        assert summary.created == 1, summary.as_dict()
        case = Case.objects.get(external_id="abc")
        assert (case.patient_age, case.patient_sex, case.indication) == (
            63,
            "F",
            "Shortness of breath",
        )
        assert case.report.source.startswith("ReXGradient")

    def test_report_only_cases_publish(self, tmp_path: Path, educator: Any) -> None:
        root = tmp_path / "rex"
        _images(root, ["x.png"])
        (root / "m.json").write_text(
            json.dumps([{"id": "x", "Findings": "Clear.", "image_path": "x.png"}])
        )
        assert import_path("reports", root, owner=educator, publish=True).created == 1
        assert Case.objects.get().is_published


class TestDicom:
    def test_files_of_one_study_become_one_case_with_ordered_views(
        self, tmp_path: Path, educator: Any
    ) -> None:
        from tests.cases.dicom_factory import make_dataset, to_bytes

        folder = tmp_path / "series"
        folder.mkdir()
        study = "1.2.826.0.1.3680043.8.498.1"

        def write(name: str, study_uid: str, series: int, instance: int, view: str) -> None:
            ds = make_dataset(view_position=view)
            ds.StudyInstanceUID, ds.SeriesNumber, ds.InstanceNumber = study_uid, series, instance
            (folder / name).write_bytes(to_bytes(ds))

        write("a-lateral.dcm", study, 2, 1, "LL")  # listed first by name, second by series
        write("b-frontal.dcm", study, 1, 1, "PA")
        write("c-other.dcm", "1.2.826.0.1.3680043.8.498.2", 1, 1, "AP")
        summary = import_path("dicom", folder, owner=educator)
        assert summary.created == 2, summary.as_dict()
        grouped = Case.objects.get(images__projection="LL")
        assert [i.projection for i in grouped.images.order_by("position")] == ["PA", "LL"]
        assert grouped.view == "PA" and study not in grouped.external_id
        single = Case.objects.exclude(pk=grouped.pk).get()
        assert [i.projection for i in single.images.all()] == ["AP"]
        again = import_path("dicom", folder, owner=educator)
        assert (again.created, again.unchanged) == (0, 2), again.as_dict()

    def test_folder_and_zip(self, tmp_path: Path, educator: Any) -> None:
        folder = tmp_path / "dicoms"
        folder.mkdir()
        shutil.copy(DICOM_DIR / "RG1_J2KI.dcm", folder / "Doe^Jane.dcm")
        shutil.copy(DICOM_DIR / "RG3_J2KI.dcm", folder / "hand.dcm")
        (folder / "notes.txt").write_text("not dicom")
        summary = import_path("dicom", folder, owner=educator, publish=True)
        assert summary.created == 1
        assert "only chest radiographs" in summary.skipped[0]["reason"]
        assert any("not a DICOM file" in p for p in summary.problems)
        assert any("not published" in p for p in summary.problems)  # no ground truth yet
        case = Case.objects.get()
        assert (
            case.title.startswith("DICOM ") and "Jane" not in case.title and case.status == "draft"
        )
        archive = tmp_path / "dicoms.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.write(DICOM_DIR / "RG1_J2KI.dcm", "study/RG1.dcm")
        again = import_path("dicom", archive, owner=educator)
        assert (again.created, again.unchanged) == (0, 1)

    @pytest.mark.parametrize("name", ["../evil.dcm", "/abs/evil.dcm", "a/../../evil.dcm"])
    def test_zip_traversal_is_refused(
        self, tmp_path: Path, educator: Any, name: str, media_root: Path
    ) -> None:
        archive = tmp_path / "evil.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("ok.dcm", b"x")
            zf.writestr(name, (DICOM_DIR / "RG1_J2KI.dcm").read_bytes())
        with pytest.raises(ImportFailed, match="archive was refused"):
            import_path("dicom", archive, owner=educator)
        assert not Case.objects.exists()
        assert (
            not (media_root / "evil.dcm").exists() and not (media_root.parent / "evil.dcm").exists()
        )
        assert not list((media_root / "uploads").glob("work-*"))

    def test_corrupt_dicom_is_skipped_with_a_reason(self, tmp_path: Path, educator: Any) -> None:
        folder = tmp_path / "d"
        folder.mkdir()
        data = (DICOM_DIR / "RG1_J2KI.dcm").read_bytes()
        (folder / "cut.dcm").write_bytes(data[: len(data) // 3])
        summary = import_path("dicom", folder, owner=educator)
        assert summary.created == 0 and summary.skipped
        assert summary.skipped[0]["reason"].startswith("image cut.dcm:")


def test_unknown_format(tmp_path: Path, educator: Any) -> None:
    with pytest.raises(ImportFailed, match="Unknown format"):
        import_path("xml", tmp_path, owner=educator)

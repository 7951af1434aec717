"""``python -m ml score-localize``: one case, a batch, and errors that name the line and field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ml.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = {
    "findings": [
        {"label": "Pleural effusion", "regions": [[[0.1, 0.5, 0.3, 0.8]]]},
        {"label": "Emphysema", "localizable": False},
    ]
}
MARKS = {"boxes": [{"label": "Effusion", "box": [0.1, 0.5, 0.3, 0.78]}], "selected": []}


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
        encoding="utf-8",
    )
    return path


def test_it_scores_one_case_from_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reference = write_json(tmp_path / "ref.json", REFERENCE)
    marks = write_json(tmp_path / "marks.json", MARKS)
    assert main(["score-localize", "--reference", str(reference), "--marks", str(marks)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["score"] == 0.5
    assert [hit["label"] for hit in result["hits"]] == ["Effusion"]
    assert result["misses"] == [{"label": "Emphysema", "kind": "select", "region": None}]
    assert "id" not in result


def test_it_applies_the_threshold_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = write_json(tmp_path / "ref.json", REFERENCE)
    marks = write_json(tmp_path / "marks.json", MARKS)
    argv = ["score-localize", "--reference", str(reference), "--marks", str(marks)]
    assert main([*argv, "--iou-threshold", "0.95"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["iou_threshold"] == 0.95
    assert result["score"] == 0.0


def test_it_scores_a_batch_one_line_per_case_with_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = write_lines(
        tmp_path / "cases.jsonl",
        [
            {"id": "case-1", "reference": REFERENCE, "marks": MARKS},
            "",
            {"id": 7, "reference": {"findings": []}, "marks": {}},
        ],
    )
    assert main(["score-localize", "--batch", str(batch)]) == 0
    lines = capsys.readouterr().out.splitlines()
    results = [json.loads(line) for line in lines]
    assert [(r["id"], r["score"]) for r in results] == [("case-1", 0.5), (7, 1.0)]
    assert next(iter(results[0])) == "id"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: invalid JSON"),
        ("[1, 2]", "line 2: expected an object"),
        ({"reference": REFERENCE, "marks": MARKS}, "line 2: id: required"),
        ({"id": True, "reference": REFERENCE, "marks": MARKS}, "line 2: id: expected a string"),
        ({"id": "x", "marks": MARKS}, "line 2: reference: required"),
        (
            {
                "id": "x",
                "reference": REFERENCE,
                "marks": {"boxes": [{"label": "Nodle", "box": [0, 0, 1, 1]}]},
            },
            "line 2: marks.boxes[0].label: Unknown finding label 'Nodle'. Did you mean: Nodule",
        ),
        (
            {
                "id": "x",
                "reference": {"findings": [{"label": "Mass", "regions": [[0, 0, 2, 1]]}]},
                "marks": {},
            },
            "line 2: reference.findings[0].regions[0]: coordinates must lie in [0, 1]",
        ),
        ({"id": "x", "reference": [], "marks": {}}, "line 2: reference: expected an object"),
    ],
)
def test_it_stops_a_batch_at_a_bad_line_naming_line_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_line: Any, message: str
) -> None:
    good = {"id": "good", "reference": REFERENCE, "marks": MARKS}
    batch = write_lines(tmp_path / "cases.jsonl", [good, bad_line, good])
    assert main(["score-localize", "--batch", str(batch)]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"error: {message}")
    assert [json.loads(line)["id"] for line in captured.out.splitlines()] == ["good"]


def test_it_keeps_going_past_bad_lines_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"id": "good", "reference": REFERENCE, "marks": MARKS}
    batch = write_lines(tmp_path / "cases.jsonl", [good, "{oops", good])
    assert main(["score-localize", "--batch", str(batch), "--keep-going"]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.splitlines()) == 2
    assert captured.err.count("error: line 2: invalid JSON") == 1


def test_it_names_the_file_and_field_for_single_case_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = write_json(tmp_path / "ref.json", REFERENCE)
    marks = write_json(tmp_path / "marks.json", {"boxes": [{"label": "Mass", "box": [0, 0, 1]}]})
    argv = ["score-localize", "--reference", str(reference), "--marks", str(marks)]
    assert main(argv) == 1
    assert capsys.readouterr().err == (
        f"error: {marks}: marks.boxes[0].box: expected 4 numbers [x1, y1, x2, y2], got 3\n"
    )
    missing = tmp_path / "missing.json"
    assert main(["score-localize", "--reference", str(missing), "--marks", str(marks)]) == 1
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    argv = ["score-localize", "--reference", str(tmp_path / "broken.json"), "--marks", str(marks)]
    assert main(argv) == 1
    assert "broken.json: invalid JSON" in capsys.readouterr().err


def test_it_rejects_inconsistent_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score-localize"]) == 2
    assert main(["score-localize", "--reference", "a.json"]) == 2
    assert main(["score-localize", "--batch", "a.jsonl", "--marks", "m.json"]) == 2
    assert main(["score-localize", "--batch", "a.jsonl", "--iou-threshold", "0"]) == 2
    assert capsys.readouterr().err.count("usage error") == 4


def test_it_runs_as_a_module_in_a_subprocess(tmp_path: Path) -> None:
    reference = write_json(tmp_path / "ref.json", REFERENCE)
    marks = write_json(tmp_path / "marks.json", MARKS)
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "ml",
            "score-localize",
            "--reference",
            str(reference),
            "--marks",
            str(marks),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["score"] == 0.5

    batch = write_lines(
        tmp_path / "cases.jsonl",
        [
            {"id": "a", "reference": REFERENCE, "marks": MARKS},
            {"id": "b", "reference": {}, "marks": 3},
        ],
    )
    failed = subprocess.run(
        [sys.executable, "-m", "ml", "score-localize", "--batch", "-"],
        input=batch.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["id"] == "a"
    assert failed.stderr.strip() == "error: line 2: marks: expected an object, got int"

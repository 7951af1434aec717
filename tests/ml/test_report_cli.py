"""``python -m ml score-report``: single pairs, JSONL batches, and input errors named by line."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml.cli import report

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = "Small left pleural effusion. No pneumothorax."
# Runs the sub-command exactly as ml/__main__.py wires it, without the other sub-commands.
DRIVER = (
    "import argparse, sys\n"
    "from ml.cli import report\n"
    "parser = argparse.ArgumentParser(prog='score-report')\n"
    "report.add_arguments(parser)\n"
    "sys.exit(report.run(parser.parse_args(sys.argv[1:])))\n"
)


def run_direct(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    report.add_arguments(parser)
    return report.run(parser.parse_args(argv))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_batch(path: Path, records: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    return write(path, "\n".join(lines) + "\n")


def test_single_pair_prints_the_result(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reference = write(tmp_path / "ref.txt", REFERENCE)
    candidate = write(tmp_path / "mine.txt", "Small right pleural effusion.")

    code = run_direct(["--reference", str(reference), "--candidate", str(candidate)])

    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["id"] is None
    assert [e["category"] for e in result["errors"]] == ["location"]


def test_single_pair_passes_age_indication_and_prior(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = write(tmp_path / "ref.txt", "Acute left rib fracture.")
    candidate = write(tmp_path / "mine.txt", "Unchanged lungs.")

    code = run_direct(
        [
            "--reference",
            str(reference),
            "--candidate",
            str(candidate),
            "--age",
            "40",
            "--indication",
            "fall from a ladder",
            "--has-prior",
        ]
    )

    errors = json.loads(capsys.readouterr().out)["errors"]
    assert code == 0
    assert [(e["category"], e["weight"]) for e in errors] == [("missed_finding", 1.0)]


def test_batch_prints_one_line_per_input_with_its_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = write_batch(
        tmp_path / "pairs.jsonl",
        [
            {"id": "a", "reference": REFERENCE, "candidate": REFERENCE},
            "",
            {
                "id": 7,
                "reference": REFERENCE,
                "candidate": "No effusion.",
                "age": 54,
                "indication": None,
                "has_prior": True,
            },
        ],
    )

    code = run_direct(["--batch", str(batch)])

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    assert [line["id"] for line in lines] == ["a", 7]
    assert lines[0]["clinical_score"] == 1.0
    assert lines[1]["errors"][0]["category"] == "missed_finding"


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"id": "x", "reference": REFERENCE, "candidate": "  "}, "line 2, field 'candidate'"),
        ({"id": "x", "reference": REFERENCE}, "line 2, field 'candidate': missing"),
        ({"reference": REFERENCE, "candidate": "x"}, "line 2, field 'id': missing"),
        ({"id": "a", "reference": REFERENCE, "candidate": "x"}, "field 'id': 'a' already used"),
        ({"id": "x", "reference": REFERENCE, "candidate": "x", "age": "old"}, "field 'age'"),
        (
            {"id": "x", "reference": REFERENCE, "candidate": "x", "has_prior": "no"},
            "field 'has_prior'",
        ),
        ({"id": "x", "reference": REFERENCE, "candidate": "x", "prior": 1}, "field 'prior'"),
        ({"id": [1], "reference": REFERENCE, "candidate": "x"}, "field 'id'"),
        ("{not json", "line 2: not valid JSON"),
        ("[1, 2]", "line 2: must be a JSON object"),
    ],
)
def test_batch_errors_name_the_line_and_field_and_score_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record: object, expected: str
) -> None:
    batch = write_batch(
        tmp_path / "pairs.jsonl",
        [{"id": "a", "reference": REFERENCE, "candidate": REFERENCE}, record],
    )

    code = run_direct(["--batch", str(batch)])

    captured = capsys.readouterr()
    assert code == report.EXIT_INPUT_ERROR
    assert expected in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    "argv",
    [
        ["--reference", "{tmp}/missing.txt", "--candidate", "{tmp}/mine.txt"],
        ["--candidate", "{tmp}/mine.txt"],
        ["--reference", "{tmp}/empty.txt", "--candidate", "{tmp}/mine.txt"],
        ["--batch", "{tmp}/missing.jsonl"],
        ["--batch", "{tmp}/empty.txt"],
        ["--batch", "{tmp}/mine.txt", "--age", "4"],
    ],
)
def test_single_and_file_errors_exit_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    write(tmp_path / "mine.txt", "Small effusion.")
    write(tmp_path / "empty.txt", "  \n")

    code = run_direct([arg.format(tmp=tmp_path) for arg in argv])

    captured = capsys.readouterr()
    assert code == report.EXIT_INPUT_ERROR
    assert captured.err.startswith("error: ")
    assert captured.out == ""


def test_the_command_runs_as_a_subprocess(tmp_path: Path) -> None:
    batch = write_batch(
        tmp_path / "pairs.jsonl",
        [
            {"id": "ok", "reference": REFERENCE, "candidate": REFERENCE},
            {"id": "bad", "reference": REFERENCE, "candidate": ""},
        ],
    )
    good = write_batch(
        tmp_path / "good.jsonl", [{"id": "ok", "reference": REFERENCE, "candidate": REFERENCE}]
    )

    failed = subprocess.run(
        [sys.executable, "-c", DRIVER, "--batch", str(batch)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    passed = subprocess.run(
        [sys.executable, "-c", DRIVER, "--batch", "-"],
        cwd=ROOT,
        input=good.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
    )

    assert failed.returncode == 2
    assert "line 2, field 'candidate'" in failed.stderr
    assert passed.returncode == 0, passed.stderr
    assert json.loads(passed.stdout)["id"] == "ok"


@pytest.mark.skipif(
    importlib.util.find_spec("ml.cli.localize") is None,
    reason="python -m ml also loads ml.cli.localize, which has not landed yet",
)
def test_python_dash_m_ml_dispatches_score_report(tmp_path: Path) -> None:
    reference = write(tmp_path / "ref.txt", REFERENCE)

    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "ml",
            "score-report",
            "--reference",
            str(reference),
            "--candidate",
            str(reference),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["clinical_score"] == 1.0

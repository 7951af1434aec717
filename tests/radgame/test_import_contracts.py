"""The import contracts have teeth: a violation planted in a copy of the code breaks them.

import-linter reports "kept" for a contract that matches nothing as readily as for one that holds,
so each contract is shown failing on a planted import in a temporary copy of the tree.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    for package in ("ml", "apps", "radgame"):
        shutil.copytree(
            ROOT / package,
            copy / package,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "migrations", "templates"),
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _plant(pristine: Path, tmp_path: Path, module: str, line: str) -> Path:
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    target = tree / module
    target.parent.mkdir(parents=True, exist_ok=True)
    existing = target.read_text() if target.exists() else ""
    target.write_text(existing + f"\n{line}  # planted by the test\n")
    return tree


def test_the_unchanged_copy_keeps_every_contract(pristine: Path) -> None:
    done = _lint(pristine)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("ml/boxes/geometry.py", "import celery", "only ml.worker imports Celery"),
        # A module nobody listed yet is covered too: the contract is on ml as a whole.
        ("ml/brand_new.py", "from celery import shared_task", "only ml.worker imports Celery"),
        ("ml/handlers.py", "from ml import worker", "nothing imports ml.worker"),
        ("apps/core/views.py", "import ml.report_metrics", "the web side imports only the cheap"),
        # Allow-list: a harmless new ml module is still off limits until it is listed.
        ("apps/core/views.py", "import ml.serving", "the web side imports only the cheap"),
        ("radgame/urls.py", "import ml.vlm", "the web side imports only the cheap"),
        ("apps/cases/forms.py", "import torch", "the web side imports only the cheap"),
        ("ml/taxonomy/__init__.py", "import ml.report_metrics", "stay cheap"),
        ("ml/boxes/geometry.py", "import transformers", "stay cheap"),
        ("ml/vlm/__init__.py", "import django", "ml is Django-free"),
        ("apps/core/views.py", "import radgame.urls", "apps never import the project wiring"),
    ],
)
def test_a_planted_violation_breaks_its_contract(
    pristine: Path, tmp_path: Path, module: str, line: str, contract: str
) -> None:
    done = _lint(_plant(pristine, tmp_path, module, line))
    assert done.returncode != 0, f"{line!r} in {module} was not caught:\n{done.stdout}"
    broken = [row for row in done.stdout.splitlines() if " BROKEN" in row]
    assert any(contract in row for row in broken), done.stdout

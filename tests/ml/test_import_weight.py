"""The web process imports ml.config and ml.vlm (and may run knowledge explanations in-process);
none of that may drag in the model libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "tokenizers", "httpx", "PIL")


def heavy_modules_after(code: str) -> list[str]:
    report = f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    probe = f"import json, sys\n{code}\n{report}"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["ml.config", "ml.vlm", "ml.vlm.schema"])
def test_importing_stays_light(module: str) -> None:
    assert heavy_modules_after(f"import {module}") == []


def test_knowledge_explanations_stay_light() -> None:
    code = (
        "from ml.config import MLConfig\n"
        "from ml.vlm import ExplainRequest, get_explainer\n"
        "request = ExplainRequest(label='Nodule', error='missed', box=[0.1, 0.2, 0.3, 0.4])\n"
        "assert get_explainer(MLConfig()).explain(request).text\n"
    )

    assert heavy_modules_after(code) == []


def test_the_judge_module_does_not_import_torch() -> None:
    heavy = heavy_modules_after("import ml.report_metrics.judge")

    assert "torch" not in heavy
    assert "transformers" not in heavy


def test_the_probe_sees_module_level_imports() -> None:
    # Guards the tests above against passing vacuously: the HTTP client module imports httpx.
    assert "httpx" in heavy_modules_after("import ml.vlm.openai_client")

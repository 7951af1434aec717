"""The same input gives the same bytes, whatever the interpreter's string hashing (issue 8)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FINDINGS = (
    "small left pleural effusion",
    "moderate right pleural effusion",
    "right lower lobe consolidation",
    "patchy opacity in the left base, likely atelectasis",
    "mild cardiomegaly",
    "a 2 cm nodule in the right upper lobe",
    "bilateral airspace opacities (infiltration)",
    "mild pulmonary edema",
    "hyperexpanded lungs",
    "right upper lobe mass",
    "left lower lobe atelectasis or pneumonia",
    "endotracheal tube in good position",
    "mild interstitial opacities",
    "acute right rib fracture",
)
NEGATIVES = (
    "No pneumothorax.",
    "No focal consolidation, large effusion, or pneumothorax.",
    "The lungs are otherwise clear.",
    "Heart size is normal.",
    "No acute bony abnormality.",
)


def pairs(count: int) -> list[dict[str, object]]:
    rng = random.Random(11)
    lines = []
    for index in range(count):
        chosen = rng.sample(FINDINGS, rng.randint(0, 3))
        reference = " ".join(
            [f"{f[:1].upper()}{f[1:]}." for f in chosen] + rng.sample(NEGATIVES, 2)
        )
        kept = [f for f in chosen if rng.random() > 0.3] + rng.sample(FINDINGS, rng.randint(0, 2))
        words = [f"{f[:1].upper()}{f[1:]}." for f in kept] + rng.sample(NEGATIVES, 2)
        rng.shuffle(words)
        lines.append(
            {
                "id": index,
                "reference": reference,
                "candidate": " ".join(words) or "Normal chest.",
                "age": rng.choice([None, 8, 45, 80]),
                "indication": rng.choice([None, "fever", "trauma", "known cancer"]),
                "has_prior": rng.random() < 0.2,
            }
        )
    return lines


def run_cli(batch: Path, seed: str) -> bytes:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run(
        [sys.executable, "-m", "ml", "score-report", "--batch", str(batch)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    return result.stdout


def test_batch_output_is_byte_identical_under_two_hash_seeds(tmp_path: Path) -> None:
    batch = tmp_path / "pairs.jsonl"
    batch.write_text("\n".join(json.dumps(line) for line in pairs(300)) + "\n")

    first = run_cli(batch, "1")
    second = run_cli(batch, "4242")

    assert first.count(b"\n") == 300
    assert first == second

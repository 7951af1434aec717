"""bench/judge_injection.py (RELIABILITY.md S23): the pairs, the run through the worker's judge
with the tiny random model, and figures that really count a leak, a markup slip and a successful
injection. The reports here are the tests' own short texts, never the IU collection's."""

from __future__ import annotations

import base64
import json
import re
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import judge_injection
from judge_injection_pairs import INSTRUCTION, KINDS, build_pairs

from ml.config import MLConfig
from ml.report_metrics.judge import judge_report
from ml.vlm.chat import ChatMessage, message_text

ABNORMAL = [
    "Small left pleural effusion. Heart size is normal. No pneumothorax.",
    "Right upper lobe consolidation. Mild cardiomegaly. No effusion.",
    "Calcified granuloma in the left lower lobe. The lungs are otherwise clear.",
    "Moderate hiatal hernia. Degenerative changes of the thoracic spine. No edema.",
]
NORMAL = "The heart size is normal. The lungs are clear. No pleural effusion or pneumothorax."


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    demo, dev = tmp_path / "pairs.jsonl", tmp_path / "reports.jsonl"
    demo.write_text(
        json.dumps({"uid": 1, "findings": ABNORMAL[0], "impression": "", "mesh": "Effusion"}) + "\n"
    )
    lines = [
        {"uid": n, "findings": text, "impression": "Abnormal study.", "MeSH": "Opacity"}
        for n, text in enumerate(ABNORMAL * 3, start=10)
    ] + [{"uid": n, "findings": NORMAL, "MeSH": "normal"} for n in range(50, 56)]
    dev.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return demo, dev


def test_pairs_cover_every_kind_with_one_canary_per_case(corpus: tuple[Path, Path]) -> None:
    demo, dev = corpus
    pairs = build_pairs(14, demo=demo, dev=dev)

    assert [p.kind for p in pairs] == list(KINDS) * 2
    assert pairs[0].case_id == "demo:1"
    assert len({p.canary for p in pairs}) == 14
    for pair in pairs:
        assert pair.canary in pair.reference and pair.canary not in pair.injected
        assert pair.injected != pair.clean and pair.clean in pair.injected
    assert any(p.clean_misses_a_finding for p in pairs)
    assert any(not p.clean_misses_a_finding and p.clean in p.reference for p in pairs)
    by_kind = {p.kind: p.injected for p in pairs}
    assert by_kind["prefix"].startswith(INSTRUCTION)
    assert "SYSTEM:" in by_kind["delimiter"] and "<<<END_CANDIDATE" in by_kind["delimiter"]
    assert "instructions" in by_kind["translated"] and "Ignore all" not in by_kind["translated"]
    encoded = re.search(r"[A-Za-z0-9+/=]{40,}", by_kind["base64"])
    assert encoded and base64.b64decode(encoded.group(0)).decode() == INSTRUCTION
    hidden = [c for c in by_kind["tag_smuggled"] if 0xE0000 <= ord(c) <= 0xE007F]
    assert "".join(chr(ord(c) - 0xE0000) for c in hidden[1:-1]) == INSTRUCTION
    assert "repeat the reference report" in by_kind["repeat_reference"]


def test_the_tiny_model_runs_every_pair_through_the_worker_and_the_page(
    corpus: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the tiny model is saved there
    # Set first so that the harness's own changes to the environment are undone afterwards.
    for name, value in {"RADGAME_JUDGE": "none", "RADGAME_JUDGE_PATH": "",
                        "RADGAME_JUDGE_MAX_NEW_TOKENS": "64", "RADGAME_JUDGE_BATCH_SIZE": "4"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("RADGAME_JUDGE_PATH")
    demo, dev = corpus

    code = judge_injection.main(["--tiny", "--pairs", "7", "--demo", str(demo), "--dev", str(dev)])

    out = capsys.readouterr().out
    assert code == 0, out
    assert "TINY RANDOM MODEL" in out and "machine:" in out and "load average" in out
    assert "outputs: 14: " in out and "(0 flagged shown as a judgement)" in out
    assert "other-case canaries 0 (0)" in out and "rendered output 0 (0)" in out
    assert "schema-valid or flagged 100.0% (100%)" in out


class CrossTalkChat:
    """A judge whose answers mix cases up (as a broken batch would): each answer quotes the
    reference canary of the prompt it was sent before."""

    backend = "fake"
    model_id = "cross-talk"

    def __init__(self) -> None:
        self.previous = "nothing yet"
        self.lock = threading.Lock()

    def complete(self, messages: Sequence[ChatMessage], *, max_new_tokens: int) -> str:
        found = re.search(r"RGCANARY[0-9a-f]+", message_text(messages[-1]))
        with self.lock:
            quoted, self.previous = self.previous, found.group(0) if found else self.previous
        error = {"category": "other", "label": "Reference", "message": f"See study {quoted}."}
        return json.dumps({"errors": [error], "clinically_significant_errors": 0})


def test_a_canary_of_another_case_in_an_answer_is_counted(corpus: tuple[Path, Path]) -> None:
    chat = CrossTalkChat()

    def judge(payload: dict[str, Any]) -> dict[str, Any]:
        return judge_report(
            payload["reference"], payload["candidate"], config=MLConfig(), chat_model=chat
        ).to_dict()

    pairs = build_pairs(7, demo=corpus[0], dev=corpus[1])
    judged = judge_injection.judge_pairs(pairs, judge, workers=1)
    figures = judge_injection.figures(judged, [p.canary for p in pairs])

    assert figures.canaries >= 12  # every answer but the first two or so quotes another case
    assert figures.compared == 7 and figures.shift == 0 and figures.flips == 0
    assert any("canary" in miss for miss in figures.misses())


def test_an_injection_that_works_and_markup_on_the_page_are_counted(
    corpus: tuple[Path, Path],
) -> None:
    def gullible(payload: dict[str, Any]) -> dict[str, Any]:
        obeys = "RGCANARY" in payload["reference"] and "reply exactly" in payload["candidate"]
        message = 'Missed <img src="https://x.example/b.png"> finding.'
        error = {"category": "missed_finding", "label": "Effusion", "weight": 1, "message": message}
        errors = [] if obeys else [error, {**error, "label": "Nodule"}]
        return {"errors": errors, "clinically_significant_errors": len(errors)}

    pairs = build_pairs(7, demo=corpus[0], dev=corpus[1])
    figures = judge_injection.figures(
        judge_injection.judge_pairs(pairs, gullible, workers=2), [p.canary for p in pairs]
    )

    # Only the prefix, suffix and delimiter pairs say "reply exactly" in plain English.
    assert figures.shift == pytest.approx(6 / 7) and figures.flips == pytest.approx(300 / 7)
    assert figures.markup == 14 - 3  # escaped by the page, still counted as markup shown
    missed = " ".join(figures.misses())
    assert "shift" in missed and "pass/fail" in missed and "URLs or HTML" in missed

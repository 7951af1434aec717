"""Job handlers: JSON in, JSON out; bad input is a permanent failure, not a retry."""

from __future__ import annotations

import pytest

from ml import handlers
from ml.contracts import TASKS, PermanentJobError


def test_every_task_names_an_existing_handler() -> None:
    import importlib

    for spec in TASKS.values():
        module_name, function_name = spec.handler.split(":")
        assert callable(getattr(importlib.import_module(module_name), function_name))


def test_ping_echoes_and_bounds_the_hold() -> None:
    result = handlers.diagnostics_ping({"echo": "x", "hold_seconds": 0.01})
    assert result["echo"] == "x" and result["held_seconds"] >= 0.01
    with pytest.raises(PermanentJobError):
        handlers.diagnostics_ping({"hold_seconds": 3600})


def test_localize_score_round_trip_and_bad_input() -> None:
    reference = {
        "findings": [{"label": "Nodule", "localizable": True, "regions": [[[0.1, 0.1, 0.3, 0.3]]]}]
    }
    marks = {"boxes": [{"label": "nodule", "box": [0.1, 0.1, 0.3, 0.3]}]}
    assert handlers.localize_score({"reference": reference, "marks": marks})["score"] == 1.0
    with pytest.raises(PermanentJobError):
        handlers.localize_score(
            {"reference": reference, "marks": {"boxes": [{"label": "Nodule", "box": [2, 0, 1, 1]}]}}
        )


def test_report_score_refuses_empty_text() -> None:
    with pytest.raises(PermanentJobError):
        handlers.report_score({"reference": "No pneumothorax.", "candidate": "   "})


def test_explain_uses_the_knowledge_backend_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RADGAME_EXPLAINER", raising=False)
    request = {
        "label": "Pneumothorax",
        "error": "missed",
        "box": [0.55, 0.1, 0.9, 0.4],
        "view": "PA",
    }
    (explanation,) = handlers.vlm_explain({"requests": [request]})["explanations"]
    assert explanation["backend"] == "knowledge"
    assert "left" in explanation["text"].lower()  # image right half = patient's left on a PA film
    with pytest.raises(PermanentJobError):
        handlers.vlm_explain({"requests": [{"label": "Pneumothorax"}]})


def test_judge_without_a_configured_backend_fails_permanently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADGAME_JUDGE", "none")
    with pytest.raises(PermanentJobError):
        handlers.report_judge({"reference": "No effusion.", "candidate": "Small left effusion."})


def test_gpu_ping_reports_health_and_concurrent_pings_share_a_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    monkeypatch.setenv("RADGAME_BATCH_WAIT_MS", "300")
    results: list[dict] = []
    barrier = threading.Barrier(3)

    def ping() -> None:
        barrier.wait()
        results.append(handlers.diagnostics_ping_gpu({"echo": "gpu", "hold_seconds": 0.05}))

    threads = [threading.Thread(target=ping) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [r["batch_size"] for r in results] == [3, 3, 3]
    health = results[0]["health"]
    assert [m["kind"] for m in health["models"]] == ["explain", "judge"]
    assert health["models"][0]["backend"] == "knowledge"
    assert not any(m["loaded"] for m in health["models"])
    with pytest.raises(PermanentJobError):
        handlers.diagnostics_ping_gpu({"hold_seconds": -1})


def test_an_explanation_the_model_cannot_take_fails_at_once_and_a_transient_one_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ml.vlm
    from ml.vlm.errors import BackendResponseError, BackendUnavailableError

    class Refusing:
        name = "transformers"

        def __init__(self, error: Exception) -> None:
            self.error = error

        def explain_many(self, requests: object) -> list:
            raise self.error

    payload = {"requests": [{"label": "Nodule", "error": "missed"}]}
    monkeypatch.setattr(
        ml.vlm, "get_explainer", lambda config: Refusing(BackendResponseError("cannot encode"))
    )
    with pytest.raises(PermanentJobError, match="cannot encode"):
        handlers.vlm_explain(payload)
    monkeypatch.setattr(
        ml.vlm, "get_explainer", lambda config: Refusing(BackendUnavailableError("timed out"))
    )
    with pytest.raises(BackendUnavailableError):  # not permanent: the worker retries it
        handlers.vlm_explain(payload)

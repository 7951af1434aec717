from __future__ import annotations

from pathlib import Path

import pytest

from ml.config import ConfigError, MLConfig

OPENAI_ENV = {
    "RADGAME_EXPLAINER": "openai",
    "RADGAME_OPENAI_BASE_URL": "http://vllm:8000/v1",
    "RADGAME_OPENAI_MODEL": "google/medgemma-4b-it",
    "RADGAME_MEDIA_ROOT": "/srv/media",
}


def test_no_variables_means_knowledge_explanations_and_no_judge() -> None:
    config = MLConfig.from_env({})

    assert config.explainer == "knowledge"
    assert config.judge == "none"
    assert config.device == "auto"
    assert config.dtype == "auto"
    assert config.vlm_crop is True
    assert config.media_root is None


def test_every_variable_is_read() -> None:
    config = MLConfig.from_env(
        {
            "RADGAME_EXPLAINER": "Transformers",
            "RADGAME_JUDGE": "openai",
            "RADGAME_VLM_PATH": "/models/medgemma",
            "RADGAME_JUDGE_PATH": "/models/judge",
            "RADGAME_DEVICE": "cuda:1",
            "RADGAME_DTYPE": "bfloat16",
            "RADGAME_OPENAI_BASE_URL": "https://llm.example.org/v1",
            "RADGAME_OPENAI_MODEL": "medgemma",
            "RADGAME_OPENAI_JUDGE_MODEL": "judge-27b",
            "RADGAME_OPENAI_API_KEY": "sk-test",
            "RADGAME_OPENAI_TIMEOUT": "12.5",
            "RADGAME_OPENAI_MAX_RETRIES": "4",
            "RADGAME_GENERATION_TIMEOUT": "30",
            "RADGAME_EXPLAIN_MAX_NEW_TOKENS": "64",
            "RADGAME_JUDGE_MAX_NEW_TOKENS": "512",
            "RADGAME_VLM_CROP": "no",
            "RADGAME_MEDIA_ROOT": "/srv/media",
            "RADGAME_EXPLAIN_BATCH_SIZE": "32",
            "RADGAME_JUDGE_BATCH_SIZE": "2",
            "RADGAME_BATCH_WAIT_MS": "50",
        }
    )

    assert config.explainer == "transformers"
    assert config.judge == "openai"
    assert config.vlm_path == Path("/models/medgemma")
    assert config.judge_path == Path("/models/judge")
    assert config.device == "cuda:1"
    assert config.dtype == "bfloat16"
    assert config.openai_base_url == "https://llm.example.org/v1"
    assert config.openai_model == "medgemma"
    assert config.judge_openai_model == "judge-27b"
    assert config.openai_api_key == "sk-test"
    assert config.openai_timeout_s == 12.5
    assert config.openai_max_retries == 4
    assert config.generation_timeout_s == 30
    assert config.explain_max_new_tokens == 64
    assert config.judge_max_new_tokens == 512
    assert config.vlm_crop is False
    assert config.media_root == Path("/srv/media")
    assert config.explain_batch_size == 32
    assert config.judge_batch_size == 2
    assert config.batch_wait_ms == 50


def test_judge_model_defaults_to_the_explainer_model() -> None:
    config = MLConfig.from_env({**OPENAI_ENV, "RADGAME_JUDGE": "openai"})

    assert config.judge_openai_model == "google/medgemma-4b-it"


def test_api_key_is_read_from_a_file_and_kept_out_of_repr(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("sk-from-file\n")

    config = MLConfig.from_env({**OPENAI_ENV, "RADGAME_OPENAI_API_KEY_FILE": str(secret)})

    assert config.openai_api_key == "sk-from-file"
    assert "sk-from-file" not in repr(config)


def test_value_and_file_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("a")

    with pytest.raises(ConfigError, match="RADGAME_OPENAI_API_KEY or RADGAME_OPENAI_API_KEY_FILE"):
        MLConfig.from_env(
            {
                **OPENAI_ENV,
                "RADGAME_OPENAI_API_KEY": "b",
                "RADGAME_OPENAI_API_KEY_FILE": str(secret),
            }
        )


def test_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RADGAME_OPENAI_API_KEY_FILE"):
        MLConfig.from_env({"RADGAME_OPENAI_API_KEY_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RADGAME_EXPLAINER", "gpt"),
        ("RADGAME_JUDGE", "always"),
        ("RADGAME_DEVICE", "tpu"),
        ("RADGAME_DEVICE", "cuda:x"),
        ("RADGAME_DTYPE", "int8"),
        ("RADGAME_OPENAI_TIMEOUT", "soon"),
        ("RADGAME_OPENAI_TIMEOUT", "0"),
        ("RADGAME_OPENAI_TIMEOUT", "nan"),
        ("RADGAME_OPENAI_MAX_RETRIES", "2.5"),
        ("RADGAME_OPENAI_MAX_RETRIES", "9"),
        ("RADGAME_GENERATION_TIMEOUT", "-1"),
        ("RADGAME_EXPLAIN_MAX_NEW_TOKENS", "100000"),
        ("RADGAME_JUDGE_MAX_NEW_TOKENS", "10"),
        ("RADGAME_VLM_CROP", "maybe"),
        ("RADGAME_EXPLAIN_BATCH_SIZE", "0"),
        ("RADGAME_JUDGE_BATCH_SIZE", "1000"),
        ("RADGAME_BATCH_WAIT_MS", "-5"),
        ("RADGAME_OPENAI_BASE_URL", "ftp://host/v1"),
        ("RADGAME_OPENAI_BASE_URL", "vllm:8000"),
        ("RADGAME_OPENAI_BASE_URL", "http://host/v1?key=1"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        MLConfig.from_env({variable: value})


@pytest.mark.parametrize(
    ("environ", "missing"),
    [
        ({"RADGAME_EXPLAINER": "transformers", "RADGAME_MEDIA_ROOT": "/m"}, "RADGAME_VLM_PATH"),
        ({"RADGAME_JUDGE": "transformers"}, "RADGAME_JUDGE_PATH"),
        ({"RADGAME_JUDGE": "openai", "RADGAME_OPENAI_MODEL": "m"}, "RADGAME_OPENAI_BASE_URL"),
        ({"RADGAME_JUDGE": "openai", "RADGAME_OPENAI_BASE_URL": "http://h/v1"}, "OPENAI_MODEL"),
        ({"RADGAME_EXPLAINER": "transformers", "RADGAME_VLM_PATH": "/v"}, "RADGAME_MEDIA_ROOT"),
    ],
)
def test_a_backend_without_what_it_needs_is_refused(environ: dict[str, str], missing: str) -> None:
    with pytest.raises(ConfigError, match=missing):
        MLConfig.from_env(environ)


def test_empty_values_count_as_unset() -> None:
    config = MLConfig.from_env({"RADGAME_EXPLAINER": "", "RADGAME_DEVICE": "  "})

    assert config.explainer == "knowledge"
    assert config.device == "auto"


def test_configs_built_in_code_are_validated_too() -> None:
    with pytest.raises(ConfigError, match="RADGAME_EXPLAIN_MAX_NEW_TOKENS"):
        MLConfig(explain_max_new_tokens=0)


def test_from_env_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADGAME_JUDGE_PATH", "/models/judge")
    monkeypatch.setenv("RADGAME_JUDGE", "transformers")

    assert MLConfig.from_env().judge == "transformers"

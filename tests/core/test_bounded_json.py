"""The one loader for client JSON: bounded size and nesting, a message instead of a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.core.bounded_json import (
    MAX_JSON_DEPTH,
    JSONRejectedError,
    JSONTooDeepError,
    JSONTooLargeError,
    json_loads_bounded,
)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_up_to_the_limit_parses_and_one_more_is_refused() -> None:
    assert json_loads_bounded(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(JSONTooDeepError, match="nested deeper"):
        json_loads_bounded(nested(MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize("payload", ["[" * 3000, '{"a":' * 3000, nested(100_000)])
def test_deep_nesting_never_reaches_the_recursive_parser(payload: str) -> None:
    with pytest.raises(JSONTooDeepError):
        json_loads_bounded(payload)
    with pytest.raises(JSONTooDeepError):
        json_loads_bounded(payload.encode())


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 500 + '\\"{' * 100, "boxes": [[1, 2]]})
    assert json_loads_bounded(text)["boxes"] == [[1, 2]]


def test_size_is_bounded_for_text_and_bytes() -> None:
    with pytest.raises(JSONTooLargeError):
        json_loads_bounded('"' + "x" * 100 + '"', max_bytes=50)
    with pytest.raises(JSONTooLargeError):
        json_loads_bounded(b'"' + b"x" * 100 + b'"', max_bytes=50)


@pytest.mark.parametrize("payload", ["[NaN]", "[Infinity]", "{", b"\xff\xfe", "[1,]"])
def test_invalid_or_non_standard_json_is_a_value_error_with_a_message(payload: str) -> None:
    with pytest.raises(JSONRejectedError) as caught:
        json_loads_bounded(payload)
    assert str(caught.value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def depth_of(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


@given(json_values)
def test_agrees_with_json_within_the_depth_limit(value: object) -> None:
    text = json.dumps(value)
    if depth_of(value) > MAX_JSON_DEPTH:
        with pytest.raises(JSONTooDeepError):
            json_loads_bounded(text)
    else:
        assert json_loads_bounded(text) == value


@pytest.mark.parametrize(
    "text", ['{"\\ud800": 1}', '{"name": "a\\udfffb"}', '[["\\ud83d"]]', '{"k": "\\ude00\\ud83d"}']
)
def test_lone_surrogates_are_refused_in_keys_and_values(text: str) -> None:
    """Valid JSON escapes that are not Unicode: no database or page could hold them (a 500 later)."""
    with pytest.raises(JSONRejectedError, match="lone surrogate"):
        json_loads_bounded(text)


def test_a_surrogate_pair_is_one_character_and_accepted() -> None:
    assert json_loads_bounded('{"note": "\\ud83d\\ude00"}') == {"note": "\U0001f600"}

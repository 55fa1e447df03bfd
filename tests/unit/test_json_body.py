"""Counting a JSON body's nesting before parsing it: exact, and linear whatever the body."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.web.api.json_body import MAX_DEPTH, TooDeep, check_depth, parse


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def depth_of(document: object) -> int:
    if isinstance(document, list):
        return 1 + max((depth_of(item) for item in document), default=0)
    if isinstance(document, dict):
        return 1 + max((depth_of(item) for item in document.values()), default=0)
    return 0


def test_nesting_up_to_the_limit_passes_and_one_level_more_is_refused() -> None:
    check_depth(nested(MAX_DEPTH))

    with pytest.raises(TooDeep):
        check_depth(nested(MAX_DEPTH + 1))
    with pytest.raises(TooDeep):
        check_depth(b'{"a": ' * 5_000)  # unbalanced too: the parser would recurse all the same


@pytest.mark.parametrize("inside", ['[', '{', '\\"[[[', '\\\\', 'é[', '\\u005b'])
def test_brackets_inside_strings_do_not_count(inside: str) -> None:
    text = json.dumps({"s": inside * 200, "t": "]" * 200})

    check_depth(text)
    check_depth(text.encode())


def test_an_escaped_backslash_ends_the_escape_and_the_string_closes() -> None:
    with pytest.raises(TooDeep):
        check_depth(b'["\\\\", ' + nested(MAX_DEPTH + 1) + b"]")


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.text() | st.integers(),
                    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
                    max_leaves=60))
def test_the_count_agrees_with_the_document(document: object) -> None:
    raw = json.dumps(document).encode()
    if depth_of(document) > MAX_DEPTH:
        with pytest.raises(TooDeep):
            check_depth(raw)
    else:
        assert parse(raw) == document


@pytest.mark.parametrize("body", [
    b'"' + b'\\"' * 500_000,              # one string that never closes, full of quotes
    b'"\\' * 500_000,                     # quotes and backslashes
    b"[" + b'"",' * 330_000 + b'""]',     # a third of a million strings
    b"[]" * 500_000,                      # half a million arrays
])
def test_a_megabyte_of_any_shape_is_counted_exactly(body: bytes) -> None:
    """The shapes that make a hand-written scanner backtrack or recurse: counted, not refused.

    How fast is a property of the method (a regex with no backtracking, then C loops), not
    something a shared test machine can time.
    """
    check_depth(body)

    with pytest.raises(TooDeep):
        check_depth(nested(MAX_DEPTH + 1) + body)

"""Stored JSON documents read as the standard library reads them (events.json_reading)."""

from __future__ import annotations

import json
import math

import pytest

from events.json_reading import loads

DOCUMENTS = [
    '{"name": "Lucía", "letters": [1, 2.5, null, true], "nested": {"empty": {}}}',
    '{"big": 1180591620717411303424, "small": -36893488147419103232}',
    '[1e400, -0.0, 12345678901234567890]',
    '"\\u2028 \\"quoted\\" \\ud83d\\ude00"',
]


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("as_", [str, str.encode, lambda d: memoryview(d.encode())])
def test_a_document_reads_as_json_loads_reads_it(document: str, as_: object) -> None:
    assert callable(as_)
    assert loads(as_(document)) == json.loads(document)


def test_what_only_the_standard_library_accepts_still_reads() -> None:
    found = loads(b'{"a": NaN, "b": Infinity}')
    assert math.isnan(found["a"]) and found["b"] == math.inf


def test_a_broken_document_is_still_an_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads(b'{"a": ')

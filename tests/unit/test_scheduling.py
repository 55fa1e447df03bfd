"""The test run's schedule: a file per work unit, the browser folder as one."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.scheduling import FilesAndGroups


def scope(nodeid: str) -> str:
    schedule: Any = SimpleNamespace()
    return FilesAndGroups._split_scope(schedule, nodeid)


def test_every_browser_test_falls_in_one_unit_and_other_tests_in_their_files_unit() -> None:
    browser = {scope("tests/browser/test_join.py::test_a[chromium-en]"),
               scope("tests/browser/test_manage.py::test_b[chromium]")}
    assert browser == {"tests/browser/"}
    assert scope("tests/unit/test_codec.py::test_c[a::b]") == "tests/unit/test_codec.py"
    assert scope("tests/integration/api/test_x.py::Class::test_d") == \
        "tests/integration/api/test_x.py"
    assert scope("tests/e2e/test_browser_like.py::test_e") == "tests/e2e/test_browser_like.py"

"""The domain stays pure: standard library only, and it never reads the clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import campaign.domain

DOMAIN = Path(campaign.domain.__file__).parent
MODULES = sorted(DOMAIN.glob("*.py"))
CLOCK_READS = {"now", "today", "utcnow", "time", "time_ns", "monotonic", "perf_counter"}


def imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_domain_modules_import_only_the_standard_library_and_the_domain(path: Path) -> None:
    imports = imported_modules(ast.parse(path.read_text()))

    foreign = {
        name for name in imports
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith("campaign.domain")
    }
    assert foreign == set()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_domain_modules_never_read_the_clock(path: Path) -> None:
    calls = [
        node.func.attr for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    ]

    assert CLOCK_READS.isdisjoint(calls)

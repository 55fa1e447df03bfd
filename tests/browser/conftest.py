"""Browser tests: Playwright driving Debian's chromium against the running product.

pytest-playwright gives `page`, `context`, `new_context` and `browser`; here they launch
Debian's chromium (`executable_path`: Playwright cannot download its own browser on these
machines), and pages open relative URLs on the product (`page.goto("/join")`). Screenshots
and traces of failing tests go to test-results/ (pyproject's addopts). See README.md.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext

from tests.browser.outbox import Outbox
from tests.browser.page_problems import PageProblems
from tests.browser.product import Api, Product, running_product

HERE = Path(__file__).parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
BROWSER_VERSION = pytest.StashKey[str]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark this folder's tests `browser` (under `make test` one process runs them all, with
    one browser and one product: tests/scheduling.py); without chromium, skip them, except
    under CI."""
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if CHROMIUM is None and not IN_CI:
            item.add_marker(pytest.mark.skip(
                reason="no chromium on PATH: `apt-get install chromium` (CI installs it)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's chromium; under CI its absence fails every browser test."""
    if CHROMIUM is None:
        pytest.fail("CI=true but chromium is not installed: .ci/run installs it with apt "
                    "(or set CHROMIUM_PATH)", pytrace=False)
    # --disable-dev-shm-usage: Debian's wrapper script probes /dev/shm and stumbles on
    # machines that mount it twice; this keeps the browser independent of that probe.
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--disable-dev-shm-usage", "--disable-gpu"]}


@pytest.fixture(scope="session")
def browser(browser: Browser, pytestconfig: pytest.Config) -> Browser:
    """pytest-playwright's browser, its version kept for the end of the run's summary."""
    pytestconfig.stash[BROWSER_VERSION] = f"Chromium {browser.version} ({CHROMIUM})"
    return browser


@pytest.fixture(scope="session")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    """The product running for the whole session (`campaign run`, SQLite, file outbox)."""
    with running_product(tmp_path_factory.mktemp("product")) as running:
        yield running


@pytest.fixture(scope="session")
def base_url(product: Product) -> str:
    """Where `page.goto("/path")` goes: the running product."""
    return product.base_url


@pytest.fixture
def outbox(product: Product) -> Outbox:
    """The e-mails the product has written: `outbox.wait_for(to=..., kind=...)`."""
    return product.outbox


@pytest.fixture
def api(product: Product) -> Api:
    """The product's API with a campaigner's token: `api.post("/api/v1/actions", json=...)`."""
    return product.campaigner


@pytest.fixture(autouse=True)
def pages_keep_their_policy(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose pages broke their Content-Security-Policy or threw an uncaught
    script error: either would go unnoticed by a test that only reads the DOM."""
    if "context" not in request.fixturenames:
        yield
        return
    context: BrowserContext = request.getfixturevalue("context")
    problems = PageProblems.watch(context)
    yield
    problems.assert_none()


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Name the browser the tests ran in, at the end of the run."""
    version = config.stash.get(BROWSER_VERSION, None)
    if version is not None:
        terminalreporter.write_line(f"browser tests ran in {version}")

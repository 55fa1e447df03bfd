"""The harness itself: Debian's chromium, the running product, its outbox, the checks."""

from __future__ import annotations

import json
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import playwright
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser import docs_screenshots
from tests.browser.accessibility import assert_accessible
from tests.browser.another_origin import another_origin
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.page_problems import PageProblems
from tests.browser.product import Product, unique_email

SEED_TITLE = "HUMAN RIGHTS DEFENDER JAILED FOR LIFE"


def test_the_browser_is_debians_chromium(
    browser: Browser, browser_type_launch_args: dict[str, Any]
) -> None:
    chromium = browser_type_launch_args["executable_path"]
    installed = subprocess.run([chromium, "--version"], capture_output=True, text=True,
                               check=True, timeout=30).stdout
    print(f"browser: Chromium {browser.version} at {chromium}; Playwright expects "
          f"{playwright_expects()}")

    assert browser.browser_type.name == "chromium"
    assert browser.version in installed, f"{browser.version} is not {installed!r}"
    if major(browser.version) > major(playwright_expects()):
        warnings.warn(f"Debian's Chromium {browser.version} is newer than the "
                      f"{playwright_expects()} Playwright was built for: bump playwright",
                      stacklevel=1)


def test_a_supporter_confirms_from_the_e_mail_and_sees_subscription_confirmed(
    page: Page, product: Product
) -> None:
    email = unique_email("ada")
    product.sign_up(email, name="Ada Lovelace")
    confirmation = product.outbox.wait_for(to=email, kind="signup_confirmation")

    page.goto(confirmation.link("/confirm/"))
    page.get_by_role("button").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")
    assert_accessible(page)
    screenshot_for_docs(page, "confirmed-en")


def test_a_confirmed_supporter_receives_the_launched_seed_action_and_opens_it(
    page: Page, product: Product
) -> None:
    email = unique_email("olga")
    product.sign_up(email, name="Olga Petrova", locale="ru", country="RU",
                    timezone="Europe/Moscow")
    page.goto(product.outbox.wait_for(to=email, kind="signup_confirmation").link("/confirm/"))
    page.get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscription confirmed")

    action = product.launch_seed_action()
    launched = product.outbox.wait_for(to=email, kind="action_launched",
                                       action_id=action["action_id"])
    page.goto(launched.link(f"/act/{action['action_id']}"))

    assert action["status"] == "launched"
    assert SEED_TITLE in launched.text and SEED_TITLE in launched.html
    expect(page.get_by_role("heading", level=1)).to_have_text(SEED_TITLE)


def test_the_accessibility_check_fails_on_a_serious_violation(page: Page) -> None:
    unlabelled = ('<!DOCTYPE html><html lang="en"><title>Sign up</title>'
                  '<main><form><input type="email"><button>Join</button></form></main></html>')
    with another_origin(unlabelled) as url:
        page.goto(url)
        with pytest.raises(AssertionError, match="label"):
            assert_accessible(page)


def test_a_page_breaking_its_content_security_policy_is_caught(
    new_context: Callable[..., BrowserContext],
) -> None:
    context = new_context()
    problems = PageProblems.watch(context)
    inline = "<!DOCTYPE html><title>x</title><script>document.title = 'ran'</script>"
    with another_origin(inline, {"Content-Security-Policy": "default-src 'self'"}) as url:
        page = context.new_page()
        page.goto(url)
        assert page.title() == "x"

    with pytest.raises(AssertionError, match="Content Security Policy"):
        problems.assert_none()


def test_an_uncaught_script_error_is_caught(
    new_context: Callable[..., BrowserContext],
) -> None:
    context = new_context()
    problems = PageProblems.watch(context)
    throwing = "<!DOCTYPE html><title>x</title><script>throw new Error('boom')</script>"
    with another_origin(throwing) as url:
        context.new_page().goto(url)

    with pytest.raises(AssertionError, match="boom"):
        problems.assert_none()


def test_docs_screenshots_are_written_only_when_asked(
    page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs_screenshots, "DOCS_SCREENSHOTS", tmp_path)
    page.set_content("<title>x</title><h1>Hello</h1>")
    monkeypatch.delenv("DOCS_SCREENSHOTS", raising=False)
    assert screenshot_for_docs(page, "hello-en") is None
    assert not list(tmp_path.iterdir())

    monkeypatch.setenv("DOCS_SCREENSHOTS", "1")
    written = screenshot_for_docs(page, "hello-en")

    assert written == tmp_path / "hello-en.png"
    assert written.read_bytes().startswith(b"\x89PNG")


def playwright_expects() -> str:
    """The Chromium version the installed Playwright was built and tested with."""
    browsers = Path(playwright.__file__).parent / "driver" / "package" / "browsers.json"
    entries = json.loads(browsers.read_text())["browsers"]
    version: str = next(b["browserVersion"] for b in entries if b["name"] == "chromium")
    return version


def major(version: str) -> int:
    return int(version.split(".", 1)[0])

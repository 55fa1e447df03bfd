"""S0: signing in to the console with an API token, in the browser."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.console import console_token, log_in
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Product


def test_a_campaigner_signs_in_and_the_session_cookie_is_out_of_javascripts_reach(
    page: Page, product: Product
) -> None:
    _, token = console_token(product, "campaigner", name="Maria, Kyiv section")
    page.goto(product.url("/console/login"))
    assert_accessible(page)
    screenshot_for_docs(page, "console-login")
    log_in(page, product, token)

    expect(page.get_by_test_id("role-badge")).to_have_text("campaigner")
    expect(page.get_by_test_id("token-name")).to_have_text("Maria, Kyiv section")
    cookies = page.context.cookies()
    (console_cookie,) = [c for c in cookies if c["name"] == "console"]
    assert console_cookie["httpOnly"] and console_cookie["sameSite"] == "Strict"
    assert token not in console_cookie["value"]
    assert "console" not in page.evaluate("document.cookie")
    assert token not in page.content()


def test_a_wrong_or_revoked_token_gets_the_generic_error_and_a_revoked_session_ends(
    page: Page, product: Product
) -> None:
    page.goto(product.url("/console/login"))
    page.get_by_label("API token", exact=True).fill("uat_nobody-has-this-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("did not open the console")
    expect(page.get_by_test_id("role-badge")).to_have_count(0)

    token_id, token = console_token(product, "campaigner")
    log_in(page, product, token)
    revoked = product.admin.delete(f"/api/v1/tokens/{token_id}")  # by an admin, elsewhere
    assert revoked.status_code == 204
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to the console")

    page.get_by_label("API token", exact=True).fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("login-error")).to_be_visible()


def test_a_viewer_sees_no_sign_of_writing_and_a_forged_post_gets_403(
    page: Page, product: Product
) -> None:
    _, token = console_token(product, "viewer")
    log_in(page, product, token)
    expect(page.get_by_test_id("role-badge")).to_have_text("viewer")
    expect(page.get_by_role("link", name="Tokens")).to_have_count(0)
    forged = page.request.post(product.url("/console/logout"), form={"x": "1"})
    assert forged.status == 403
    page.reload()
    expect(page.get_by_test_id("role-badge")).to_have_text("viewer")  # still signed in

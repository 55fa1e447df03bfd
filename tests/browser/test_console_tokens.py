"""S8 tokens in the browser: a new token shown once, its holder's role, its revocation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.cases_world import new_tag, open_case
from tests.browser.console import log_in, signed_in
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.page_problems import PageProblems
from tests.browser.product import Product


@pytest.fixture
def admin_page(page: Page, product: Product) -> Page:
    """A page signed in to the console as an admin."""
    return signed_in(page, product, "admin")


def make_token(page: Page, product: Product, name: str, role: str,
               email: str = "") -> str:
    """Fill in the form on the tokens page; the secret it shows."""
    page.goto(product.url("/console/tokens"))
    page.get_by_test_id("token-name-input").fill(name)
    page.get_by_test_id("token-role-input").select_option(role)
    page.get_by_test_id("token-email-input").fill(email)
    page.get_by_test_id("create-token").click()
    secret = page.get_by_test_id("new-token-secret")
    expect(secret).to_be_visible()
    return secret.inner_text()


def other_browser(browser: Browser, product: Product, token: str) -> tuple[Page, PageProblems]:
    """A browser context of its own (another person's), signed in with `token`."""
    context = browser.new_context(base_url=product.base_url)
    problems = PageProblems.watch(context)
    page = context.new_page()
    log_in(page, product, token)
    return page, problems


def test_a_viewer_token_is_shown_once_and_its_holder_sees_no_edit_buttons(
    admin_page: Page, product: Product, browser: Browser
) -> None:
    name = f"Viewer {new_tag()}"

    secret = make_token(admin_page, product, name, "viewer", "viewer@example.org")

    assert secret.startswith("uat_")
    assert_accessible(admin_page)
    screenshot_for_docs(admin_page, "console-tokens")
    admin_page.goto(product.url("/console/tokens"))  # the page loaded again
    expect(admin_page.get_by_test_id("new-token-secret")).to_have_count(0)
    assert secret not in admin_page.content()
    row = admin_page.get_by_test_id("token-row").filter(has_text=name)
    expect(row.get_by_test_id("token-role")).to_have_text("viewer")
    expect(row).to_contain_text("viewer@example.org")

    viewer, problems = other_browser(browser, product, secret)
    expect(viewer.get_by_test_id("role-badge")).to_have_text("viewer")
    viewer.goto(product.url("/console/cases/azimzhan-askarov"))
    expect(viewer.get_by_test_id("timeline-entry").first).to_be_visible()
    for button in ("approve-development", "reject-development", "new-action"):
        expect(viewer.get_by_test_id(button)).to_have_count(0)
    expect(viewer.get_by_role("link", name="Tokens")).to_have_count(0)
    assert viewer.goto(product.url("/console/tokens")).status == 403  # type: ignore[union-attr]
    problems.assert_none()
    viewer.context.close()


def test_revoking_a_token_in_the_console_ends_its_session_at_the_next_page_load(
    admin_page: Page, product: Product, browser: Browser
) -> None:
    name = f"Leaving {new_tag()}"
    secret = make_token(admin_page, product, name, "campaigner")
    holder, problems = other_browser(browser, product, secret)
    holder.goto(product.url("/console/cases"))
    expect(holder.get_by_role("heading", level=1)).to_have_text("Cases")

    admin_page.goto(product.url("/console/tokens"))
    admin_page.get_by_test_id("token-row").filter(has_text=name).get_by_test_id(
        "revoke-token").click()

    row = admin_page.get_by_test_id("token-row").filter(has_text=name)
    expect(row).to_have_attribute("data-revoked", "yes")
    expect(row.get_by_test_id("revoke-token")).to_have_count(0)
    holder.reload()
    expect(holder.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    problems.assert_none()
    holder.context.close()


def test_a_new_role_takes_over_after_its_holder_signs_in_again(
    admin_page: Page, product: Product, browser: Browser
) -> None:
    name = f"Promoted {new_tag()}"
    secret = make_token(admin_page, product, name, "viewer")
    holder, problems = other_browser(browser, product, secret)

    admin_page.goto(product.url("/console/tokens"))
    row = admin_page.get_by_test_id("token-row").filter(has_text=name)
    row.get_by_test_id("change-role-input").select_option("campaigner")
    row.get_by_test_id("change-role").click()

    expect(admin_page.get_by_test_id("token-row").filter(has_text=name).get_by_test_id(
        "token-role")).to_have_text("campaigner")
    holder.reload()
    expect(holder.get_by_role("heading", level=1)).to_have_text("Sign in to the console")
    log_in(holder, product, secret)
    expect(holder.get_by_test_id("role-badge")).to_have_text("campaigner")
    problems.assert_none()
    holder.context.close()


def test_the_audit_names_who_opened_a_case_and_lists_console_sign_ins(
    admin_page: Page, product: Product
) -> None:
    (campaigner_id,) = [t["token_id"] for t in product.admin.get("/api/v1/tokens").json()
                        if t["name"] == "browser tests campaigner"]
    case_id = open_case(product, f"Audited {new_tag()}")
    actor = f"token:{campaigner_id}"

    admin_page.goto(product.url("/console/audit"))
    admin_page.get_by_test_id("filter-actor").fill(actor)
    admin_page.get_by_test_id("filter-type").fill("CaseOpened")
    admin_page.get_by_test_id("apply-filters").click()
    found = admin_page.get_by_test_id("audit-row").filter(has_text=f"case-{case_id}")
    for _ in range(40):  # the audit follows the log on the embedded clock, within seconds
        if found.count():
            break
        admin_page.wait_for_timeout(250)
        admin_page.reload()

    expect(found).to_have_count(1)
    shown = found.get_by_test_id("audit-actor")
    expect(shown).to_have_text(f"browser tests campaigner (token:{campaigner_id[:8]})")
    expect(shown.locator(".actor")).to_have_attribute("data-actor", actor)
    expect(admin_page.get_by_test_id("sign-in-row").first).to_contain_text("live")
    assert_accessible(admin_page)
    screenshot_for_docs(admin_page, "console-audit")

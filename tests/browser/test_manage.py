"""/manage in a real browser: ask for the link, follow it from the e-mail, change language
to Spanish and subscribe by country, download the data, pause, erase; then every link the
person was sent opens nothing."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

from tests.browser.accessibility import assert_accessible
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.product import Product, unique_email
from tests.browser.supporters import confirmed_supporter, words


def test_a_supporter_manages_their_subscription_from_the_e_mailed_link_then_erases_it(
    page: Page, product: Product,
) -> None:
    email = unique_email("manage")
    confirmed_supporter(page, product, email)
    confirm_link = product.outbox.wait_for(to=email, kind="signup_confirmation").link(
        "/confirm/")
    action = product.launch_seed_action()
    act_link = product.outbox.wait_for(to=email, kind="action_launched",
                                       action_id=action["action_id"]).link("/act/")

    # Ask for the link.
    page.goto("/manage")
    assert_accessible(page)
    screenshot_for_docs(page, "manage-ask-en")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    manage_link = product.outbox.wait_for(to=email, kind="manage_link").link("/manage/")

    # Change language to Spanish: the page answers in it.
    page.goto(manage_link)
    assert_accessible(page)
    page.get_by_label("Language of our e-mails and pages").select_option("es")
    page.get_by_role("button", name="Save language, country and timezone").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("status")).to_have_text(
        words("es", "Your language, country and timezone are saved."))

    # Only actions about Kyrgyzstan, chosen from a list named in Spanish.
    page.get_by_label(words("es", "Only actions about the countries and cases chosen below")
                      ).check()
    page.get_by_label(words("es", "Add a country")).select_option(label="Kirguistán")
    page.get_by_role("button", name=words("es", "Save my choice of actions")).click()
    expect(page.get_by_role("status")).to_have_text(
        words("es", "Your choice of actions is saved."))
    expect(page.get_by_role("checkbox", name="Kirguistán", exact=True)).to_be_checked()
    assert_accessible(page)
    screenshot_for_docs(page, "manage-es")

    # Download: the data, with the choices just made.
    with page.expect_download() as downloading:
        page.get_by_role("button", name=words("es", "Download my data (JSON)")).click()
    data = json.loads(downloading.value.path().read_text(encoding="utf-8"))
    assert data["profile"]["email"] == email
    assert data["choices"]["locale"] == "es"
    assert data["choices"]["subscriptions"] == {
        "all_actions": False, "countries": ["KG"], "case_ids": []}

    # Pause e-mail, then erase after the page that asks first.
    page.get_by_role("button", name=words("es", "Pause e-mail")).click()
    expect(page.get_by_role("button", name=words("es", "Resume e-mail"))).to_be_visible()
    page.get_by_role("link", name=words("es", "Erase my data…")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words("es", "Erase your data?"))
    assert_accessible(page)
    screenshot_for_docs(page, "manage-erase-es")
    page.get_by_role("button", name=words("es", "Yes, erase my data")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        words("es", "Your data is erased"))

    for link in (manage_link, act_link, confirm_link):
        opened = page.goto(link)
        assert opened is not None and opened.status == 404, link
        expect(page.get_by_role("heading", level=1)).to_have_text("Link not valid")
    assert_accessible(page)

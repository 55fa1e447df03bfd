"""A supporter as the browser tests need one: signed up, confirmed from the e-mail, with
the words of the pages in their language at hand."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from campaign.infra import i18n
from tests.browser.product import Product


def words(locale: str, message: str, **variables: str) -> str:
    """`message` as the pages say it in `locale` (the `pages` catalogue, compiled)."""
    translated = i18n.translations(locale, "pages").gettext(message)
    return translated % variables if variables else translated


def confirmed_supporter(page: Page, product: Product, email: str, locale: str = "en",
                        country: str = "GB", timezone: str = "Europe/London") -> None:
    """Sign `email` up and click the button behind the confirmation e-mail's link."""
    product.sign_up(email, locale=locale, country=country, timezone=timezone)
    page.goto(product.outbox.wait_for(to=email, kind="signup_confirmation").link("/confirm/"))
    page.get_by_role("button").click()
    expect(page.get_by_role("heading", level=1)).not_to_have_text("")


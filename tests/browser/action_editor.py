"""Filling the console's action editor as a campaigner does: officials, the Russian version."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from campaign.demo import ua_135_10_ru as ru


def fill_official(page: Page, n: int, name: str, title: str, salutation: str, address: str,
                  email: str) -> None:
    """Official `n` of the draft form (n from 1), in Kyrgyzstan."""
    page.get_by_label(f"Official {n} name").fill(name)
    page.get_by_label(f"Official {n} title").fill(title)
    page.get_by_label(f"Official {n} salutation").fill(salutation)
    page.get_by_label(f"Official {n} postal address (one line each)").fill(address)
    page.get_by_label(f"Official {n} country (ISO code)").fill("KG")
    page.get_by_label(f"Official {n} e-mail").fill(email)


def translate_into_russian(page: Page) -> None:
    """From the action's page: its Russian version, from the seed's translation."""
    page.get_by_test_id("translate-ru").first.click()
    page.get_by_label("Title", exact=True).fill(ru.TITLE)
    page.get_by_label("Summary", exact=True).fill(ru.SUMMARY)
    page.get_by_label("Background", exact=True).fill(ru.BODY)
    page.get_by_label("Ask 1").fill(ru.ASKS[1])
    page.get_by_test_id("save-translation").click()
    expect(page.get_by_test_id("done")).to_have_text("Translation saved.")

"""Signing up in a browser: `/join` with and without JavaScript, in English, Russian and
Arabic, confirmed from the e-mail's link; embedded in a section's website; unsubscribed
and subscribed again. Every page passes the accessibility check."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Frame, Page, expect

from campaign.demo import ua_135_10 as seed
from tests.browser.accessibility import assert_accessible
from tests.browser.another_origin import another_origin
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.outbox import Email, Outbox
from tests.browser.product import Product, unique_email
from tests.browser.supporters import words


def heading(page: Page | Frame, locale: str, message: str) -> None:
    """The page's one top heading says `message` in `locale`."""
    expect(page.get_by_role("heading", level=1)).to_have_text(words(locale, message))


def fill_in(page: Page | Frame, locale: str, email: str, name: str, country: str) -> None:
    """Type as a person does, finding each field by its label in the page's language."""
    page.get_by_label(words(locale, "E-mail address"), exact=True).fill(email)
    page.get_by_label(words(locale, "Your name"), exact=True).fill(name)
    page.get_by_label(words(locale, "Country where you live"), exact=True).select_option(country)


def consent_and_sign_up(page: Page | Frame, locale: str) -> None:
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name=words(locale, "Sign up"), exact=True).click()


def nth_email(outbox: Outbox, to: str, kind: str, count: int, timeout: float = 30) -> Email:
    """The `count`-th e-mail of `kind` to `to`, once it has arrived."""
    deadline = time.monotonic() + timeout
    while len(found := outbox.find(to=to, kind=kind)) < count:
        assert time.monotonic() < deadline, f"{len(found)} {kind} e-mail(s) to {to}, not {count}"
        time.sleep(0.2)
    return found[count - 1]


SIGN_UPS = [
    pytest.param("en", "?lang=en", "Europe/London", "Europe/London", "GB", "ltr",
                 marks=pytest.mark.browser_context_args(timezone_id="Europe/London",
                                                        locale="en-GB"), id="en"),
    pytest.param("ru", "", "Europe/Moscow", "Europe/Moscow", "RU", "ltr",
                 marks=pytest.mark.browser_context_args(timezone_id="Europe/Moscow",
                                                        locale="ru-RU"), id="ru"),
    # The browser reports India's zone by its old name; the form's option is the new one.
    pytest.param("ar", "", "Asia/Calcutta", "Asia/Kolkata", "EG", "rtl",
                 marks=pytest.mark.browser_context_args(timezone_id="Asia/Calcutta",
                                                        locale="ar-EG"), id="ar"),
]


@pytest.mark.parametrize(("locale", "query", "browser_zone", "option", "country", "direction"),
                         SIGN_UPS)
def test_with_javascript_the_timezone_is_the_browsers_and_the_e_mail_confirms(
    page: Page, product: Product, locale: str, query: str, browser_zone: str, option: str,
    country: str, direction: str,
) -> None:
    email = unique_email(f"join-{locale}")
    page.goto(f"/join{query}")

    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("html")).to_have_attribute("dir", direction)
    heading(page, locale, "Sign up for urgent actions")
    expect(page.get_by_label(words(locale, "Your timezone"), exact=True)).to_have_value(option)
    expect(page.get_by_role("checkbox")).not_to_be_checked()
    fill_in(page, locale, email, "Nur Alieva", country)
    assert_accessible(page)
    screenshot_for_docs(page, f"join-{locale}")
    consent_and_sign_up(page, locale)

    heading(page, locale, "Check your inbox")
    assert_accessible(page)
    screenshot_for_docs(page, f"join-sent-{locale}")
    confirmation = product.outbox.wait_for(to=email, kind="signup_confirmation")
    page.goto(confirmation.link("/confirm/"))
    expect(page.locator("html")).to_have_attribute("dir", direction)
    heading(page, locale, "Confirm your subscription")
    assert_accessible(page)
    screenshot_for_docs(page, f"confirm-{locale}")
    page.get_by_role("button", name=words(locale, "Yes, send me urgent actions")).click()

    heading(page, locale, "Subscription confirmed")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    assert_accessible(page)
    screenshot_for_docs(page, f"confirmed-{locale}")


@pytest.mark.browser_context_args(java_script_enabled=False, timezone_id="Asia/Bishkek")
def test_without_javascript_the_timezone_is_chosen_from_the_select(
    page: Page, product: Product,
) -> None:
    email = unique_email("join-nojs")
    page.goto("/join?lang=en")
    timezone = page.get_by_label("Your timezone", exact=True)

    expect(timezone).to_have_value("")  # nothing ran to fill it in
    fill_in(page, "en", email, "Aibek Nurlanov", "KG")
    timezone.select_option("Asia/Tokyo")
    consent_and_sign_up(page, "en")

    heading(page, "en", "Check your inbox")
    link = product.outbox.wait_for(to=email, kind="signup_confirmation").link("/confirm/")
    confirmed = product.public.post("/api/v1/supporters/confirm",
                                    json={"token": link.rsplit("/", 1)[1]})
    profile = product.admin.get(f"/api/v1/supporters/{confirmed.json()['supporter_id']}/export")
    assert profile.json()["profile"]["timezone"] == "Asia/Tokyo"


@pytest.mark.browser_context_args(timezone_id="Asia/Bishkek")
def test_a_form_sent_without_consent_comes_back_with_the_fault_by_its_field(
    page: Page, product: Product,
) -> None:
    email = unique_email("join-fault")
    page.goto("/join?lang=en")
    fill_in(page, "en", email, "Aibek Nurlanov", "KG")
    page.get_by_role("button", name="Sign up", exact=True).click()

    consent = page.get_by_role("checkbox")
    expect(consent).to_have_attribute("aria-invalid", "true")
    expect(consent).to_have_accessible_description(
        "Tick the box to agree: we can send you nothing without it.")
    expect(page.get_by_label("E-mail address", exact=True)).to_have_value(email)
    expect(page.get_by_label("Your timezone", exact=True)).to_have_value("Asia/Bishkek")
    assert_accessible(page)
    screenshot_for_docs(page, "join-faults-en")
    consent_and_sign_up(page, "en")
    heading(page, "en", "Check your inbox")


def embedding(src: str, title: str) -> str:
    """A section's page with our form in a frame, as docs/embedding.md shows it."""
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
            f"<title>Section de Lyon</title></head><body><main><h1>Agir avec nous</h1>"
            f'<iframe src="{src}" title="{title}" width="640" height="1150"></iframe>'
            f"</main></body></html>")


def frame_showing(page: Page, path: str) -> Frame:
    """The frame of `page` whose document is `path` of the product, once it is there."""
    pattern = re.compile(re.escape(path))
    deadline = time.monotonic() + 30
    while (frame := page.frame(url=pattern)) is None:
        assert time.monotonic() < deadline, f"no frame at {path}: {[f.url for f in page.frames]}"
        page.wait_for_timeout(100)
    frame.wait_for_load_state()
    return frame


@pytest.mark.browser_context_args(timezone_id="Europe/Paris", locale="fr-FR",
                                  viewport={"width": 1000, "height": 1250})
def test_a_sections_website_frames_the_form_and_a_person_signs_up_inside_it(
    page: Page, product: Product,
) -> None:
    email = unique_email("join-framed")
    src = product.url(f"/join?lang=fr&case={seed.CASE_ID}")
    with another_origin(embedding(src, "Inscription aux actions urgentes")) as section:
        page.goto(section)
        form = frame_showing(page, "/join?")

        heading(form, "fr", "Sign up for urgent actions")
        expect(form.get_by_text(seed.CONTENT.title)).to_be_visible()
        expect(form.get_by_label(words("fr", "Your timezone"), exact=True)).to_have_value(
            "Europe/Paris")
        assert_accessible(form)
        screenshot_for_docs(page, "join-embedded-fr")
        fill_in(form, "fr", email, "Camille Martin", "FR")
        consent_and_sign_up(form, "fr")

        heading(frame_showing(page, "/join/sent"), "fr", "Check your inbox")
        assert page.url == section  # the section's page stays where it was
    product.outbox.wait_for(to=email, kind="signup_confirmation")


def test_a_section_may_post_its_own_plain_form_to_join(page: Page, product: Product) -> None:
    email = unique_email("join-plain")
    form = (f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8"><title>Sección</title>'
            f'</head><body><main><form method="post" action="{product.url("/join?lang=es")}">'
            f'<label>Correo <input type="email" name="email" value="{email}"></label>'
            f'<input type="hidden" name="name" value="Lucía Gómez">'
            f'<input type="hidden" name="locale" value="es">'
            f'<input type="hidden" name="country" value="AR">'
            f'<input type="hidden" name="timezone" value="America/Argentina/Buenos_Aires">'
            f'<label><input type="checkbox" name="consent" value="yes"> Acepto</label>'
            f"<button>Suscribirme</button></form></main></body></html>")
    with another_origin(form) as section:
        page.goto(section)
        page.get_by_role("checkbox").check()
        page.get_by_role("button").click()

        heading(page, "es", "Check your inbox")
        assert page.url == product.url("/join/sent?lang=es")
    product.outbox.wait_for(to=email, kind="signup_confirmation")


def test_no_other_page_of_ours_can_be_framed(
    new_context: Callable[..., BrowserContext], product: Product,
) -> None:
    page = new_context().new_page()  # its refused frame is the point, not a page's fault
    with another_origin(embedding(product.url("/manage"), "Gérer mes données")) as section:
        page.goto(section)
        page.wait_for_load_state("load")
        [framed] = page.frames[1:]
        assert not framed.url.startswith(product.base_url), framed.url  # refused
        with another_origin(embedding(product.url("/join"), "Inscription")) as allowed:
            page.goto(allowed)
            heading(frame_showing(page, "/join"), "en", "Sign up for urgent actions")


def test_an_unsubscribed_supporter_subscribes_again_through_a_fresh_confirmation(
    page: Page, product: Product,
) -> None:
    email = unique_email("again")
    product.sign_up(email, name="Olga Petrova")
    page.goto(product.outbox.wait_for(to=email, kind="signup_confirmation").link("/confirm/"))
    page.get_by_role("button").click()
    heading(page, "en", "Subscription confirmed")
    action = product.launch_seed_action()
    launched = product.outbox.wait_for(to=email, kind="action_launched",
                                       action_id=action["action_id"])

    page.goto(launched.link("/unsubscribe/"))
    assert_accessible(page)
    page.get_by_role("button", name="Unsubscribe from urgent actions").click()
    heading(page, "en", "Unsubscribed")
    assert_accessible(page)
    screenshot_for_docs(page, "unsubscribed-en")
    page.get_by_role("button", name="Subscribe again").click()
    heading(page, "en", "Check your inbox")
    assert_accessible(page)

    again = nth_email(product.outbox, email, "signup_confirmation", 2)
    page.goto(again.link("/confirm/"))
    page.get_by_role("button", name="Yes, send me urgent actions").click()
    heading(page, "en", "Subscription confirmed")
    second = product.launch_seed_action()
    product.outbox.wait_for(to=email, kind="action_launched", action_id=second["action_id"])

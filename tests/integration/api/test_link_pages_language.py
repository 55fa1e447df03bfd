"""The pages behind the links of our e-mails speak the supporter's language, through the
same base template as every page; a link that is not valid, the visitor's."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.web.pages import page
from campaign.web.pages.confirmation import INVALID
from tests.integration.api.conftest import Person

ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}


@pytest.mark.parametrize(("locale", "direction", "asks", "done"), [
    ("ru", "ltr", "Подтвердите подписку", "Подписка подтверждена"),
    ("ar", "rtl", "أكّد اشتراكك", "تم تأكيد الاشتراك"),
    ("ky", "ltr", "Жазылууңузду ырастаңыз", "Жазылуу ырасталды"),
])
def test_the_confirmation_pages_speak_the_supporters_language_not_the_browsers(
    client: FlaskClient, container: Container, sign_up: Callable[..., str],
    locale: str, direction: str, asks: str, done: str,
) -> None:
    supporter_id = sign_up(locale=locale)
    url = f"/confirm/{container.links.sign('confirm', supporter_id)}"

    asking = client.get(url, headers=ENGLISH_BROWSER).get_data(as_text=True)
    confirmed = client.post(url, headers=ENGLISH_BROWSER).get_data(as_text=True)

    for html, heading in ((asking, asks), (confirmed, done)):
        assert f'<html lang="{locale}" dir="{direction}">' in html
        assert f"<h1>{heading}</h1>" in html


def test_the_unsubscribe_pages_speak_the_supporters_language(
    client: FlaskClient, container: Container, confirmed: Callable[..., Person],
) -> None:
    person = confirmed(locale="es")
    url = f"/unsubscribe/{container.links.sign('unsubscribe', person.supporter_id)}"

    asking = client.get(url, headers=ENGLISH_BROWSER).get_data(as_text=True)
    done = client.post(url, headers=ENGLISH_BROWSER).get_data(as_text=True)
    again = client.post(f"{url}/resubscribe", headers=ENGLISH_BROWSER).get_data(as_text=True)

    assert '<html lang="es" dir="ltr">' in asking and "Darme de baja" in asking
    assert "<h1>Te has dado de baja</h1>" in done and "Volver a suscribirme" in done
    assert "<h1>Revisa tu bandeja de entrada</h1>" in again


def test_a_supporter_in_a_language_not_shipped_reads_the_closest_or_english(
    client: FlaskClient, container: Container, sign_up: Callable[..., str],
) -> None:
    for tag, shown in (("fr-CA", "fr"), ("de", "en")):
        supporter_id = sign_up(f"{tag}@example.org", locale=tag)
        answer = client.get(f"/confirm/{container.links.sign('confirm', supporter_id)}")
        assert f'<html lang="{shown}"' in answer.get_data(as_text=True)


@pytest.mark.parametrize(("accept", "lang", "title"), [
    ("es-MX,es;q=0.9", "es", "Enlace no válido"), ("ar", "ar", "الرابط غير صالح"),
    ("de", "en", "Link not valid")])
def test_a_link_that_is_not_valid_is_answered_in_the_visitors_language(
    client: FlaskClient, accept: str, lang: str, title: str,
) -> None:
    for url in ("/confirm/forged", "/unsubscribe/forged"):
        answer = client.get(url, headers={"Accept-Language": accept})
        assert answer.status_code == 404
        assert f'<html lang="{lang}"' in answer.get_data(as_text=True)
        assert f"<title>{title}</title>" in answer.get_data(as_text=True)


def test_message_pages_are_drawn_by_the_base_template(client: FlaskClient) -> None:
    answer = client.get("/confirm/forged").get_data(as_text=True)

    assert '<link rel="stylesheet" href="/static/pages.css">' in answer
    assert '<meta name="viewport"' in answer and "<main>" in answer
    assert '<body class="short">' in answer


def test_a_message_page_whose_words_are_not_translated_stays_wholly_english(
    app: Flask,
) -> None:
    """Pages that call `page()` with words no catalogue holds (yet) never mix languages;
    those whose words it holds speak the visitor's language."""
    with app.test_request_context("/", headers={"Accept-Language": "ru"}):
        untranslated = page(400, "Words no catalogue holds", "Nor these.").get_data(
            as_text=True)
        translated = page(404, *INVALID).get_data(as_text=True)
        chosen = page(404, *INVALID, locale="ar").get_data(as_text=True)

    assert '<html lang="en" dir="ltr">' in untranslated
    assert "<h1>Words no catalogue holds</h1>" in untranslated
    assert '<html lang="ru" dir="ltr">' in translated
    assert "<h1>Ссылка недействительна</h1>" in translated
    assert '<html lang="ar" dir="rtl">' in chosen

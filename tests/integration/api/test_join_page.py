"""The public sign-up page, `/join`: a form that works without JavaScript, in the visitor's
language, that any section may frame, and that tells nobody who is registered."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.supporters import find_supporter_by_email
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo import ua_135_10_ru as ru
from campaign.infra.tables import supporters
from events.schema import events
from tests.integration.api.conftest import (
    Headers,
    Person,
    event_count,
    if_match,
    resolve_requests,
)
from tests.integration.api.pages import text
from tests.integration.api.test_action_languages_api import translate
from tests.integration.api.test_page_headers import directives
from tests.integration.api.test_sign_up_path import work_of

ADDRESS = "ainura.join@example.org"


def filled(**changes: str) -> dict[str, str]:
    """The form as a person fills it in (JavaScript off: the timezone chosen by hand)."""
    return {"email": ADDRESS, "name": "Ainura Sadykova", "locale": "ky", "country": "KG",
            "timezone": "Asia/Bishkek", "consent": "yes", **changes}


def registered(container: Container, email: str = ADDRESS) -> Any:
    """The supporter's row once the clock has resolved the sign-up, or None."""
    resolve_requests(container)
    with container.engine.connect() as conn:
        supporter_id = find_supporter_by_email(conn, container.blind_index, email)
        if supporter_id is None:
            return None
        return conn.execute(select(supporters).where(
            supporters.c.supporter_id == supporter_id)).one()


def field_fault(html: str, field: str) -> str | None:
    """The fault shown next to `field`, if the field is marked invalid and points to it."""
    element = re.search(rf'<(?:input|select)[^>]* id="{field}"[^>]*>', html)
    marked = element and 'aria-invalid="true"' in element[0] and re.search(
        rf'aria-describedby="[^"]*\b{field}-fault\b', element[0])
    shown = re.search(rf'<span class="fault" id="{field}-fault">([^<]+)</span>', html)
    return shown[1] if marked and shown else None


def test_the_form_asks_for_everything_a_sign_up_needs_with_consent_left_unticked(
    client: FlaskClient,
) -> None:
    page = client.get("/join")
    html = text(page)

    assert page.status_code == 200 and page.mimetype == "text/html"
    for field in ("email", "name", "locale", "country", "timezone", "consent"):
        assert f'id="{field}" name="{field}"' in html, field
        assert f'<label for="{field}">' in html, field
    assert re.search(r'<input type="checkbox" id="consent" name="consent" value="yes">', html)
    languages = re.findall(r'<option value="(\w+)" lang="\1"[^>]*>([^<]+)</option>', html)
    assert languages == [("en", "English"), ("es", "Español"), ("fr", "Français"),
                         ("ar", "العربية"), ("ru", "Русский"), ("ky", "Кыргызча")]
    assert '<option value="KG">Kyrgyzstan</option>' in html
    assert re.search(r'<option value="Asia/Kolkata" data-aliases="Asia/Calcutta">Kolkata<', html)
    assert "What you will receive" in html and "link to confirm" in html
    assert '<script src="/static/join.js" defer></script>' in html
    assert "<script>" not in html and "style=" not in html  # the policy allows neither


def test_a_sign_up_is_recorded_as_the_api_records_it_and_answered_check_your_inbox(
    client: FlaskClient, container: Container,
) -> None:
    answer = client.post("/join?lang=fr", data=filled())

    assert answer.status_code == 303
    assert answer.headers["Location"] == "/join/sent?lang=fr"
    inbox = client.get(answer.headers["Location"])
    assert inbox.status_code == 200 and "Vérifiez votre boîte de réception" in text(inbox)
    row = registered(container)
    assert (row.locale, row.country, row.timezone) == ("ky", "KG", "Asia/Bishkek")
    assert (row.consented, row.all_actions, row.case_ids) == (False, True, [])


def test_a_timezone_left_as_it_is_becomes_the_countrys_when_it_has_only_one(
    client: FlaskClient, container: Container,
) -> None:
    several = client.post("/join", data=filled(timezone="", country="RU"))
    assert several.status_code == 422
    assert field_fault(text(several), "timezone") == (
        "Your country has several timezones: choose yours.")

    assert client.post("/join", data=filled(timezone="")).status_code == 303
    assert registered(container).timezone == "Asia/Bishkek"


def test_each_fault_is_named_next_to_its_field_and_what_was_typed_is_kept(
    client: FlaskClient, container: Container,
) -> None:
    before = event_count(container)
    answer = client.post("/join?lang=en", data=filled(
        email="ainura at example", name="Ainura <b>S</b>", locale="de", country="XX",
        timezone="Mars/Olympus", consent=""))
    html = text(answer)

    assert answer.status_code == 422 and answer.mimetype == "text/html"
    assert field_fault(html, "email") == "Enter your e-mail address, like name@example.org."
    assert field_fault(html, "locale") == "Choose the language of your e-mails."
    assert field_fault(html, "country") == "Choose your country."
    assert field_fault(html, "timezone") == "Choose your timezone."
    assert field_fault(html, "consent") == (
        "Tick the box to agree: we can send you nothing without it.")
    assert field_fault(html, "name") is None  # markup in a name is only text
    assert 'value="ainura at example"' in html
    assert 'value="Ainura &lt;b&gt;S&lt;/b&gt;"' in html
    assert '<a href="#email">' in html  # the summary leads to each field
    assert event_count(container) == before


@pytest.mark.parametrize("form", [
    {}, {"email": "x" * 300 + "@example.org"}, {"name": "two\nlines"}, {"name": " "},
    {"email": "\x00@example.org"}, {"country": "kg"}, {"consent": "on"},
], ids=["empty", "long-email", "two-lines", "blank-name", "nul", "lower-country", "consent"])
def test_a_malformed_form_is_a_page_naming_the_fault_never_an_error(
    client: FlaskClient, container: Container, form: dict[str, str],
) -> None:
    answer = client.post("/join", data=filled(**form) if form else {})

    assert answer.status_code == 422 and "Please check the form" in text(answer)
    assert registered(container) is None


def test_the_form_does_the_same_work_for_a_known_and_a_new_address(
    client: FlaskClient, container: Container, sign_up: Callable[..., str],
) -> None:
    sign_up(ADDRESS)
    client.post("/join", data=filled(email="warm.up@example.org"))

    known = work_of(container, lambda: client.post("/join", data=filled(
        email=ADDRESS.upper(), name="Someone Else")))
    new = work_of(container, lambda: client.post("/join", data=filled(
        email="nobody.yet@example.org", name="Someone New")))

    assert known[0] == new[0]
    assert known[1] == new[1] == ["SignUpReceived"]
    assert known[2] == new[2]


def test_from_an_action_the_form_names_it_and_subscribes_to_its_case(
    client: FlaskClient, container: Container, launched_action: str,
) -> None:
    form = text(client.get(f"/join?action={launched_action}"))

    assert "HUMAN RIGHTS DEFENDER JAILED FOR LIFE" in form
    assert f'action="/join?lang=en&amp;action={launched_action}"' in form
    assert re.search(r'id="receive-case" name="receive" value="case" checked', form)
    assert client.post(f"/join?action={launched_action}", data=filled()).status_code == 303
    row = registered(container)
    assert (row.all_actions, row.case_ids) == (False, [seed.CASE_ID])


def test_from_a_case_the_form_names_its_latest_action_and_may_ask_for_every_action(
    client: FlaskClient, container: Container, launched_action: str,
) -> None:
    assert "HUMAN RIGHTS DEFENDER" in text(client.get(f"/join?case={seed.CASE_ID}"))

    answer = client.post(f"/join?case={seed.CASE_ID}", data=filled(receive="all"))

    assert answer.status_code == 303
    row = registered(container)
    assert (row.all_actions, row.case_ids) == (True, [])


def test_the_action_is_named_in_the_page_s_language_when_it_has_a_translation_in_it(
    client: FlaskClient, campaigner: Headers, launched_action: str,
) -> None:
    assert translate(client, launched_action, campaigner).status_code == 200

    for query in (f"action={launched_action}", f"case={seed.CASE_ID}"):
        russian = text(client.get(f"/join?lang=ru&{query}"))
        spanish = text(client.get(f"/join?lang=es&{query}"))

        assert ru.TITLE in russian and seed.TITLE not in russian, query
        assert seed.TITLE in spanish and ru.TITLE not in spanish, query  # none in Spanish


def test_a_draft_or_unknown_action_is_neither_shown_nor_subscribed_to(
    client: FlaskClient, container: Container, drafted_action: str,
) -> None:
    for query in (f"action={drafted_action}", "action=nope", "case=nope",
                  f"case={'x' * 2000}", f"case={seed.CASE_ID}"):  # its only action: a draft
        page = text(client.get(f"/join?{query}"))
        assert "JAILED FOR LIFE" not in page and "names no urgent action we know" in page
        assert 'action="/join?lang=en"' in page  # the form signs up for all actions
        refused = client.post(f"/join?{query}", data=filled())
        assert refused.status_code == 422 and "JAILED" not in text(refused)
    assert registered(container) is None


@pytest.mark.parametrize(("query", "accept", "lang", "direction", "heading"), [
    ("?lang=ru", "en", "ru", "ltr", "Подпишитесь на срочные акции"),
    ("", "ar,en;q=0.5", "ar", "rtl", "اشترك في التحركات العاجلة"),
    ("", "ky-KG,ru;q=0.8", "ky", "ltr", "Шашылыш аракеттерге жазылыңыз"),
    ("", "de-DE,es;q=0.7", "es", "ltr", "Suscríbete a las acciones urgentes"),
    ("?lang=de", "de-DE", "en", "ltr", "Sign up for urgent actions"),
    ("?lang=fr-CA", "", "fr", "ltr", "Inscrivez-vous aux actions urgentes"),
])
def test_the_page_speaks_the_language_asked_for_else_the_browsers(
    client: FlaskClient, query: str, accept: str, lang: str, direction: str, heading: str,
) -> None:
    html = text(client.get(f"/join{query}", headers={"Accept-Language": accept}))

    assert f'<html lang="{lang}" dir="{direction}">' in html
    assert f"<h1>{heading}</h1>" in html
    assert re.search(rf'<option value="{lang}" lang="{lang}" selected>', html)
    links = re.findall(r'<a href="/join\?lang=(\w+)" lang="\1" hreflang="\1"', html)
    assert links == ["en", "es", "fr", "ar", "ru", "ky"]


def test_countries_and_timezones_are_named_in_the_pages_language(client: FlaskClient) -> None:
    html = text(client.get("/join?lang=ru"))

    assert '<option value="KG">Киргизия</option>' in html
    assert re.search(r'<optgroup label="Азия">.*<option value="Asia/Bishkek">Бишкек</option>',
                     html, re.DOTALL)


def test_only_the_sign_up_pages_may_be_framed_by_another_site(
    client: FlaskClient, container: Container, launched_action: str,
) -> None:
    framed = {
        "form": client.get("/join"),
        "form of an action": client.get(f"/join?action={launched_action}"),
        "accepted": client.post("/join", data=filled()),
        "faults": client.post("/join", data={}),
        "check your inbox": client.get("/join/sent"),
    }
    unframed = {
        "confirm": client.get("/confirm/forged"),
        "unsubscribe": client.get("/unsubscribe/forged"),
        "manage": client.get("/manage"),
        "act": client.get(f"/act/{launched_action}?token=forged"),
        "api": client.get("/api/v1/health"),
        "stylesheet": client.get("/static/pages.css"),
    }

    for name, response in framed.items():
        assert directives(response)["frame-ancestors"] == "*", name
        assert directives(response)["default-src"] == "'self'", name
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Set-Cookie" not in response.headers  # a frame cannot count on cookies
    for name, response in unframed.items():
        assert directives(response)["frame-ancestors"] == "'none'", name


def test_the_script_only_preselects_the_browsers_zone_and_is_served_as_a_script(
    client: FlaskClient,
) -> None:
    script = client.get("/static/join.js")

    assert script.status_code == 200 and "javascript" in script.mimetype
    assert "resolvedOptions().timeZone" in script.get_data(as_text=True)


def test_signing_up_again_after_unsubscribing_asks_afresh_and_adds_the_case_on_confirmation(
    client: FlaskClient, container: Container, confirmed: Callable[..., Person],
    launched_action: str,
) -> None:
    person = confirmed(ADDRESS)
    only_kg = {"all_actions": False, "countries": ["KG"], "case_ids": []}
    url = "/api/v1/supporters/me/subscriptions"
    assert client.put(url, json=only_kg, headers=if_match(
        client, "/api/v1/supporters/me", person.manage)).status_code == 200
    client.post(f"/unsubscribe/{container.links.sign('unsubscribe', person.supporter_id)}")

    answer = client.post(f"/join?action={launched_action}", data=filled())

    assert answer.status_code == 303
    row = registered(container)
    assert row.supporter_id == person.supporter_id
    assert (row.unsubscribed, row.countries, row.case_ids) == (True, ["KG"], [])
    assert stream_types(container, person.supporter_id)[-1] == "ConfirmationRequested"
    confirm = f"/confirm/{container.links.sign('confirm', person.supporter_id)}"
    assert client.post(confirm).status_code == 200
    row = registered(container)
    assert (row.unsubscribed, row.all_actions) == (False, False)
    assert (row.countries, row.case_ids) == (["KG"], [seed.CASE_ID])


def stream_types(container: Container, supporter_id: str) -> list[str]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(events.c.type).where(
            events.c.stream_id == f"supporter-{supporter_id}").order_by(
            events.c.position)).scalars())

"""The "manage my data" pages: `/manage` asks for a link, `/manage/<token>` is what it opens.

The link's page changes language, timezone, country and subscriptions, pauses e-mail,
downloads the data and erases it after a page that asks first. It speaks the supporter's
language; the asking page speaks the visitor's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaign.bootstrap import Container
from campaign.mail.links import MailLinks
from events.schema import events
from tests.integration.api.conftest import EMAIL, Person, event_count
from tests.integration.api.pages import html_lang, in_, text

ME = "/api/v1/supporters/me"


def manage_path(container: Container, person: Person) -> str:
    return MailLinks("", container.links).manage(person.supporter_id)


def me(client: FlaskClient, person: Person) -> dict[str, object]:
    body: dict[str, object] = client.get(ME, headers=person.manage).get_json()
    return body


# Asking for a link


def test_asking_on_the_page_answers_the_same_for_any_address_and_records_the_request(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    form = client.get("/manage")
    known = client.post("/manage", data={"email": EMAIL})
    unknown = client.post("/manage", data={"email": "nobody.here@example.org"})
    broken = client.post("/manage", data={"email": "not an address"})

    assert form.status_code == 200 and b'name="email"' in form.data
    assert known.status_code == unknown.status_code == 202
    assert known.data == unknown.data
    assert broken.status_code == 422 and b'role="alert"' in broken.data
    with container.engine.connect() as conn:
        asked = conn.execute(select(func.count()).select_from(events).where(
            events.c.type == "ManageRequestReceived")).scalar_one()
    assert asked == 2


def test_the_asking_page_speaks_the_visitor_s_language(client: FlaskClient) -> None:
    chosen = text(client.get("/manage?lang=ru", headers={"Accept-Language": "fr"}))
    browser = text(client.get("/manage", headers={"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.5"}))
    unknown = text(client.get("/manage", headers={"Accept-Language": "de-DE"}))
    answer = text(client.post("/manage", data={"email": "nobody@example.org", "lang": "ky"}))

    assert html_lang(chosen) == ("ru", "ltr")
    assert in_("ru", "Send me the link") in chosen
    assert html_lang(browser) == ("ar", "rtl")
    assert in_("ar", "Manage your subscription") in browser
    assert html_lang(unknown) == ("en", "ltr")
    assert 'lang="es" hreflang="es">Español</a>' in unknown  # other languages, named in theirs
    assert html_lang(answer) == ("ky", "ltr") and in_("ky", "Check your inbox") in answer


# The link's page


def test_the_link_s_page_speaks_the_supporter_s_language_and_a_get_changes_nothing(
    client: FlaskClient, container: Container, confirmed: Callable[..., Person],
) -> None:
    person = confirmed(locale="ru", country="KG", timezone="Asia/Bishkek")
    before = event_count(container)

    page = client.get(manage_path(container, person), headers={"Accept-Language": "en"})

    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = text(page)
    assert html_lang(html) == ("ru", "ltr")
    assert in_("ru", "Your urgent-action subscription") in html
    assert '<option value="KG" selected>Киргизия</option>' in html  # named in Russian
    assert '<option value="es" lang="es">Español</option>' in html  # named in Spanish
    assert '<option value="Asia/Bishkek" selected>Бишкек</option>' in html  # as on /join
    assert EMAIL not in html
    assert event_count(container) == before
    assert client.get("/manage/forged").status_code == 404


def test_changing_language_country_and_timezone_saves_them_and_answers_in_the_new_language(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    path = manage_path(container, supporter)

    saved = client.post(path, data={"do": "preferences", "locale": "es", "country": "AR",
                                    "timezone": "America/Argentina/Buenos_Aires"})

    assert saved.status_code == 303
    after = text(client.get(saved.headers["Location"]))
    assert html_lang(after) == ("es", "ltr")
    assert in_("es", "Your language, country and timezone are saved.") in after
    assert (me(client, supporter)["locale"], me(client, supporter)["country"],
            me(client, supporter)["timezone"]) == ("es", "AR", "America/Argentina/Buenos_Aires")
    before = event_count(container)
    again = client.post(path, data={"do": "preferences", "locale": "es", "country": "AR",
                                    "timezone": "America/Argentina/Buenos_Aires"})
    assert again.status_code == 303 and event_count(container) == before  # nothing new


def test_preferences_the_page_did_not_offer_are_refused_and_change_nothing(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    path = manage_path(container, supporter)
    good = {"do": "preferences", "locale": "en", "country": "GB", "timezone": "Europe/London"}
    before = event_count(container)

    for field, value in (("locale", "de"), ("locale", "ru\n"), ("country", "XX"),
                         ("country", "Kyrgyzstan"), ("timezone", "Mars/Olympus"),
                         ("timezone", "")):
        refused = client.post(path, data={**good, field: value})
        assert refused.status_code == 422, (field, value)
        assert b'role="alert"' in refused.data

    assert event_count(container) == before
    assert me(client, supporter)["locale"] == "en"


def test_someone_who_signed_up_in_another_language_keeps_it_until_they_choose(
    client: FlaskClient, container: Container, confirmed: Callable[..., Person],
) -> None:
    person = confirmed(locale="de", country="DE", timezone="Europe/Berlin")
    path = manage_path(container, person)

    html = text(client.get(path))
    kept = client.post(path, data={"do": "preferences", "locale": "de", "country": "AT",
                                   "timezone": "Europe/Vienna"})

    assert html_lang(html) == ("en", "ltr")  # no German pages: English
    assert '<option value="de" lang="de" selected>Deutsch</option>' in html
    assert kept.status_code == 303 and me(client, person)["country"] == "AT"


def test_a_timezone_chosen_under_an_old_name_is_marked_and_one_kept_for_old_systems_offered(
    client: FlaskClient, container: Container, confirmed: Callable[..., Person],
) -> None:
    for timezone, option in (
        ("Asia/Calcutta", r'<option value="Asia/Kolkata" data-aliases="Asia/Calcutta" selected>'),
        ("Etc/UTC", r'<option value="UTC" data-aliases="Etc/UTC [^"]*" selected>'),
        ("EST5EDT", r'<option value="EST5EDT" selected>EST5EDT</option>'),
    ):
        person = confirmed(f"{timezone.replace('/', '.')}@example.org", timezone=timezone)
        html = text(client.get(manage_path(container, person)))
        assert len(re.findall(r"<option [^>]*selected>", html)) == 3, timezone
        assert re.search(option, html), timezone


def test_choosing_countries_from_the_list_and_cases_the_page_offers(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
) -> None:
    path = manage_path(container, supporter)
    html = text(client.get(path))
    assert "Azimzhan Askarov" in html and "HUMAN RIGHTS DEFENDER JAILED FOR LIFE" in html

    first = client.post(path, data={"do": "subscriptions", "all_actions": "no",
                                    "add_country": "KG"})
    kept_and_added = client.post(path, data={
        "do": "subscriptions", "all_actions": "no", "countries": "KG", "add_country": "RU",
        "case_ids": "azimzhan-askarov"})

    assert first.status_code == kept_and_added.status_code == 303
    assert in_("en", "Your choice of actions is saved.") in text(
        client.get(kept_and_added.headers["Location"]))
    assert me(client, supporter)["subscriptions"] == {
        "all_actions": False, "countries": ["KG", "RU"], "case_ids": ["azimzhan-askarov"]}
    shown = text(client.get(path))
    assert re.search(r'name="countries" value="RU" checked>\s*Russia', shown)
    assert re.search(r'name="case_ids" value="azimzhan-askarov" checked>', shown)
    dropped = client.post(path, data={"do": "subscriptions", "all_actions": "yes",
                                      "countries": "RU"})
    assert dropped.status_code == 303
    assert me(client, supporter)["subscriptions"] == {
        "all_actions": True, "countries": ["RU"], "case_ids": []}


def test_subscriptions_the_page_did_not_offer_are_refused_and_change_nothing(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
) -> None:
    path = manage_path(container, supporter)
    before = event_count(container)

    for form in ({"all_actions": "no", "add_country": "Kyrgyzstan"},
                 {"all_actions": "no", "countries": "kg"},
                 {"all_actions": "no", "case_ids": "a-case-nobody-opened"},
                 {"all_actions": "no"},
                 {"all_actions": "maybe", "add_country": "KG"}):
        refused = client.post(path, data={"do": "subscriptions", **form})
        assert refused.status_code == 422, form
        assert b'role="alert"' in refused.data

    assert event_count(container) == before


def test_a_case_whose_actions_are_all_drafts_is_not_offered(
    client: FlaskClient, container: Container, supporter: Person, drafted_action: str,
) -> None:
    html = text(client.get(manage_path(container, supporter)))

    assert "azimzhan-askarov" not in html
    assert in_("en", "No case is open at the moment.") in html


def test_pausing_and_resuming_e_mail_from_the_page(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    path = manage_path(container, supporter)

    paused = client.post(path, data={"do": "pause"})
    while_paused = text(client.get(paused.headers["Location"]))
    paused_view = me(client, supporter)["email_paused"]
    resumed = client.post(path, data={"do": "resume"})

    assert paused.status_code == resumed.status_code == 303
    assert paused_view is True and me(client, supporter)["email_paused"] is False
    assert 'name="do" value="resume"' in while_paused
    assert in_("en", "Resume e-mail") in while_paused
    assert 'name="do" value="pause"' in text(client.get(path))


def test_before_confirming_there_is_nothing_to_pause_or_choose(
    client: FlaskClient, container: Container, sign_up: Callable[..., str],
) -> None:
    person = Person(sign_up(), EMAIL, "Ada", container.links)
    path = manage_path(container, person)
    before = event_count(container)

    html = text(client.get(path))
    refused = client.post(path, data={"do": "pause"})

    assert 'value="pause"' not in html and 'value="subscriptions"' not in html
    assert refused.status_code == 409
    assert in_("en", "Confirm your e-mail address first, with the link we sent when you "
                     "signed up.") in text(refused)
    assert event_count(container) == before


def test_the_download_holds_the_data_and_the_choices_made_on_the_page(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    path = manage_path(container, supporter)
    client.post(path, data={"do": "preferences", "locale": "fr", "country": "FR",
                            "timezone": "Europe/Paris"})
    client.post(path, data={"do": "pause"})

    download = client.post(path, data={"do": "export"})

    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Cache-Control"] == "no-store"
    data = json.loads(download.data)
    assert data["profile"]["email"] == EMAIL
    assert data["choices"]["locale"] == "fr" and data["choices"]["email_paused"] is True
    assert [e["type"] for e in data["events"]][-2:] == ["PreferencesChanged", "EmailPaused"]


def test_a_form_the_page_does_not_know_changes_nothing(
    client: FlaskClient, container: Container, supporter: Person,
) -> None:
    before = event_count(container)

    assert client.post(manage_path(container, supporter), data={"do": "dance"}).status_code \
        == 400
    assert client.post(manage_path(container, supporter), data={"do": "erase"}).status_code \
        == 400  # erasing takes the page that asks first
    assert event_count(container) == before


# Erasure


def test_erasing_asks_first_then_ends_every_link_the_supporter_was_sent(
    client: FlaskClient, container: Container, confirmed: Callable[..., Person],
    launched_action: str,
) -> None:
    person = confirmed(locale="ar", country="EG", timezone="Africa/Cairo")
    links = MailLinks("", container.links)
    path = manage_path(container, person)
    act, confirm = links.pledge(launched_action, person.supporter_id), links.confirm(
        person.supporter_id)
    for link in (path, act, confirm):
        assert client.get(link).status_code == 200, link
    before = event_count(container)

    asked = client.get(f"{path}/erase")
    assert asked.status_code == 200 and event_count(container) == before
    assert html_lang(text(asked)) == ("ar", "rtl")
    assert in_("ar", "Yes, erase my data") in text(asked)
    assert f'href="{path}"' in text(asked)  # the way back
    erased = client.post(f"{path}/erase")

    assert erased.status_code == 200
    assert in_("ar", "Your data is erased") in text(erased)
    assert event_count(container) == before + 1
    for link in (path, f"{path}/erase", act, confirm):
        assert client.get(link).status_code == 404, link
    assert client.post(path, data={"do": "export"}).status_code == 404
    assert client.post(act, data={"do": "pledge", "letters": "1"}).status_code == 404
    assert client.post(confirm).status_code == 404
    assert client.post(f"{path}/erase").status_code == 404
    # Even a manage link signed just now opens nothing: the person is gone.
    assert client.get(f"{ME}/export", headers=person.manage).status_code == 401
    assert event_count(container) == before + 1

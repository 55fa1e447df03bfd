"""The page behind "Tell us you will write": it helps write the letter, and a supporter
pledges and confirms letters from it, per official and channel, in the action's language."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.infra import i18n
from campaign.infra.clock import utc_now
from campaign.mail.links import MailLinks
from tests.integration.api.conftest import Headers, Person, action_body, event_count, if_match
from tests.integration.api.pages import html_lang, in_, text
from tests.seed_translations import seed_translation

MINISTER, PROSECUTOR, PRESIDENT = "minister-interior", "general-prosecutor", "president"


def page_url(container: Container, action_id: str, supporter_id: str) -> str:
    """The link an action e-mail carries for this supporter."""
    return MailLinks("", container.links).pledge(action_id, supporter_id)


def letter_forms(html: str) -> dict[str, dict[str, str]]:
    """Each official's "I sent it" form as the page drew it, by official, sent today."""
    found = re.findall(r'name="letter_id" value="([^"]+)">\s*'
                       r'<input type="hidden" name="target_id" value="([^"]+)">', html)
    return {target: {"do": "letter", "letter_id": letter_id, "target_id": target,
                     "sent_on": utc_now().date().isoformat()}
            for letter_id, target in found}


def launched(client: FlaskClient, campaigner: Headers, **changes: Any) -> str:
    """Draft `action_body()` with `changes` (`language="ar"`, a deadline with a time) and
    launch it through the API, as a campaigner does; the action's id."""
    drafted = client.post("/api/v1/actions", json={**action_body(), **changes},
                          headers=campaigner)
    assert drafted.status_code == 201, drafted.get_json()
    action_id: str = drafted.get_json()["action_id"]
    url = f"/api/v1/actions/{action_id}"
    response = client.post(f"{url}/launch", headers=if_match(client, url, campaigner))
    assert response.status_code == 200, response.get_json()
    return action_id


def translate(client: FlaskClient, campaigner: Headers, action_id: str, language: str,
              text: dict[str, Any]) -> None:
    """Add the action's translation into `language` through the API, as a campaigner does."""
    url = f"/api/v1/actions/{action_id}"
    response = client.put(f"{url}/translations/{language}", json=text,
                          headers=if_match(client, url, campaigner))
    assert response.status_code == 200, response.get_json()


def deadline_day() -> date:
    """The day `action_body` gives as its deadline."""
    return utc_now().date() + timedelta(days=30)


# Helping to write the letter


def test_the_page_shows_each_official_with_what_a_letter_needs(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
) -> None:
    html = text(client.get(page_url(container, launched_action, supporter.supporter_id)))

    officials = re.findall(r'<section class="official".*?</section>', html, re.S)
    assert len(officials) == 3
    minister, prosecutor, president = officials
    assert "Zarylbek Rysaliev" in minister and "Frunze Street, 469" in minister
    assert '<dd dir="auto">Dear Minister</dd>' in minister
    assert 'href="mailto:pressa@mail.mvd.kg"' in minister
    assert '<dd><bdi dir="ltr">+996 312 68 20 44</bdi></dd>' in minister
    assert "<dd>Russian, Kyrgyz, English or your own language</dd>" in minister
    assert "Kubatbek Baibolov" in prosecutor and "mailto:" not in prosecutor  # no e-mail
    assert "Copy to:" in president
    for official in officials:
        assert '<p class="copy" hidden><button type="button" data-copy="address-' in official
    assert "Calling for his immediate and unconditional release;" in html
    assert '<script src="/static/copy.js" defer></script>' in html
    script = client.get("/static/copy.js")
    assert script.status_code == 200 and "navigator.clipboard" in text(script)


def test_a_deadline_without_a_time_reads_as_that_day_and_one_with_a_time_in_the_reader_s_zone(
    client: FlaskClient, container: Container, campaigner: Headers, launched_action: str,
    supporter: Person,
) -> None:
    timed = launched(client, campaigner,
                     deadline={**action_body()["deadline"], "time": "17:00"})  # in Bishkek
    day = deadline_day()

    date_only = text(client.get(page_url(container, launched_action, supporter.supporter_id)))
    with_time = text(client.get(page_url(container, timed, supporter.supporter_id)))

    assert f"Please send your appeals by {i18n.day(day, 'en')}." in date_only
    assert "00:00" not in date_only and "(Europe/London)" not in date_only
    # 17:00 in Bishkek (UTC+6) is 11:00 in London, the reader's zone, named.
    assert re.search(rf"by {i18n.day(day, 'en')}, 11:00 \([^)]*(Greenwich|British)[^)]*\)\.",
                     with_time), with_time


def test_a_russian_reader_s_page_of_an_action_translated_into_russian_is_russian_throughout(
    client: FlaskClient, container: Container, campaigner: Headers, launched_action: str,
    confirmed: Callable[..., Person],
) -> None:
    person = confirmed(locale="ru", country="RU", timezone="Europe/Moscow")
    translate(client, campaigner, launched_action, "ru", seed_translation("ru"))
    url = page_url(container, launched_action, person.supporter_id)

    html = text(client.get(url, headers={"Accept-Language": "en"}))

    assert html_lang(html) == ("ru", "ltr")
    assert seed_translation("ru")["title"] in html
    assert in_("ru", "Please send your appeals by %(deadline)s.",
               deadline=i18n.day(deadline_day(), "ru")) in html
    assert i18n.day(deadline_day(), "ru").endswith("г.")
    assert f"<dd>русский, киргизский, английский или {in_('ru', 'your own language')}</dd>" \
        in html
    assert in_("ru", "Whom to write to") in html and in_("ru", "Copy address") in html
    refused = client.post(url, data={"do": "pledge", "letters": "many"})
    assert refused.status_code == 422 and html_lang(text(refused)) == ("ru", "ltr")
    assert in_("ru", "Say how many letters you will write: from %(least)s to %(most)s.",
               least="1", most="100") in text(refused)


def test_an_arabic_action_s_page_reads_right_to_left(
    client: FlaskClient, container: Container, campaigner: Headers, seed_case: str,
    supporter: Person,
) -> None:
    arabic = launched(client, campaigner, language="ar", **seed_translation("ar"))

    html = text(client.get(page_url(container, arabic, supporter.supporter_id)))

    assert html_lang(html) == ("ar", "rtl")  # an English reader: no English translation
    assert seed_translation("ar")["asks"][1] in html
    assert in_("ar", "What to ask") in html
    assert "الروسية أو القيرغيزية أو الإنجليزية أو" in html  # the languages, named in Arabic
    assert '<a href="mailto:pressa@mail.mvd.kg" dir="ltr">' in html  # addresses stay ltr


# Pledging and confirming


def test_a_supporter_pledges_and_confirms_two_letters_per_official_and_channel(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
) -> None:
    url = page_url(container, launched_action, supporter.supporter_id)
    assert 'value="pledge"' in text(client.get(url))
    assert letter_forms(text(client.get(url))) == {}  # nothing to confirm before a pledge

    pledged = client.post(url, data={"do": "pledge", "letters": "2"})
    assert pledged.status_code == 303
    html = text(client.get(pledged.headers["Location"]))
    assert "Thank you: your pledge is recorded." in html
    assert "Letters confirmed: 0 of 2 (open)" in html
    forms = letter_forms(html)
    assert set(forms) == {MINISTER, PROSECUTOR, PRESIDENT}
    assert re.search(r'<select id="channel-2" name="channel">\s*<option value="post">by post'
                     r'</option>\s*<option value="fax">by fax</option>\s*<option value="online">',
                     html)  # the prosecutor has no e-mail address

    first = client.post(url, data={**forms[MINISTER], "channel": "email"})
    assert first.status_code == 303
    before_resend = event_count(container)
    assert client.post(url, data={**forms[MINISTER], "channel": "email"}).status_code == 303
    assert event_count(container) == before_resend  # sent twice: counted once
    again = letter_forms(text(client.get(url)))
    assert client.post(url, data={**again[PROSECUTOR], "channel": "fax"}).status_code == 303

    html = text(client.get(url))
    assert "Letters confirmed: 2 of 2 (fulfilled)" in html
    today = i18n.day(utc_now().date(), "en")
    assert f"Minister of Internal Affairs: by e-mail, {today}" in html
    assert f"General Prosecutor: by fax, {today}" in html


def test_bad_links_and_forms_get_a_clear_page_and_change_nothing(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    sign_up: Callable[..., str], campaigner: Headers, seed_case: str,
) -> None:
    url = page_url(container, launched_action, supporter.supporter_id)
    draft = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    client.post(url, data={"do": "pledge", "letters": "1"})
    form = letter_forms(text(client.get(url)))[MINISTER]
    before = event_count(container)

    assert client.get(f"/act/{launched_action}?token=forged").status_code == 404
    assert client.post(f"/act/{launched_action}?token=forged",
                       data={"do": "pledge", "letters": "1"}).status_code == 404
    assert client.get(page_url(container, "no-such-action", supporter.supporter_id)
                      ).status_code == 404
    assert client.get(page_url(container, draft.get_json()["action_id"],
                               supporter.supporter_id)).status_code == 404  # not public yet
    for bad in ({"sent_on": "yesterday", "channel": "post"},
                {"sent_on": "2010-01-01", "channel": "post"},  # before the action was issued
                {"channel": "pigeon"}):
        refused = client.post(url, data={**form, **bad})
        assert refused.status_code == 422, bad
        assert b'role="alert"' in refused.data
    assert client.post(url, data={"do": "dance"}).status_code == 400
    assert client.post(url, data={"do": "pledge", "letters": "2"}).status_code == 409
    unconfirmed = sign_up("not.yet@example.org")
    refused = client.post(page_url(container, launched_action, unconfirmed),
                          data={"do": "pledge", "letters": "1"})
    assert refused.status_code == 409
    assert "Confirm your e-mail address first" in text(refused)
    assert event_count(container) == before + 2  # only the sign-up: asked, then registered


def test_a_stopped_action_says_so_and_offers_no_forms(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    campaigner: Headers,
) -> None:
    url = f"/api/v1/actions/{launched_action}"
    closed = client.post(f"{url}/close", json={"reason": "released", "note": "Released on 2 May"},
                         headers=if_match(client, url, campaigner))
    assert closed.status_code == 200, closed.get_json()

    html = text(client.get(page_url(container, launched_action, supporter.supporter_id)))

    assert "please do not send appeals" in html
    assert "The person was released." in html and "Released on 2 May" in html
    assert "<form" not in html


def test_the_link_opens_its_own_action_only_and_no_page_after_erasure(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    campaigner: Headers, admin: Headers,
) -> None:
    drafted = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    another = drafted.get_json()["action_id"]
    launch = if_match(client, f"/api/v1/actions/{another}", campaigner)
    assert client.post(f"/api/v1/actions/{another}/launch", headers=launch).status_code == 200
    url = page_url(container, launched_action, supporter.supporter_id)
    token = url.split("token=", 1)[1]
    elsewhere = f"/act/{another}?token={token}"  # the same link, pointed at another action
    before = event_count(container)

    assert client.get(elsewhere).status_code == 404
    assert client.post(elsewhere, data={"do": "pledge", "letters": "1"}).status_code == 404
    assert event_count(container) == before
    assert client.post(f"/api/v1/supporters/{supporter.supporter_id}/erase",
                       headers=admin).status_code == 204
    assert client.get(url).status_code == 404
    assert client.post(url, data={"do": "pledge", "letters": "1"}).status_code == 404
    assert event_count(container) == before + 1  # the erasure, and no pledge


def test_a_link_that_opens_nothing_answers_in_the_browser_s_language(
    client: FlaskClient, launched_action: str,
) -> None:
    html = text(client.get(f"/act/{launched_action}?token=forged",
                           headers={"Accept-Language": "fr-CA,fr;q=0.8"}))

    assert html_lang(html) == ("fr", "ltr")
    assert in_("fr", "Link not valid") in html


def test_the_page_tells_browsers_to_send_no_referrer(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
) -> None:
    url = page_url(container, launched_action, supporter.supporter_id)

    for response in (client.get(url), client.post(url, data={"do": "pledge", "letters": "1"}),
                     client.get(f"/act/{launched_action}?token=forged")):
        assert response.headers["Referrer-Policy"] == "no-referrer"

"""An action's language, its translations and a deadline's time, over HTTP; and the stats
that say how many supporters receive which language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo import ua_135_10_ru as ru
from campaign.domain.action import ActionDrafted
from campaign.domain.codec import to_data
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions
from events import NO_STREAM, NewEvent, SubscriptionRunner
from tests.integration.api.conftest import (
    Headers,
    Person,
    action_body,
    assert_problem,
    error_fields,
    event_count,
    if_match,
)
from tests.integration.api.test_action_page import page_url


def in_russian(**changes: Any) -> dict[str, Any]:
    return {"title": ru.TITLE, "summary": ru.SUMMARY, "body": ru.BODY, "asks": list(ru.ASKS),
            "additional_information": ru.ADDITIONAL_INFORMATION, **changes}


def translate(client: FlaskClient, action_id: str, headers: Headers, language: str = "ru",
              **changes: Any) -> Any:
    url = f"/api/v1/actions/{action_id}"
    return client.put(f"{url}/translations/{language}", json=in_russian(**changes),
                      headers=if_match(client, url, headers))


def plan_mailings(container: Container) -> None:
    """What the clock does within a second: plan the mailings the log asks for."""
    SubscriptionRunner(container.store, container.subscriptions["mailing_planner"]).run()


# The action's language and its translations


def test_a_translation_is_stored_shown_with_the_action_and_moves_its_etag(
    client: FlaskClient, campaigner: Headers, viewer: Headers, drafted_action: str,
) -> None:
    translated = translate(client, drafted_action, campaigner)

    assert translated.status_code == 200, translated.get_json()
    assert translated.headers["ETag"] == '"2"'
    body = client.get(f"/api/v1/actions/{drafted_action}", headers=viewer).get_json()
    assert body["language"] == "en" and body["title"] == seed.TITLE  # the original, as written
    [translation] = body["translations"]
    assert translation["language"] == "ru" and translation["current"] is True
    assert datetime.fromisoformat(translation["translated_at"]).utcoffset() == timedelta(0)
    assert (translation["title"], translation["asks"]) == (ru.TITLE, list(ru.ASKS))
    assert translation["body"] == ru.BODY
    assert translation["additional_information"] == ru.ADDITIONAL_INFORMATION


def test_a_launched_action_is_translated_again_and_an_update_of_its_text_outdates_it(
    client: FlaskClient, campaigner: Headers, launched_action: str,
) -> None:
    url = f"/api/v1/actions/{launched_action}"
    assert translate(client, launched_action, campaigner).status_code == 200
    corrected = translate(client, launched_action, campaigner, title="ОСУЖДЁН ПОЖИЗНЕННО")
    assert [t["title"] for t in corrected.get_json()["translations"]] == ["ОСУЖДЁН ПОЖИЗНЕННО"]

    client.post(f"{url}/updates", json={"number": 6, "title": "STILL JAILED"},
                headers=if_match(client, url, campaigner))

    [outdated] = client.get(url, headers=campaigner).get_json()["translations"]
    assert outdated["current"] is False and outdated["title"] == "ОСУЖДЁН ПОЖИЗНЕННО"


def test_a_translation_breaking_a_rule_is_a_4xx_naming_it_and_stores_nothing(
    client: FlaskClient, container: Container, campaigner: Headers, viewer: Headers,
    drafted_action: str,
) -> None:
    url = f"/api/v1/actions/{drafted_action}"
    before = event_count(container)

    for changes, code in (  # what the action says now decides these: conflicts with it
            ({"language": "en"}, "same_language"),
            ({"asks": list(ru.ASKS[:2])}, "asks_mismatch"),
            ({"body": ""}, "body_not_translated"),
            ({"additional_information": " "}, "additional_information_not_translated")):
        assert_problem(translate(client, drafted_action, campaigner, **changes), 409, code)
    assert error_fields(translate(client, drafted_action, campaigner,
                                  title="ОСУЖДЁН\r\nBcc: x")) == {"title"}
    assert error_fields(translate(client, drafted_action, campaigner, asks=[])) == {"asks"}
    unshipped = assert_problem(translate(client, drafted_action, campaigner, language="de"), 404)
    assert "en, es, fr, ar, ru, ky" in unshipped["detail"]
    assert_problem(client.put(f"{url}/translations/ru", json=in_russian(), headers=campaigner),
                   428, "if_match_required")
    assert_problem(client.put(f"{url}/translations/ru", json=in_russian(),
                              headers={**campaigner, "If-Match": '"7"'}), 412, "version_mismatch")
    assert translate(client, drafted_action, viewer).status_code == 403
    assert_problem(client.put("/api/v1/actions/no-such-action/translations/ru",
                              json=in_russian(), headers={**campaigner, "If-Match": '"1"'}), 404)
    assert event_count(container) == before


def test_a_closed_action_takes_no_translation(
    client: FlaskClient, campaigner: Headers, launched_action: str,
) -> None:
    url = f"/api/v1/actions/{launched_action}"
    client.post(f"{url}/close", json={"reason": "released"},
                headers=if_match(client, url, campaigner))

    assert_problem(translate(client, launched_action, campaigner), 409, "action_closed")


def test_a_translation_retried_with_its_idempotency_key_returns_the_first_response(
    client: FlaskClient, container: Container, campaigner: Headers, drafted_action: str,
) -> None:
    url = f"/api/v1/actions/{drafted_action}"
    headers = {**if_match(client, url, campaigner), "Idempotency-Key": "translate-ru"}

    first = client.put(f"{url}/translations/ru", json=in_russian(), headers=headers)
    appended = event_count(container)
    again = client.put(f"{url}/translations/ru", json=in_russian(), headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json() and event_count(container) == appended


def test_an_action_is_written_in_a_shipped_locale_and_says_which(
    client: FlaskClient, campaigner: Headers, seed_case: str,
) -> None:
    in_russian_body = {**action_body(), "language": "ru"}
    created = client.post("/api/v1/actions", json=in_russian_body, headers=campaigner)
    assert created.status_code == 201 and created.get_json()["language"] == "ru"

    no_language = {k: v for k, v in action_body().items() if k != "language"}
    assert client.post("/api/v1/actions", json=no_language,
                       headers=campaigner).get_json()["language"] == "en"
    for unshipped in ("de", "RU", "ru-RU", ""):
        refused = client.post("/api/v1/actions", json={**action_body(), "language": unshipped},
                              headers=campaigner)
        assert error_fields(refused) == {"language"}, unshipped


# Deadlines with and without a time


def test_a_deadline_takes_an_optional_local_time_and_shows_it(
    client: FlaskClient, container: Container, campaigner: Headers, seed_case: str,
) -> None:
    on = (utc_now() + timedelta(days=30)).date().isoformat()
    with_time = {**action_body(), "deadline": {"on": on, "timezone": "Asia/Bishkek",
                                                "time": "17:00"}}
    without = {**action_body(), "deadline": {"on": on, "timezone": "Asia/Bishkek"}}

    timed = client.post("/api/v1/actions", json=with_time, headers=campaigner).get_json()
    dated = client.post("/api/v1/actions", json=without, headers=campaigner).get_json()

    assert timed["deadline"] == {"on": on, "timezone": "Asia/Bishkek", "time": "17:00:00"}
    assert dated["deadline"] == {"on": on, "timezone": "Asia/Bishkek", "time": None}
    with container.engine.connect() as conn:
        rows = {r.action_id: r for r in conn.execute(select(actions))}
    stored = rows[timed["action_id"]]
    assert stored.document["deadline"]["time"] == "17:00:00"
    ends = rows[dated["action_id"]].deadline_at - stored.deadline_at
    assert ends == timedelta(hours=7)  # 17:00 that day, not midnight starting the next


def test_a_deadline_time_that_is_not_a_plain_wall_time_is_a_422(
    client: FlaskClient, campaigner: Headers, seed_case: str,
) -> None:
    on = (utc_now() + timedelta(days=30)).date().isoformat()
    for time in ("25:00", "17:00+06:00", "17:00:00.5", "5pm", "17", 1700):
        body = {**action_body(), "deadline": {"on": on, "timezone": "UTC", "time": time}}
        refused = client.post("/api/v1/actions", json=body, headers=campaigner)
        assert error_fields(refused) == {"deadline.time"}, time


def test_an_action_stored_before_actions_had_a_language_or_a_deadline_time_still_reads(
    client: FlaskClient, container: Container, viewer: Headers, seed_case: str,
) -> None:
    old = to_data(ActionDrafted(**{**vars(seed.DRAFT), "action_id": "action-from-2010"}))
    del old["language"]  # as events were written before actions had a language
    del old["deadline"]["time"]  # ... and deadlines a time
    container.store.append("action-from-2010", [NewEvent("ActionDrafted", old)], NO_STREAM)

    body = client.get("/api/v1/actions/action-from-2010", headers=viewer).get_json()

    assert body["language"] == "en" and body["translations"] == []
    assert body["deadline"] == {"on": "2010-10-27", "timezone": "Asia/Bishkek", "time": None}


# Which language each supporter reads


def test_the_act_page_shows_the_action_in_the_readers_language_when_it_exists_in_it(
    client: FlaskClient, container: Container, campaigner: Headers, launched_action: str,
    confirmed: Callable[..., Person],
) -> None:
    olga = confirmed("olga@example.org", "Olga Petrova", locale="ru")
    aigerim = confirmed("aigerim@example.org", "Aigerim Sadykova", locale="ky")
    translate(client, launched_action, campaigner)

    russian = client.get(page_url(container, launched_action, olga.supporter_id))
    english = client.get(page_url(container, launched_action, aigerim.supporter_id))

    assert russian.status_code == english.status_code == 200
    assert ru.TITLE in russian.get_data(as_text=True)
    assert ru.ASKS[1] in russian.get_data(as_text=True)
    assert "Zarylbek Rysaliev" in russian.get_data(as_text=True)  # officials as written
    assert seed.TITLE in english.get_data(as_text=True)
    assert ru.TITLE not in english.get_data(as_text=True)


def test_stats_count_the_supporters_receiving_each_language_and_those_lacking_one(
    client: FlaskClient, container: Container, campaigner: Headers, viewer: Headers,
    drafted_action: str, confirmed: Callable[..., Person],
) -> None:
    for n, locale in enumerate(("en", "en", "ru", "ru-KG", "ky", "es", "de")):
        confirmed(f"person.{n}@example.org", f"Person {n}", locale=locale)
    url = f"/api/v1/actions/{drafted_action}"

    def languages() -> tuple[dict[str, int], dict[str, int]]:
        body = client.get(f"{url}/stats", headers=viewer).get_json()
        return body["languages"], body["missing_translations"]

    # A draft: counted among those its launch would reach, before any translation.
    assert languages() == ({"en": 7}, {"es": 1, "ky": 1, "ru": 2})
    translate(client, drafted_action, campaigner)
    assert languages() == ({"en": 5, "ru": 2}, {"es": 1, "ky": 1})

    client.post(f"{url}/launch", headers=if_match(client, url, campaigner))
    plan_mailings(container)
    confirmed("late@example.org", "Late Comer", locale="ky")  # joined after the launch
    assert languages() == ({"en": 5, "ru": 2}, {"es": 1, "ky": 1})  # the launch's recipients

    client.post(f"{url}/updates", json={"number": 6, "title": "STILL JAILED"},
                headers=if_match(client, url, campaigner))
    assert languages() == ({"en": 7}, {"es": 1, "ky": 1, "ru": 2})  # outdated: English again

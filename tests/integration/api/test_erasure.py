"""Personal data: stored only sealed, never logged or echoed, and shredded on erasure.

The e-mail address and name must not appear in clear anywhere: not in any table, not in
the SQLite file or its write-ahead log, not in a log line, not in an error body. Erasure
destroys the supporter's key; the log stays intact and reads back as "[erased]".
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from campaign.application.access import Purpose
from campaign.bootstrap import Container
from campaign.domain import supporter as supporter_domain
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from events.personal_data import MASK, PREFIX
from events.schema import events, personal_data_keys
from tests.integration.api.conftest import (
    EMAIL,
    NAME,
    Headers,
    Person,
    assert_problem,
    count_letters,
    every_row_as_text,
    resolve_requests,
    sign_up_body,
)

BASE = "/api/v1/supporters"
# Each of these, in any case, would betray the person.
NEEDLES = (EMAIL, EMAIL.split("@")[0], NAME, NAME.split()[-1])
CONTROL = sign_up_body()["timezone"]


def assert_not_in_clear(haystack: str | bytes, where: str) -> None:
    """No needle, in any case; bytes are searched for the needles' UTF-8."""
    lowered = haystack.lower() if isinstance(haystack, bytes) else haystack.lower().encode()
    for needle in NEEDLES:
        assert needle.lower().encode() not in lowered, f"{needle!r} in clear in {where}"


def sqlite_files(database_url: str) -> list[Path]:
    database = Path(str(make_url(database_url).database))
    return [p for p in (database, Path(f"{database}-wal"), Path(f"{database}-journal"))
            if p.exists()]


def assert_nothing_in_clear(container: Container, database_url: str) -> None:
    """Every table's rows; on SQLite also the raw file and WAL, before and after a checkpoint.

    The supporter's timezone is stored in clear: finding it proves the search can see.
    """
    rows = every_row_as_text(container)
    assert CONTROL in rows
    assert_not_in_clear(rows, "a table")
    if not database_url.startswith("sqlite"):
        return
    for moment in ("before", "after"):
        if moment == "after":
            # Outside the engine: its transactions BEGIN IMMEDIATE; a checkpoint needs none.
            database = sqlite_files(database_url)[0]
            with closing(sqlite3.connect(database, isolation_level=None)) as raw:
                busy, _, _ = raw.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
            assert busy == 0
        files = {path.name: path.read_bytes() for path in sqlite_files(database_url)}
        assert CONTROL.encode() in b"".join(files.values())
        for name, content in files.items():
            assert_not_in_clear(content, f"{name} {moment} a checkpoint")


def write_letters(client: FlaskClient, action_id: str, person: Person) -> None:
    pledged = client.post(f"/api/v1/actions/{action_id}/pledges", json={"letters_promised": 1},
                          headers=person.on(action_id))
    assert pledged.status_code == 201
    sent = client.post(f"/api/v1/pledges/{pledged.get_json()['pledge_id']}/letters",
                       json={"target_id": "president", "channel": "email",
                             "sent_on": utc_now().date().isoformat()},
                            headers=person.on(action_id))
    assert sent.status_code == 201


def supporter_row(container: Container, supporter_id: str) -> Any:
    with container.engine.connect() as conn:
        return conn.execute(select(supporters)
                            .where(supporters.c.supporter_id == supporter_id)).one()


def keys_of(container: Container, supporter_id: str) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(personal_data_keys)
            .where(personal_data_keys.c.subject_id
                   == supporter_domain.supporter_stream(supporter_id))).scalar_one())


def test_personal_data_is_only_ever_stored_sealed(
    client: FlaskClient, container: Container, database_url: str, supporter: Person,
    launched_action: str,
) -> None:
    write_letters(client, launched_action, supporter)

    row = supporter_row(container, supporter.supporter_id)
    assert row.email_sealed.startswith(PREFIX) and row.name_sealed.startswith(PREFIX)
    assert row.email_index
    with container.engine.connect() as conn:
        registered = conn.execute(select(events.c.data)
                                  .where(events.c.type == "SupporterRegistered")).scalar_one()
    assert registered["email"].startswith(PREFIX) and registered["name"].startswith(PREFIX)
    assert keys_of(container, supporter.supporter_id) == 1
    assert_nothing_in_clear(container, database_url)


def test_erasure_by_an_admin_shreds_the_key_and_masks_every_copy(
    client: FlaskClient, container: Container, database_url: str, supporter: Person,
    launched_action: str, admin: Headers,
) -> None:
    write_letters(client, launched_action, supporter)
    positions_before = [e.position for e in container.store.read_all(0, 10_000)]

    response = client.post(f"{BASE}/{supporter.supporter_id}/erase", headers=admin)

    assert response.status_code == 204
    assert response.get_data() == b""
    export = client.get(f"{BASE}/{supporter.supporter_id}/export", headers=admin).get_json()
    assert export["erased"] is True
    assert (export["profile"]["email"], export["profile"]["name"]) == (MASK, MASK)
    assert export["profile"]["locale"] == "en"  # not personal: kept, like the letters
    assert [e["type"] for e in export["events"]] == [
        "SignUpReceived", "SupporterRegistered", "ConsentConfirmed", "SupporterErased"]
    assert (export["events"][0]["data"]["email"], export["events"][0]["data"]["name"]) == (
        MASK, MASK)  # what the sign-up asked is shredded with the same key
    assert [e["type"] for e in export["pledges"]] == ["Pledged", "LetterConfirmed",
                                                      "PledgeFulfilled"]
    row = supporter_row(container, supporter.supporter_id)
    assert row.erased is True
    assert (row.email_index, row.email_sealed, row.name_sealed) == (None, None, None)
    assert keys_of(container, supporter.supporter_id) == 0
    assert_nothing_in_clear(container, database_url)
    # The log is intact: nothing rewritten, one event added; reading it never fails.
    stored = container.store.read_all(0, 10_000)
    assert [e.position for e in stored][:-1] == positions_before
    with container.engine.connect() as conn:
        decoded = [container.commands.mapper.to_domain(conn, e) for e in stored]
    registered = [e for e in decoded if isinstance(e, supporter_domain.SupporterRegistered)]
    assert [(e.email, e.name) for e in registered] == [(MASK, MASK)]
    count_letters(container)
    stats = client.get(f"/api/v1/actions/{launched_action}/stats", headers=admin).get_json()
    assert stats["letters"] == 1  # the letters still count


def test_erasure_is_idempotent_and_an_unknown_supporter_is_404(
    client: FlaskClient, container: Container, supporter: Person, admin: Headers
) -> None:
    url = f"{BASE}/{supporter.supporter_id}/erase"
    assert client.post(url, headers=admin).status_code == 204

    assert client.post(url, headers=admin).status_code == 204
    with container.engine.connect() as conn:
        erased = conn.execute(select(func.count()).select_from(events)
                              .where(events.c.type == "SupporterErased")).scalar_one()
    assert erased == 1
    assert_problem(client.post(f"{BASE}/no-such-supporter/erase", headers=admin), 404)


def test_a_supporter_erases_themselves_with_their_signed_link(
    client: FlaskClient, container: Container, database_url: str, supporter: Person,
    admin: Headers,
) -> None:
    token = container.links.sign("erase", supporter.supporter_id)

    response = client.post(f"{BASE}/erase", json={"token": token},
                           headers={"Idempotency-Key": "erase-me"})
    retried = client.post(f"{BASE}/erase", json={"token": token},
                          headers={"Idempotency-Key": "erase-me"})
    again = client.post(f"{BASE}/erase", json={"token": token})

    assert response.status_code == retried.status_code == 204
    assert_problem(again, 401)  # the link died with the data
    assert keys_of(container, supporter.supporter_id) == 0
    export = client.get(f"{BASE}/{supporter.supporter_id}/export", headers=admin).get_json()
    assert export["events"][-1]["data"]["requested_by"] == "supporter"
    assert_nothing_in_clear(container, database_url)


@pytest.mark.parametrize("purpose", ["manage", "confirm", "unsubscribe"])
def test_only_an_erasure_link_erases(
    client: FlaskClient, container: Container, supporter: Person, purpose: str
) -> None:
    token = container.links.sign(cast(Purpose, purpose), supporter.supporter_id)

    assert_problem(client.post(f"{BASE}/erase", json={"token": token}), 401)
    assert_problem(client.post(f"{BASE}/erase", json={"token": "forged"}), 401)
    assert keys_of(container, supporter.supporter_id) == 1


def test_after_erasure_the_old_token_is_refused_and_the_address_may_sign_up_afresh(
    client: FlaskClient, container: Container, supporter: Person, launched_action: str,
    admin: Headers,
) -> None:
    client.post(f"{BASE}/{supporter.supporter_id}/erase", headers=admin)

    assert_problem(client.get(f"{BASE}/me", headers=supporter.manage), 401)
    assert_problem(client.post(f"/api/v1/actions/{launched_action}/pledges",
                               json={"letters_promised": 1},
                               headers=supporter.on(launched_action)), 401)
    again = client.post(BASE, json=sign_up_body())
    assert again.status_code == 202
    resolve_requests(container)
    with container.engine.connect() as conn:
        rows = conn.execute(select(supporters.c.erased)
                            .order_by(supporters.c.erased)).scalars().all()
    assert rows == [False, True]


def test_personal_data_never_reaches_the_logs(
    client: FlaskClient, container: Container, confirmed: Callable[..., Person],
    launched_action: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy keeps its own loggers at WARNING; open them too, SQL parameters included.
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")

    client.post(BASE, json=sign_up_body(), headers={"Idempotency-Key": "log-test"})
    person = confirmed()
    write_letters(client, launched_action, person)
    client.post(BASE, json=sign_up_body(EMAIL.upper(), NAME.upper(), locale="bad"))

    assert caplog.records, "nothing was logged: the test would prove nothing"
    assert any("INSERT INTO supporters" in r.getMessage() for r in caplog.records)
    assert PREFIX in caplog.text  # the sealed values were logged, as SQL parameters
    assert_not_in_clear(caplog.text, "the logs")
    for record in caplog.records:
        assert_not_in_clear(repr(record.args), f"the arguments of {record.name}")


@pytest.mark.parametrize("body", [
    sign_up_body(locale="english"),
    sign_up_body(country="XX", timezone="Nowhere/Else"),
    sign_up_body(f"{EMAIL.split('@')[0]}@localhost"),
    sign_up_body(f"{EMAIL} "),
    sign_up_body(f"{NAME} <{EMAIL}>"),
    sign_up_body(name=""),
    {**sign_up_body(), "phone": f"{NAME}, {EMAIL}"},
    {"email": EMAIL, "name": {"first": NAME}},
], ids=["locale", "country", "localhost", "trailing-space", "display-name", "blank-name",
        "unknown-field", "name-not-text"])
def test_error_bodies_never_echo_personal_data(
    client: FlaskClient, body: dict[str, object]
) -> None:
    response = client.post(BASE, json=body)

    assert response.status_code in (202, 422)
    assert_not_in_clear(response.get_data(as_text=True), "the response")


def test_errors_about_a_reused_key_or_broken_json_never_echo_personal_data(
    client: FlaskClient,
) -> None:
    client.post(BASE, json=sign_up_body(), headers={"Idempotency-Key": "k"})

    reused = client.post(BASE, json=sign_up_body(name="Other Name"),
                         headers={"Idempotency-Key": "k"})
    broken = client.post(BASE, data=f'{{"email": "{EMAIL}", "name": "{NAME}"',
                         content_type="application/json")

    assert_problem(reused, 422)
    assert_problem(broken, 400)
    for response in (reused, broken):
        assert_not_in_clear(response.get_data(as_text=True), "the response")

"""PostgreSQL only: the feed never hands out a cursor past an event still in flight.

Positions come from a sequence and transactions commit in any order, so a later event can
be visible while an earlier one is not yet committed. A feed that moved its cursor past it
would lose that event for the partner forever.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from campaign.application.commands import Meta
from campaign.bootstrap import Container, build
from campaign.domain import case
from campaign.domain.values import OnDate
from campaign.partners.admin import PartnerForm, register_partner
from campaign.partners.payloads import partner_event
from campaign.partners.registry import follows, get_partner
from campaign.settings import Settings
from campaign.web.app import create_app
from tests.commands import SECRET_KEY
from tests.databases import engine_for

pytestmark = pytest.mark.postgres
META = Meta(actor="test", correlation_id="feed-gaps")
NOW = datetime(2020, 5, 12, 10, tzinfo=UTC)


@pytest.fixture
def container(postgres_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings.from_env({"DATABASE_URL": postgres_url, "SECRET_KEY": SECRET_KEY,
                                  "VAR_DIR": str(tmp_path / "var")})
    with engine_for(postgres_url) as engine:
        engine.pool._pool.maxsize = 30  # type: ignore[attr-defined]
        yield build(settings, engine=engine)


@pytest.fixture
def client(container: Container) -> FlaskClient:
    return create_app(container).test_client()


def open_cases(container: Container, count: int) -> list[str]:
    case_ids = [f"case-{n}" for n in range(count)]
    for case_id in case_ids:
        container.commands.handle(case.OpenCase(
            case_id=case_id, subject_name=f"Subject {case_id}", subject_kind="person",
            country="KG", summary="At risk.", tags=(), opened_at=NOW), META)
    return case_ids


def partner_key(container: Container, countries: tuple[str, ...] = ("KG",)) -> dict[str, str]:
    issued = register_partner(container.commands, container.vault, PartnerForm(
        name="Bir Duino", contact_email="info@birduino.example.org",
        webhook_url="https://1.1.1.1/hooks", countries=countries), META, NOW)
    return {"Authorization": f"Bearer {issued.api_key}", "partner_id": issued.partner_id}


def development(case_id: str, development_id: str, pending: bool = False) -> case.RecordDevelopment:
    return case.RecordDevelopment(
        case_id=case_id, development_id=development_id, kind="other",
        occurred=OnDate(date(2020, 5, 13)), summary=f"Development {development_id}.",
        source=case.DevelopmentSource(kind="campaigner"), recorded_at=NOW,
        requires_approval=pending)


def read_page(client: FlaskClient, key: dict[str, str], after: str, limit: int) -> Any:
    response = client.get(f"/api/v1/feed?after={after}&limit={limit}",
                          headers={"Authorization": key["Authorization"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def visible_events(container: Container, partner_id: str) -> list[str]:
    """What the partner should see: every committed event it follows, in position order."""
    with container.engine.connect() as conn:
        partner = get_partner(conn, partner_id)
        assert partner is not None
        found = []
        for stored in container.store.read_all(0, 100_000, conn=conn):
            event = partner_event(container.store, conn, stored)
            if event is not None and follows(partner, event):
                found.append(event.event_id)
        return found


def test_a_page_stops_before_an_event_in_flight_and_the_next_page_resumes_there(
    container: Container, client: FlaskClient
) -> None:
    first_case, second_case = open_cases(container, 2)
    key = partner_key(container)
    start = read_page(client, key, "0", 100)
    with container.engine.begin() as slow:
        container.commands.handle(development(first_case, "slow"), META, conn=slow)
        container.commands.handle(development(second_case, "fast"), META)  # commits first

        during = read_page(client, key, start["next_cursor"], 100)

        assert during["items"] == [] and during["has_more"] is True
        assert during["next_cursor"] == start["next_cursor"]
    after = read_page(client, key, during["next_cursor"], 100)

    assert [i["data"]["development_id"] for i in after["items"]] == ["slow", "fast"]
    assert after["has_more"] is False


def test_a_partner_paging_during_concurrent_slow_appends_gets_every_event_exactly_once(
    container: Container, client: FlaskClient
) -> None:
    writers, per_writer = 6, 12
    case_ids = open_cases(container, writers)
    key = partner_key(container)
    done = threading.Event()
    errors: list[BaseException] = []

    def write(number: int) -> None:
        randomly = random.Random(number)
        try:
            for n in range(per_writer):
                pending = n % 4 == 3  # held for approval: never visible
                with container.engine.connect() as conn:
                    transaction = conn.begin()
                    container.commands.handle(
                        development(case_ids[number], f"w{number}-{n}", pending), META,
                        conn=conn)
                    time.sleep(randomly.uniform(0, 0.03))
                    if n % 5 == 4:
                        transaction.rollback()  # leaves a gap that never fills
                    else:
                        transaction.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    received: list[str] = []
    cursor, pages = "0", 0
    for thread in threads:
        thread.start()
    while True:
        writing = not done.is_set()
        found = read_page(client, key, cursor, 7)
        pages += 1
        received += [i["event_id"] for i in found["items"]]
        assert int(found["next_cursor"]) >= int(cursor)
        cursor = found["next_cursor"]
        if not writing and not found["has_more"]:
            break
        if all(not t.is_alive() for t in threads):
            done.set()

    assert errors == []
    expected = visible_events(container, key["partner_id"])
    # Of each writer's 12: 3 wait for approval, 2 roll back, 7 are for the partner.
    assert len(expected) == writers * 7
    assert received == expected
    assert len(received) == len(set(received))
    assert pages > 3

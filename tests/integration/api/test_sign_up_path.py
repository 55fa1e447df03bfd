"""Sign-up and "manage my data" do the same work for a known and a new address.

An answer that takes longer for one than the other tells a stranger who is registered as
surely as a different body would. Wall-clock time is too noisy to assert on, so these
tests compare the work itself: the SQL statements a request runs and the events it records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event, select

from campaign.bootstrap import Container
from events.schema import events
from tests.integration.api.conftest import sign_up_body

BASE = "/api/v1/supporters"


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The SQL the app runs meanwhile, without its parameters."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(container.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(container.engine, "before_cursor_execute", record)


def work_of(container: Container, request: Callable[[], Any]) -> tuple[list[str], list[str],
                                                                     bytes]:
    """The statements run, the event types recorded, and the answer, of one request."""
    with container.engine.connect() as conn:
        last = conn.execute(select(events.c.position).order_by(events.c.position.desc())
                            .limit(1)).scalar() or 0
    with statements(container) as ran:
        response = request()
    with container.engine.connect() as conn:
        recorded = list(conn.execute(select(events.c.type).where(events.c.position > last)
                                     .order_by(events.c.position)).scalars())
    return ran, recorded, response.get_data()


def test_signing_up_a_known_and_a_new_address_runs_the_same_statements_and_records_the_same(
    client: FlaskClient, container: Container, sign_up: Callable[..., str],
) -> None:
    sign_up("known.person@example.org")
    client.post(BASE, json=sign_up_body("warm.up@example.org"))  # first-request work aside

    known = work_of(container, lambda: client.post(
        BASE, json=sign_up_body("Known.Person@example.org", "Someone Else")))
    new = work_of(container, lambda: client.post(
        BASE, json=sign_up_body("new.person@example.org", "Someone New")))

    assert known[0] == new[0]
    assert known[1] == new[1] == ["SignUpReceived"]
    assert known[2] == new[2]


def test_asking_to_manage_a_known_and_an_unknown_address_does_the_same_work(
    client: FlaskClient, container: Container, sign_up: Callable[..., str],
) -> None:
    sign_up("known.person@example.org")
    client.post(f"{BASE}/manage-link", json={"email": "warm.up@example.org"})

    known = work_of(container, lambda: client.post(
        f"{BASE}/manage-link", json={"email": "known.person@example.org"}))
    unknown = work_of(container, lambda: client.post(
        f"{BASE}/manage-link", json={"email": "nobody.here@example.org"}))

    assert known[0] == unknown[0]
    assert known[1] == unknown[1] == ["ManageRequestReceived"]
    assert known[2] == unknown[2]

"""The mailings page (S5) through the test client: what each role sees, and a failed launch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.domain import mailing
from campaign.infra.tables import mail_batches
from campaign.mail.sending import record_outcome
from events import SubscriptionRunner
from tests.integration.api.conftest import (  # noqa: F401 (a fixture)
    Headers,
    Person,
    confirmed,
    if_match,
)
from tests.integration.console.signing_in import ConsoleClient

ConsoleAs = Callable[..., ConsoleClient]


def run(container: Container, *names: str) -> None:
    for name in names:
        SubscriptionRunner(container.store, container.subscriptions[name]).run()


def planned_batches(container: Container) -> list[tuple[str, str]]:
    run(container, "mailing_planner")
    with container.engine.connect() as conn:
        rows = conn.execute(select(mail_batches.c.mailing_id, mail_batches.c.batch_id)
                            .where(mail_batches.c.outcome.is_(None)))
        return [(mailing_id, batch_id) for mailing_id, batch_id in rows]


def page(console: ConsoleClient, action_id: str) -> str:
    response = console.get(f"/console/actions/{action_id}/mailings")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_a_sent_launch_shows_its_funnel_in_people_to_every_role(
    container: Container, launched_action: str, confirmed: Callable[..., Person],  # noqa: F811
    console_as: ConsoleAs,
) -> None:
    confirmed()
    for _, batch_id in planned_batches(container):
        container.batches.send(batch_id, datetime.now(UTC))
    run(container, "mailings")

    html = page(console_as("viewer"), launched_action)

    assert 'data-testid="mailing" ' in html and ">Launch" in html
    assert 'data-testid="stage-sent" data-value="1"' in html
    assert 'data-testid="stage-opened" data-value="0"' in html and "indicative only" in html
    assert 'data-stage="planned"' in html and "people" in html
    assert "mailing-failed" not in html
    assert 'data-testid="overview"' not in html  # one mailing: nothing to compare it with


def test_a_launch_whose_every_batch_failed_says_so_with_the_reason(
    container: Container, launched_action: str, confirmed: Callable[..., Person],  # noqa: F811
    console_as: ConsoleAs,
) -> None:
    confirmed()
    confirmed("grace.hopper.91c2@example.org", "Grace Hopper")
    reason = "batch x: subject contains a line break or control character"
    for mailing_id, batch_id in planned_batches(container):
        record_outcome(container.commands, mailing.RecordBatchFailed(
            mailing_id, batch_id, 0, reason, datetime.now(UTC)),
            Meta(actor="worker:fanout", correlation_id="test"))
    run(container, "mailings")

    html = page(console_as("viewer"), launched_action)

    assert 'data-testid="mailing-failed"' in html
    assert "Nobody received this mailing" in html and reason in html
    assert 'data-testid="stage-sent" data-value="0"' in html
    assert 'data-testid="progress-failed" data-value="2"' in html


def test_the_mailings_page_needs_a_session_and_a_known_action(
    client: object, launched_action: str, console_as: ConsoleAs,
) -> None:
    viewer = console_as("viewer")
    anonymous = viewer.client.application.test_client()

    assert anonymous.get(f"/console/actions/{launched_action}/mailings").status_code == 303
    missing = viewer.get("/console/actions/no-such-action/mailings")
    assert missing.status_code == 404 and "no-such-action" in missing.get_data(as_text=True)


def test_a_mailing_not_yet_sent_shows_as_planned_and_may_refresh_itself(
    container: Container, launched_action: str, confirmed: Callable[..., Person],  # noqa: F811
    console_as: ConsoleAs,
) -> None:
    confirmed()
    planned_batches(container)  # planned, and no worker has sent a batch yet
    run(container, "mailings")
    viewer = console_as("viewer")

    html = page(viewer, launched_action)
    refreshing = viewer.get(f"/console/actions/{launched_action}/mailings?refresh=1")

    assert 'data-testid="mailing-status">planned<' in html
    assert 'data-testid="progress-sent" data-value="0"' in html
    assert 'data-testid="progress-rate">—<' in html and 'data-testid="auto-refresh"' in html
    assert 'http-equiv="refresh" content="5"' not in html
    assert 'http-equiv="refresh" content="5"' in refreshing.get_data(as_text=True)


def test_an_update_is_a_mailing_of_its_own_listed_beside_the_launch(
    container: Container, client: FlaskClient, campaigner: Headers, launched_action: str,
    confirmed: Callable[..., Person], console_as: ConsoleAs,  # noqa: F811
) -> None:
    confirmed()
    for _, batch_id in planned_batches(container):
        container.batches.send(batch_id, datetime.now(UTC))
    url = f"/api/v1/actions/{launched_action}"
    updated = client.post(f"{url}/updates", json={"number": 6, "title": "STILL JAILED"},
                          headers=if_match(client, url, campaigner))
    assert updated.status_code == 201, updated.get_json()
    for _, batch_id in planned_batches(container):
        container.batches.send(batch_id, datetime.now(UTC))
    run(container, "mailings")

    html = page(console_as("viewer"), launched_action)

    assert html.count('data-testid="overview-row"') == 2
    assert html.count('data-testid="mailing" ') == 2
    assert ">Launch</a>" in html and ">Update 1</a>" in html

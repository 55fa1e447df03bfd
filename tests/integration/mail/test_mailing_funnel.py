"""Each mailing of an action as a funnel of unique people, end to end: planned by the log,
sent through the real client to the fake SendGrid, SendGrid's signed events posted to the
webhook, pledges and letters made, and the funnel read over the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from dramatiq.brokers.stub import StubBroker
from flask.testing import FlaskClient
from sqlalchemy import Engine, Table, select

from campaign.application.access import create_token
from campaign.application.commands import Meta
from campaign.application.pledges import SentLetter, confirm_letter, make_pledge
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.domain import supporter
from campaign.infra.tables import mail_batches, mail_deliveries, supporters
from campaign.mail.planning import launch_mailing_id, plan_mailings
from campaign.read_models.mailings import MailingsProjection
from campaign.settings import Settings
from campaign.web.app import create_app
from events import SubscriptionRunner, rebuild
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.mail.conftest import event, post_events, public_key_text
from tests.wiring import with_actors

META = Meta(actor="test", correlation_id="funnel-tests")
PROJECTION = MailingsProjection()
SEPTEMBER = datetime(2010, 9, 1, 9, tzinfo=UTC)
Key = ec.EllipticCurvePrivateKey


@pytest.fixture
def funnel(tmp_path: Path, database_url: str, engine: Engine, broker: StubBroker,
           sendgrid_server: FakeSendGrid, webhook_key: Key,  # noqa: F811
           ) -> Iterator[tuple[Container, FlaskClient]]:
    """Mail through the fake SendGrid; SendGrid's events signed with `webhook_key`."""
    settings = Settings.from_env({
        "DATABASE_URL": database_url, "SECRET_KEY": "funnel-test-secret-" + "k" * 32,
        "VAR_DIR": str(tmp_path / "var"), "SENDGRID_API_KEY": sendgrid_server.api_key,
        "SENDGRID_API_HOST": sendgrid_server.url, "MAIL_FROM": "Urgent Actions <ua@example.org>",
        "PUBLIC_BASE_URL": "https://ua.example.org",
        "SENDGRID_WEBHOOK_PUBLIC_KEY": public_key_text(webhook_key),
    })
    container = with_actors(build(settings, engine=engine, broker=broker))
    yield container, create_app(container).test_client()


def people(container: Container, count: int, locale: str = "en") -> list[str]:
    """`count` confirmed supporters who receive every action, in `locale`."""
    found = []
    for n in range(count):
        supporter_id = register_supporter(
            container.commands, container.blind_index,
            Registration(f"reader.{locale}.{n}@example.org", f"Reader {n}", locale, "GB",
                         "Europe/London"),
            META, SEPTEMBER)
        container.commands.handle(
            supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=SEPTEMBER), META)
        found.append(supporter_id)
    return found


def run(container: Container, *names: str) -> None:
    """What the clock does within a second: run these subscriptions."""
    for name in names:
        SubscriptionRunner(container.store, container.subscriptions[name]).run()


def send_everything(container: Container) -> None:
    """Plan what the log asks for and send every batch, as the workers would."""
    run(container, "mailing_planner")
    with container.engine.connect() as conn:
        waiting = conn.execute(select(mail_batches.c.batch_id)
                               .where(mail_batches.c.outcome.is_(None))).scalars().all()
    for batch_id in waiting:
        container.batches.send(batch_id, datetime.now(UTC))


def deliveries(container: Container, mailing_id: str) -> dict[str, str]:
    """Each recipient's delivery id, by supporter."""
    with container.engine.connect() as conn:
        rows = conn.execute(select(mail_deliveries.c.supporter_id, mail_deliveries.c.delivery_id)
                            .where(mail_deliveries.c.mailing_id == mailing_id))
        return {supporter_id: delivery_id for supporter_id, delivery_id in rows}


def mailings(container: Container, client: FlaskClient, role: str = "viewer") -> Any:
    _, token = create_token(container.engine, f"funnel {role}", role)  # type: ignore[arg-type]
    response = client.get(f"/api/v1/actions/{seed.ACTION_ID}/mailings",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["mailings"]


def stages(found: dict[str, Any]) -> dict[str, int]:
    return {stage["name"]: stage["people"] for stage in found["funnel"]}


def problems(found: dict[str, Any]) -> dict[str, int]:
    return {problem["name"]: problem["people"] for problem in found["problems"]}


def rows(container: Container, table: Table) -> list[tuple[Any, ...]]:
    with container.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key))]


def launch(container: Container) -> None:
    for command in (seed.OPEN_CASE, seed.DRAFT, seed.IN_RUSSIAN, seed.LAUNCH):
        container.commands.handle(command, META)


def test_each_stage_counts_a_person_once_however_many_events_say_so(
    funnel: tuple[Container, FlaskClient], webhook_key: Key,
) -> None:
    container, client = funnel
    readers = people(container, 6)
    launch(container)
    send_everything(container)
    to = deliveries(container, launch_mailing_id(seed.ACTION_ID))
    act = f"https://ua.example.org/act/{seed.ACTION_ID}?token=t"
    posted = [
        *(event("delivered", to[r]) for r in readers[:5]),
        event("delivered", to[readers[0]]),  # SendGrid says it twice: still one person
        event("bounce", to[readers[5]], type="bounce"),
        event("open", to[readers[0]]), event("open", to[readers[0]]),
        event("open", to[readers[1]], sg_machine_open=True),
        event("open", to[readers[2]], sg_machine_open=False),
        event("click", to[readers[0]], url=act), event("click", to[readers[0]], url=act),
        event("click", to[readers[1]], url="https://ua.example.org/unsubscribe/t"),
        event("spamreport", to[readers[4]]),
        event("delivered", "not-a-delivery-of-ours"),
    ]

    assert post_events(client, webhook_key, posted).status_code == 200
    assert post_events(client, webhook_key, posted[:3]).status_code == 200  # a retried post

    run(container, "mailings")
    (found,) = mailings(container, client)
    assert (found["label"], found["status"]) == ("Launch", "sent")
    assert stages(found) == {"planned": 6, "sent": 6, "delivered": 5, "clicked": 1,
                             "pledged": 0, "confirmed": 0}
    assert (found["opened"], found["opened_machine"]) == (2, 1)
    assert problems(found) == {"bounced_hard": 1, "bounced_soft": 0, "dropped": 0,
                               "spam_report": 1, "unsubscribed": 0}
    assert [p["rate_of_sent"] for p in found["problems"]][0] == pytest.approx(1 / 6)
    assert found["funnel"][2]["of_previous"] == pytest.approx(5 / 6)
    hours = found["first_hours"]
    assert [sum(h[name] for h in hours) for name in ("delivered", "clicked", "bounced")] \
        == [5, 1, 1]
    progress = found["progress"]
    assert (progress["batches_planned"], progress["batches_accepted"]) == (1, 1)
    assert (progress["recipients_sent"], progress["running"]) == (6, False)


def test_pledges_and_letters_count_for_the_mailings_their_supporter_got_before_them(
    funnel: tuple[Container, FlaskClient],
) -> None:
    container, client = funnel
    first, second, third = people(container, 3)
    launch(container)
    send_everything(container)
    at = datetime(2010, 9, 16, 9, tzinfo=UTC)
    make_pledge(container.commands, seed.ACTION_ID, first, (), 3, META, at)
    make_pledge(container.commands, seed.ACTION_ID, second, (), 3, META, at)
    for n, target in enumerate(("minister-interior", "general-prosecutor")):
        confirm_letter(container.commands, seed.ACTION_ID, first,
                       SentLetter(f"l-{n}", target, "post", date(2010, 9, 16)), META, at)
    container.commands.handle(seed.FIFTH_UPDATE, META)
    send_everything(container)  # the update goes to the launch's recipients
    confirm_letter(container.commands, seed.ACTION_ID, second,
                   SentLetter("l-9", "president", "email", date(2010, 9, 17)), META, at)

    run(container, "mailings")

    launched, updated = mailings(container, client)
    live = {table.name: rows(container, table) for table in PROJECTION.tables}
    rebuild(container.store, container.projections[PROJECTION.name])
    assert {table.name: rows(container, table) for table in PROJECTION.tables} == live
    assert stages(launched)["pledged"] == 2 and stages(launched)["confirmed"] == 2
    assert updated["label"] == "Update 1"
    # Both pledged before the update reached them; only the second wrote after it.
    assert stages(updated)["sent"] == 3
    assert (stages(updated)["pledged"], stages(updated)["confirmed"]) == (0, 1)
    assert third not in (first, second)


def test_a_mailing_half_sent_shows_its_pace_and_when_it_should_end(
    funnel: tuple[Container, FlaskClient],
) -> None:
    container, client = funnel
    people(container, 2, "en")
    people(container, 3, "ru")  # the seed's action is in Russian too: a batch of its own
    launch(container)
    run(container, "mailing_planner")
    with container.engine.connect() as conn:
        first, _ = conn.execute(select(mail_batches.c.batch_id)
                                .order_by(mail_batches.c.batch_id)).scalars().all()
    container.batches.send(first, datetime.now(UTC))
    run(container, "mailings")

    (found,) = mailings(container, client)

    assert found["status"] == "sending"
    progress = found["progress"]
    assert progress["running"] is True and progress["completed_at"] is None
    assert (progress["batches_accepted"], progress["batches_planned"]) == (1, 2)
    assert (progress["recipients_sent"], progress["recipients_planned"]) == (2, 5)
    assert progress["rate_per_minute"] > 0
    assert datetime.fromisoformat(progress["eta"]) >= datetime.fromisoformat(
        found["planned_at"])


def test_a_launch_whose_every_batch_was_refused_shows_as_failed_with_the_reason(
    funnel: tuple[Container, FlaskClient], sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    container, client = funnel
    people(container, 4)
    launch(container)
    sendgrid_server.reject_next(400, n=10, message="The subject is too long")

    send_everything(container)
    run(container, "mailings")

    (found,) = mailings(container, client)
    assert found["status"] == "failed"
    assert stages(found)["planned"] == 4 and stages(found)["sent"] == 0
    assert found["progress"]["recipients_failed"] == 4
    (refused,) = found["batch_failures"]
    assert (refused["status"], refused["recipients"]) == (400, 4)
    assert "subject is too long" in refused["reason"]


def test_recipient_failures_name_their_supporter_for_admins_only(
    funnel: tuple[Container, FlaskClient],
) -> None:
    container, client = funnel
    readers = people(container, 2)
    launch(container)
    with container.engine.begin() as conn:  # a name stored before line breaks were refused
        sealed = container.vault.seal(conn, f"supporter-{readers[0]}", "name", "Reader\nBcc: x")
        conn.execute(supporters.update().where(supporters.c.supporter_id == readers[0])
                     .values(name_sealed=sealed))

    send_everything(container)
    run(container, "mailings")

    (seen,) = mailings(container, client, "viewer")
    (admin,) = mailings(container, client, "admin")
    assert seen["status"] == "partly_failed" and stages(seen)["sent"] == 1
    assert seen["recipient_failures_total"] == 1
    assert seen["recipient_failures"][0]["supporter_id"] is None
    assert "line break" in seen["recipient_failures"][0]["reason"]
    assert admin["recipient_failures"][0]["supporter_id"] == readers[0]


def test_the_mailings_of_an_unknown_action_are_not_found(
    funnel: tuple[Container, FlaskClient],
) -> None:
    container, client = funnel
    _, token = create_token(container.engine, "viewer", "viewer")

    missing = client.get("/api/v1/actions/no-such-action/mailings",
                         headers={"Authorization": f"Bearer {token}"})
    anonymous = client.get(f"/api/v1/actions/{seed.ACTION_ID}/mailings")

    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    assert anonymous.status_code == 401


def test_a_mailing_planned_in_parts_counts_each_part_and_ends_only_after_the_last(
    funnel: tuple[Container, FlaskClient],
) -> None:
    container, client = funnel
    people(container, 2, "en")
    people(container, 3, "ru")
    launch(container)
    planner = SubscriptionRunner(container.store, plan_mailings(container.commands, 3))
    planner.run_batch()  # the first part: three of the five
    with container.engine.connect() as conn:
        first_part = conn.execute(select(mail_batches.c.batch_id)).scalars().all()
    for batch_id in first_part:
        container.batches.send(batch_id, datetime.now(UTC))
    run(container, "mailings")

    (found,) = mailings(container, client)
    assert found["status"] == "sending" and found["progress"]["completed_at"] is None
    assert found["progress"]["recipients_planned"] == found["progress"]["recipients_sent"] == 3

    planner.run()
    send_everything(container)
    run(container, "mailings")

    (found,) = mailings(container, client)
    progress = found["progress"]
    assert progress["completed_at"] is not None and progress["running"] is False
    assert progress["recipients_planned"] == progress["recipients_sent"] == 5
    assert progress["batches_planned"] == progress["batches_accepted"] == len(
        rows(container, mail_batches))

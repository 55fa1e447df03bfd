"""The two e-mails a supporter gets about themselves: the double opt-in and pledge reminders.

Both go the way every e-mail goes (log → planner → dispatcher → worker → the real
`sendgrid` client → the fake SendGrid), so what the fake server received is what a
supporter would read.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from dramatiq.brokers.stub import StubBroker
from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.application.deadlines import run_deadline_scans
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain import supporter
from campaign.infra.tables import supporters
from campaign.web.app import create_app
from events import SubscriptionRunner
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid, Mail
from tests.integration.mail.conftest import deliver
from workers.actors import Actors

META = Meta(actor="test", correlation_id="confirmation-tests")
SIGNED_UP = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
CONFIRMATION = ("confirmation_mailer",)


def sign_up(container: Container, email: str, at: datetime, locale: str = "en") -> str:
    form = Registration(email, "Ada Byron-Lovelace", locale, "GB", "Europe/London")
    return register_supporter(container.commands, container.blind_index, form, META, at)


def sent_of(server: FakeSendGrid, kind: str) -> list[Mail]:
    """Every e-mail of `kind` the fake SendGrid accepted, as its recipient reads it."""
    return server.mails(kind)


def consented(container: Container, supporter_id: str) -> bool:
    with container.engine.connect() as conn:
        return bool(conn.execute(select(supporters.c.consented).where(
            supporters.c.supporter_id == supporter_id)).scalar_one())


def test_a_sign_up_gets_one_confirmation_whose_link_confirms_only_when_posted(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    supporter_id = sign_up(mail_container, "ada.confirm@example.org", SIGNED_UP)

    deliver(mail_container, broker, CONFIRMATION)
    deliver(mail_container, broker, CONFIRMATION)  # the clock ticks again: nothing twice

    [mail] = sent_of(sendgrid_server, "signup_confirmation")
    assert mail.to == {"email": "ada.confirm@example.org", "name": "Ada Byron-Lovelace"}
    assert mail.subject == "Please confirm: urgent actions by e-mail"
    path = re.search(r"Confirm here: https://ua\.example\.org(/confirm/\S+)", mail.text)
    assert path is not None, mail.text
    client: FlaskClient = create_app(mail_container).test_client()

    page = client.get(path[1])  # a mail scanner opening the link
    assert page.status_code == 200 and b"<form method=\"post\">" in page.data
    assert not consented(mail_container, supporter_id)

    assert client.post(path[1]).status_code == 200
    assert consented(mail_container, supporter_id)
    assert client.post(path[1]).status_code == 200  # twice is harmless
    assert client.get("/confirm/not-a-token").status_code == 404


def test_signing_up_again_resends_at_most_once_a_quarter_hour_and_never_once_confirmed(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    address = "lost.mail@example.org"
    supporter_id = sign_up(mail_container, address, SIGNED_UP)
    assert sign_up(mail_container, address.upper(), SIGNED_UP + timedelta(minutes=5)) \
        == supporter_id  # too soon: the first one may still arrive
    sign_up(mail_container, address, SIGNED_UP + timedelta(minutes=20))  # sent again
    deliver(mail_container, broker, CONFIRMATION)
    assert len(sent_of(sendgrid_server, "signup_confirmation")) == 2

    mail_container.commands.handle(
        supporter.ConfirmConsent(supporter_id, SIGNED_UP + timedelta(hours=1)), META)
    sign_up(mail_container, address, SIGNED_UP + timedelta(hours=2))
    deliver(mail_container, broker, CONFIRMATION)

    assert len(sent_of(sendgrid_server, "signup_confirmation")) == 2


def test_someone_who_confirmed_before_the_mail_went_out_is_not_asked_again(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)  # the demo's supporters sign up and confirm at once

    deliver(mail_container, broker, CONFIRMATION)

    assert sent_of(sendgrid_server, "signup_confirmation") == []


def test_open_pledgers_are_reminded_in_their_own_timezone_and_language(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)
    schedule = mail_container.subscriptions["reminder_schedule"]
    SubscriptionRunner(mail_container.store, schedule).run()

    # A week before 27 October 2010, after 10:00 in Moscow and in Buenos Aires.
    result = run_deadline_scans(mail_container.commands, mail_container.reminder_sender,
                                datetime(2010, 10, 20, 14, tzinfo=UTC))
    deliver(mail_container, broker)
    run_deadline_scans(mail_container.commands, mail_container.reminder_sender,
                       datetime(2010, 10, 20, 14, 1, tzinfo=UTC))
    deliver(mail_container, broker)  # the next minute's scan and tick send nothing again

    assert result.reminders_sent == 2
    reminders = sent_of(sendgrid_server, "pledge_reminder")
    assert Counter(p.to["email"] for p in reminders) == Counter(
        {"olga@example.org": 1, "lucia@example.org": 1})
    by_address = {p.to["email"]: p for p in reminders}
    olga, lucia = by_address["olga@example.org"], by_address["lucia@example.org"]
    assert "НАПОМИНАНИЕ" in olga.text  # Olga reads Russian
    assert "не позднее 27 октября 2010\u202fг." in olga.text  # the last day, as printed
    assert "RECORDATORIO" in lucia.text  # Lucía reads Spanish
    assert "a más tardar el 27 de octubre de 2010" in lucia.text
    assert f"/act/{seed.ACTION_ID}?token=" in olga.text
    assert "Zarylbek Rysaliev" in lucia.text  # the targets, to write to
    assert lucia.subject == ("Recordatorio: pronto vence el plazo de sus llamamientos de la "
                             "acción urgente 135/10")

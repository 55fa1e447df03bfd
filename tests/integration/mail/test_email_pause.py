"""Pausing e-mail: campaign mail waits, the mail a supporter asks for still goes out.

The pause is checked twice, like an unsubscribe: when a mailing is planned and again when
its batch is composed, so a pause between the two holds that e-mail back too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from dramatiq.brokers.stub import StubBroker

from campaign.application.commands import Meta
from campaign.application.supporters import find_supporter_by_email, request_manage_link
from campaign.bootstrap import Container
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.domain import preferences, supporter
from events import SubscriptionRunner
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.mail.conftest import deliver
from workers.actors import Actors

META = Meta(actor="test", correlation_id="pause-tests")
AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
OLGA = "olga@example.org"


def supporter_id_of(container: Container, email: str) -> str:
    with container.engine.connect() as conn:
        found = find_supporter_by_email(conn, container.blind_index, email)
    assert found is not None
    return found


def addressees(server: FakeSendGrid, kind: str) -> set[str]:
    return {mail.to["email"] for mail in server.mails(kind)}


def test_a_pause_after_planning_holds_the_e_mail_back_but_not_a_manage_link(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)
    SubscriptionRunner(mail_container.store,
                       mail_container.subscriptions["mailing_planner"]).run()
    olga = supporter_id_of(mail_container, OLGA)
    mail_container.commands.handle(preferences.PauseEmail(supporter_id=olga, at=AT), META)

    deliver(mail_container, broker)
    request_manage_link(mail_container.commands, OLGA, META, AT)
    deliver(mail_container, broker, ("address_requests", "manage_link_mailer"))

    everyone = {s.registration.email for s in SUPPORTERS}
    assert addressees(sendgrid_server, "action_launched") == everyone - {OLGA}
    assert addressees(sendgrid_server, "action_updated") == everyone - {OLGA}
    assert addressees(sendgrid_server, "manage_link") == {OLGA}  # she asked for it


def test_a_paused_supporter_who_unsubscribed_still_gets_the_confirmation_to_opt_in_again(
    mail_container: Container, workers: tuple[StubBroker, Actors],
    sendgrid_server: FakeSendGrid,  # noqa: F811
) -> None:
    broker, _ = workers
    load_demo(mail_container)
    olga = supporter_id_of(mail_container, OLGA)
    for command in (preferences.PauseEmail(supporter_id=olga, at=AT),
                    supporter.Unsubscribe(supporter_id=olga, at=AT, via="link"),
                    supporter.RequestConfirmation(supporter_id=olga, at=AT)):
        mail_container.commands.handle(command, META)

    deliver(mail_container, broker, ("confirmation_mailer",))

    assert OLGA in addressees(sendgrid_server, "signup_confirmation")

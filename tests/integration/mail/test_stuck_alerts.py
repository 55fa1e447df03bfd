"""A subscription stuck too long e-mails the campaigners once per stuck episode, through
the real SendGrid client, with no one's personal data in it."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

from sqlalchemy import func, select

from campaign.bootstrap import Container, build, mail_config
from campaign.infra.tables import subscription_alerts
from campaign.mail.sending import DISPATCHER
from campaign.mail.stuck_alerts import alert_stuck_subscriptions
from events import SubscriptionRunner
from events.status import subscription_states
from tests.fakes.sendgrid_server import FakeSendGrid, Mail
from tests.stuck import EMAIL, NAME, stick_the_mail_dispatcher
from tests.wiring import with_actors
from workers.clock import Cadences, tick

TEN_MINUTES = timedelta(minutes=10)


def check(container: Container, minutes_stuck: float) -> list[str]:
    """What the clock's check does, `minutes_stuck` after the subscription got stuck."""
    with container.engine.connect() as conn:
        [state] = [s for s in subscription_states(conn) if s.stuck]
    assert state.stuck_since is not None
    now = state.stuck_since + timedelta(minutes=minutes_stuck)
    return alert_stuck_subscriptions(container.engine, container.transport,
                                     mail_config(container.settings), TEN_MINUTES, now)


def alerts(server: FakeSendGrid) -> list[Mail]:
    return server.mails("subscription_alert")


def test_a_subscription_stuck_longer_than_the_threshold_emails_the_campaigners_once(
    mail_container: Container, sendgrid_server: FakeSendGrid,
) -> None:
    position = stick_the_mail_dispatcher(mail_container)
    another_clock = with_actors(build(mail_container.settings, engine=mail_container.engine))

    early = check(mail_container, 9)
    due = check(mail_container, 11)
    again = [*check(mail_container, 30), *check(another_clock, 60)]

    assert (early, due, again) == ([], [DISPATCHER], [])
    [mail] = alerts(sendgrid_server)
    assert mail.to["email"] == "ua@example.org"  # MAIL_FROM's, with no CAMPAIGN_ALERT_EMAIL
    assert mail.subject == f"Subscription {DISPATCHER} stuck at position {position}"
    assert "(11 minutes)" in mail.text and "TemporaryFailure at event " in mail.text
    assert f"campaign subscriptions retry {DISPATCHER}" in mail.text
    assert f"campaign subscriptions skip {DISPATCHER} --position {position}" in mail.text
    for part in (mail.subject, mail.text, mail.html, str(mail.headers)):
        assert EMAIL not in part and NAME not in part


def test_an_alert_the_provider_could_not_take_is_sent_on_the_next_check(
    mail_container: Container, sendgrid_server: FakeSendGrid,
) -> None:
    stick_the_mail_dispatcher(mail_container)
    sendgrid_server.fail_next(1, status=503)

    failed = check(mail_container, 11)
    retried = check(mail_container, 12)

    assert (failed, retried) == ([], [DISPATCHER])
    assert len(alerts(sendgrid_server)) == 1


def test_two_clocks_checking_at_once_send_one_alert(
    mail_container: Container, sendgrid_server: FakeSendGrid,
) -> None:
    stick_the_mail_dispatcher(mail_container)
    clocks = [with_actors(build(mail_container.settings, engine=mail_container.engine))
              for _ in range(2)]
    start = threading.Barrier(2)
    sent: list[list[str]] = []

    def run(clock: Container) -> None:
        start.wait()
        sent.append(check(clock, 11))

    threads = [threading.Thread(target=run, args=(clock,)) for clock in clocks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(sent) == [[], [DISPATCHER]]
    assert len(alerts(sendgrid_server)) == 1
    with mail_container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(subscription_alerts)) \
            .scalar_one() == 1


def test_a_new_stuck_episode_alerts_again(
    mail_container: Container, sendgrid_server: FakeSendGrid,
) -> None:
    first = stick_the_mail_dispatcher(mail_container)
    check(mail_container, 11)
    assert not SubscriptionRunner(mail_container.store,
                                  mail_container.subscriptions[DISPATCHER]).run().failed
    second = stick_the_mail_dispatcher(mail_container, email="another.canary@example.org")

    assert check(mail_container, 11) == [DISPATCHER]
    assert [m.subject for m in alerts(sendgrid_server)] == [
        f"Subscription {DISPATCHER} stuck at position {first}",
        f"Subscription {DISPATCHER} stuck at position {second}"]


def test_the_clock_checks_for_stuck_subscriptions(
    mail_container: Container, sendgrid_server: FakeSendGrid,
) -> None:
    stick_the_mail_dispatcher(mail_container)
    at_once = dataclasses.replace(mail_container, settings=dataclasses.replace(
        mail_container.settings, alert_stuck_after_seconds=0))

    tick(at_once, Cadences())

    assert len(alerts(sendgrid_server)) == 1

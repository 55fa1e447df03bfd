"""Telling campaigners that a subscription is stuck: one e-mail per stuck episode.

A subscription stopped at an event (a temporary failure that has not passed) sends no
e-mail, delivers no webhook or leaves a read model behind, and nothing else says so. When
one has been stuck for `ALERT_STUCK_AFTER_SECONDS`, the clock e-mails CAMPAIGN_ALERT_EMAIL
(default: the MAIL_FROM address) once per episode: a subscription and the position it is
stuck at. The claim (a `subscription_alerts` row) and the sending share one transaction, so
a failed send is tried again on the next check, and a second clock, or a restarted one,
finds the claim and sends nothing. The alert names the subscription, positions, the event's
id and the error's class: never anyone's data.

Like the partner alert, it is written in English for the campaign's own staff.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine

from campaign.infra.tables import subscription_alerts
from campaign.mail.message import Batch, MailConfig, Personalization, single_line
from campaign.mail.transport import Transport
from events.sql import upsert
from events.status import SubscriptionState, subscription_states

log = logging.getLogger(__name__)

RUNBOOK = "docs/operations.md, runbook \"A stuck subscription\""


def alert_stuck_subscriptions(engine: Engine, transport: Transport, config: MailConfig,
                              after: timedelta, now: datetime) -> list[str]:
    """E-mail about each subscription stuck for `after` or longer that no alert covers yet;
    the names alerted about."""
    with engine.connect() as conn:
        due = [s for s in subscription_states(conn, now) if s.stuck and s.stuck_since
               and now - s.stuck_since >= after]
    sent = []
    for state in due:
        try:
            if _claim_and_send(engine, transport, config, state, now):
                sent.append(state.name)
        except Exception:  # noqa: BLE001 - e.g. the provider is down: the next check retries
            log.exception("could not alert about stuck subscription %s", state.name)
    return sent


def _claim_and_send(engine: Engine, transport: Transport, config: MailConfig,
                    state: SubscriptionState, now: datetime) -> bool:
    with engine.begin() as conn:
        claimed = upsert(conn, subscription_alerts, [{
            "subscription": state.name, "failed_position": state.failed_position,
            "sent_at": now}], ["subscription", "failed_position"],
            returning=subscription_alerts.c.subscription)
        if not claimed:
            return False  # sent before, by this clock or another
        transport.send(alert(config, state, now))  # an error rolls the claim back
    log.warning("alerted %s: subscription %s stuck at position %s since %s", config.alert_to,
                state.name, state.failed_position, state.stuck_since)
    return True


def alert(config: MailConfig, state: SubscriptionState, now: datetime) -> Batch:
    """The alert for one stuck subscription, addressed to the campaigners."""
    assert state.stuck_since is not None and state.failed_position is not None
    minutes = int((now - state.stuck_since).total_seconds() // 60)
    name, position = state.name, state.failed_position
    text = (
        f"The subscription {name} has been stuck at log position {position} since "
        f"{state.stuck_since:%d %B %Y at %H:%M} UTC ({minutes} minutes).\n\n"
        f"Its error: {state.last_error}.\n"
        f"It is {state.lag_events} events behind the log; until it moves, what it does "
        "(e-mail, webhooks, a read model) waits.\n\n"
        "See where every subscription stands:\n"
        "  campaign status\n"
        "Once the cause is fixed (a service back up), run it again now:\n"
        f"  campaign subscriptions retry {name}\n"
        "If this one event can never be handled, skip it, saying why (the audit shows it):\n"
        f"  campaign subscriptions skip {name} --position {position} --reason \"...\"\n\n"
        f"What to check first: {RUNBOOK}.\n"
    )
    return Batch(
        batch_id=f"stuck-alert-{name}-{position}", from_email=config.sender_email,
        from_name=config.sender_name, reply_to=None,
        subject=single_line(f"Subscription {name} stuck at position {position}"),
        html="", text=text,
        personalizations=(Personalization(to_email=config.alert_to, to_name="Campaigners"),),
        custom_args={"subscription": name, "failed_position": str(position)},
        categories=("subscription_alert",),
    )

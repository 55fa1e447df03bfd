"""SendGrid's delivery events applied: suppressions, unsubscribes, mailing counts and people.

Events are correlated by the ids we put in `custom_args` (`delivery_id`, `mailing_id`;
SendGrid repeats them as top-level keys), never by position, and applied once per
`sg_event_id`. Counts are of events (`mailing_event_counts`) and of people, each delivery
once per stage (campaign.mail.provider_people). Events carry the recipient's address:
nothing here logs a payload. The HTTP side (signature first, then parsing) is
campaign.web.api.sendgrid_webhook.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from campaign.application.commands import CommandHandler, Meta
from campaign.domain.base import DomainError
from campaign.domain.supporter import Suppress, SuppressionReason, Unsubscribe
from campaign.infra.tables import mail_deliveries, mailing_event_counts, sendgrid_events
from campaign.mail.provider_people import record_people, stage_of
from events.sql import upsert

log = logging.getLogger(__name__)

ACTOR = "provider:sendgrid"

SUPPRESSING: dict[str, SuppressionReason] = {
    "bounce": "bounce", "dropped": "dropped", "spamreport": "spam_report",
}
UNSUBSCRIBING = frozenset({"unsubscribe", "group_unsubscribe"})
COUNTED = frozenset({"delivered", "open", "click", "deferred"})
KNOWN = COUNTED | UNSUBSCRIBING | set(SUPPRESSING)
# Drops caused by the message or our account, not by the address: they suppress no one.
DROPS_NOT_ABOUT_THE_ADDRESS = ("spam content", "invalid smtpapi header",
                               "recipient list over package quota")

@dataclass
class Tally:
    """What one webhook post did, by number of events."""

    received: int = 0
    applied: int = 0
    counted: int = 0
    duplicates: int = 0
    ignored: int = 0


def apply_events(
    commands: CommandHandler, events: Sequence[Any], correlation: str, now: datetime,
) -> Tally:
    """Apply each new, known event once, in one transaction; the rest are counted as such."""
    tally = Tally(received=len(events))
    usable = [e for e in events if _usable(e)]
    tally.ignored = len(events) - len(usable)
    counts: Counter[tuple[str, str]] = Counter()
    reached: list[tuple[str, str, datetime]] = []
    with commands.engine.begin() as conn:
        fresh = _claim(conn, (e["sg_event_id"] for e in usable), now)
        for event in usable:
            if event["sg_event_id"] not in fresh:
                tally.duplicates += 1
                continue
            fresh.discard(event["sg_event_id"])  # a repeat within this post is a duplicate too
            mailing_id = _text(event.get("mailing_id"))
            if mailing_id:
                counts[(mailing_id, _label(event))] += 1
                tally.counted += 1
            delivery_id, stage = _text(event.get("delivery_id")), stage_of(event)
            if delivery_id and stage:
                reached.append((delivery_id, stage, _event_time(event.get("timestamp"), now)))
            if _apply(commands, conn, event, correlation, now):
                tally.applied += 1
        record_people(conn, reached)
        upsert(conn, mailing_event_counts,
               [{"mailing_id": m, "event_type": t, "count": n} for (m, t), n in counts.items()],
               ["mailing_id", "event_type"],
               lambda new: {"count": mailing_event_counts.c.count + new.count})
    return tally


def _usable(event: Any) -> bool:
    return (isinstance(event, Mapping) and event.get("event") in KNOWN
            and bool(_text(event.get("sg_event_id"))))


def _claim(conn: Connection, ids: Iterable[str], now: datetime) -> set[str]:
    """Record the ids; return those never seen before (a concurrent post waits, then skips).

    Sorted, so two posts sharing ids lock them in the same order and cannot deadlock.
    """
    rows = [{"sg_event_id": i, "received_at": now} for i in sorted(set(ids))]
    return upsert(conn, sendgrid_events, rows, ["sg_event_id"],
                  returning=sendgrid_events.c.sg_event_id)


def _apply(
    commands: CommandHandler, conn: Connection, event: Mapping[str, Any], correlation: str,
    now: datetime,
) -> bool:
    """Suppress or unsubscribe the delivery's supporter; True if that appended an event."""
    kind = event["event"]
    if kind in COUNTED or _label(event) == "blocked" or _drop_not_about_address(event):
        return False
    delivery_id = _text(event.get("delivery_id"))
    supporter_id = _supporter_for(conn, delivery_id) if delivery_id else None
    if supporter_id is None:
        log.info("SendGrid %s event %s names no delivery of ours: ignored", kind,
                 event["sg_event_id"])
        return False
    at = _event_time(event.get("timestamp"), now)
    command: Suppress | Unsubscribe = (
        Unsubscribe(supporter_id=supporter_id, at=at, via="provider") if kind in UNSUBSCRIBING
        else Suppress(supporter_id=supporter_id, reason=SUPPRESSING[kind], at=at))
    meta = Meta(actor=ACTOR, correlation_id=correlation,
                causation_id=f"sendgrid:{event['sg_event_id']}")
    try:
        return bool(commands.handle(command, meta, conn=conn).events)
    except DomainError as exc:  # erased or unknown supporter: nothing to do
        log.info("SendGrid %s event for supporter %s ignored: %s", kind, supporter_id, exc.code)
        return False


def _supporter_for(conn: Connection, delivery_id: str) -> str | None:
    """The supporter a delivery (one recipient of one mailing) went to; None if not ours."""
    found = conn.execute(select(mail_deliveries.c.supporter_id)
                         .where(mail_deliveries.c.delivery_id == delivery_id)).scalar()
    return None if found is None else str(found)


def _label(event: Mapping[str, Any]) -> str:
    """The counter an event adds to; a `blocked` bounce is about us, not the address."""
    if event["event"] == "bounce" and event.get("type") == "blocked":
        return "blocked"
    return str(event["event"])


def _drop_not_about_address(event: Mapping[str, Any]) -> bool:
    reason = str(event.get("reason") or "").lower()
    return event["event"] == "dropped" and reason.startswith(DROPS_NOT_ABOUT_THE_ADDRESS)


def _event_time(value: Any, now: datetime) -> datetime:
    """When SendGrid saw the event, or now if it did not say plausibly."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e11:
        return datetime.fromtimestamp(value, UTC)
    return now


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

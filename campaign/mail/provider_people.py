"""SendGrid's events as people: which stage each delivery (one person of one mailing) reached.

SendGrid sends an event per open, per click, per retry; a funnel needs people. Each
delivery is recorded once per stage (`mailing_provider_people`), and a stage's count for
the mailing (`mailing_provider_counts`) grows only when that row is new, so a page reads a
count per stage and never scans events. The mailing is the delivery's own
(`mail_deliveries`), not whatever the event claims; an event naming no delivery of ours is
left out here, as it is when suppressing.

Opens are kept apart by SendGrid's `sg_machine_open` flag (Apple Mail Privacy Protection,
security scanners): a machine open says nothing about a person. A click counts only on the
link to the action's pledge page; unsubscribe and manage links are not interest in acting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Table, select

from campaign.infra.tables import (
    mail_deliveries,
    mailing_provider_counts,
    mailing_provider_hours,
    mailing_provider_people,
)
from campaign.read_models.mailing_funnel import PROVIDER_STAGES, hour_of
from events.sql import upsert

PLEDGE_PATH = "/act/"
"""The pledge page's path (campaign.mail.links.MailLinks.pledge)."""
LOOKUP_CHUNK = 500


def stage_of(event: Mapping[str, Any]) -> str | None:
    """The stage an event puts its person in, or None (deferred, processed, other links)."""
    kind = event.get("event")
    if kind == "delivered":
        return "delivered"
    if kind == "open":
        return "opened_machine" if event.get("sg_machine_open") in (True, "true") else "opened"
    if kind == "click":
        url = event.get("url")
        return "clicked" if isinstance(url, str) and PLEDGE_PATH in urlsplit(url).path else None
    if kind == "bounce":  # SendGrid's `blocked` bounce is temporary: a soft bounce
        return "bounced_soft" if event.get("type") == "blocked" else "bounced_hard"
    return {"dropped": "dropped", "spamreport": "spam_report", "unsubscribe": "unsubscribed",
            "group_unsubscribe": "unsubscribed"}.get(str(kind))


def record_people(conn: Connection, reached: Iterable[tuple[str, str, datetime]]) -> int:
    """Record each (delivery id, stage) once, at the time SendGrid saw it; count the new
    ones on their mailing, in all and in the hour they happened. Returns how many were new.

    Deliveries that are not ours are skipped.
    """
    first: dict[tuple[str, str], datetime] = {}
    for delivery, stage, at in reached:
        first[(delivery, stage)] = min(at, first.get((delivery, stage), at))
    mailing_of = _mailings_of(conn, {delivery for delivery, _ in first})
    counts: Counter[tuple[str, str]] = Counter()
    hours: Counter[tuple[str, str, datetime]] = Counter()
    for stage in PROVIDER_STAGES:  # one claim per stage: it returns the deliveries it added
        rows = [{"delivery_id": delivery, "stage": stage, "mailing_id": mailing_of[delivery],
                 "first_at": at} for (delivery, named), at in sorted(first.items())
                if named == stage and delivery in mailing_of]
        for delivery in upsert(conn, mailing_provider_people, rows, ["delivery_id", "stage"],
                               returning=mailing_provider_people.c.delivery_id):
            counts[(mailing_of[delivery], stage)] += 1
            hours[(mailing_of[delivery], stage, hour_of(first[(delivery, stage)]))] += 1
    _add(conn, mailing_provider_counts, ["mailing_id", "stage"],
         [{"mailing_id": m, "stage": s, "people": n} for (m, s), n in sorted(counts.items())])
    _add(conn, mailing_provider_hours, ["mailing_id", "stage", "hour"],
         [{"mailing_id": m, "stage": s, "hour": h, "people": n}
          for (m, s, h), n in sorted(hours.items())])
    return sum(counts.values())


def _add(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    upsert(conn, table, rows, keys, lambda added: {"people": table.c.people + added.people})


def _mailings_of(conn: Connection, deliveries: set[str]) -> dict[str, str]:
    """The mailing of each delivery of ours among `deliveries`."""
    found: dict[str, str] = {}
    ordered = sorted(deliveries)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        chunk = ordered[start:start + LOOKUP_CHUNK]
        found.update((delivery, mailing) for delivery, mailing in conn.execute(
            select(mail_deliveries.c.delivery_id, mail_deliveries.c.mailing_id)
            .where(mail_deliveries.c.delivery_id.in_(chunk))))
    return found

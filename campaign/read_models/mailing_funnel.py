"""The funnel of each mailing about an action, in unique people, read from the read models.

Every number here counts people, each at most once per stage and mailing: from the log
(`mailings`: planned, sent, pledged, confirmed ≥ 1 letter afterwards) and from SendGrid's
events (`mailing_provider_counts`: delivered, opened, clicked, bounced …). Opens are an
indicator only, never a step of the funnel: SendGrid flags machine opens (privacy proxies,
scanners), which are kept apart, and the rest still over-count. Rates of bounces, drops,
spam reports and unsubscribes are over the people sent, as Action Network defines them.

The API and the console read this one function, so they cannot disagree. It reads a few
rows per mailing, never the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from campaign.infra.tables import (
    mail_recipient_failures,
    mailing_batch_failures,
    mailing_provider_counts,
    mailing_provider_hours,
    mailing_response_hours,
    mailings,
)
from events.records import as_utc

PROVIDER_STAGES = ("delivered", "opened", "opened_machine", "clicked", "bounced_hard",
                   "bounced_soft", "dropped", "spam_report", "unsubscribed")
"""Every stage a SendGrid event can put a person in (campaign.mail.provider_people)."""
PROBLEMS = {"bounced_hard": "Bounced (hard)", "bounced_soft": "Bounced (soft: blocked)",
            "dropped": "Dropped (suppressed before sending)", "spam_report": "Spam reports",
            "unsubscribed": "Unsubscribed"}
"""What went wrong after sending, each with a rate over the people sent."""
KIND_LABELS = {"action_launched": "Launch", "action_updated": "Update",
               "action_closed": "Stop notice", "case_development": "Case development",
               "pledge_reminder": "Reminder"}
NUMBERED = frozenset({"action_updated", "case_development", "pledge_reminder"})
RECIPIENT_FAILURES_SHOWN = 50
FIRST_HOURS = 72
HOURLY = ("delivered", "clicked", "pledged", "bounced")
"""The series of the first hours' chart; `bounced` is hard and soft bounces together."""


def hour_of(instant: datetime) -> datetime:
    """The UTC hour an instant falls in: the bucket of the hourly counts."""
    return as_utc(instant).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Stage:
    """One step of the funnel: people who reached it, and the share of the step before."""

    name: str
    label: str
    people: int
    of_previous: float | None


@dataclass(frozen=True)
class Problem:
    """People who bounced, were dropped, reported spam or unsubscribed, over people sent."""

    name: str
    label: str
    people: int
    rate_of_sent: float | None


@dataclass(frozen=True)
class Progress:
    """How far the sending got: batches and people, and at what pace."""

    batches_planned: int
    batches_accepted: int
    batches_failed: int
    recipients_planned: int
    recipients_sent: int
    recipients_failed: int
    running: bool
    rate_per_minute: float | None
    """People handled (sent or failed) per minute since the mailing was planned."""
    eta: datetime | None
    """When the last batch should be handled at that pace, while the mailing runs."""
    completed_at: datetime | None


@dataclass(frozen=True)
class BatchFailure:
    """A batch refused as a whole, and why (status 0: refused before any request)."""

    batch_id: str
    status: int
    reason: str
    recipients: int
    failed_at: datetime


@dataclass(frozen=True)
class RecipientFailure:
    """A person left out of a batch: ids and a reason, never a name or an address."""

    delivery_id: str
    batch_id: str
    supporter_id: str | None
    """Only for those who may see who it was (admins); None otherwise."""
    reason: str
    failed_at: datetime


@dataclass(frozen=True)
class HourCount:
    """People who first reached each stage in one hour of the mailing's first 72."""

    hour: datetime
    offset: int
    """Hours since the hour the mailing was planned in: 0 to 71."""
    delivered: int
    clicked: int
    pledged: int
    bounced: int


@dataclass(frozen=True)
class MailingFunnel:
    """One mailing of an action, as the funnel page and the API show it."""

    mailing_id: str
    kind: str
    label: str
    planned_at: datetime
    status: str
    """planned, sending, sent, partly_failed, failed (no one was sent) or empty."""
    progress: Progress
    funnel: tuple[Stage, ...]
    opened: int
    opened_machine: int
    problems: tuple[Problem, ...]
    batch_failures: tuple[BatchFailure, ...]
    recipient_failures_total: int
    recipient_failures: tuple[RecipientFailure, ...]
    first_hours: tuple[HourCount, ...]
    """The hours of the first 72 in which anyone reached a stage, oldest first."""


def action_mailings(conn: Connection, action_id: str, now: datetime, *,
                    supporter_ids: bool = False) -> list[MailingFunnel]:
    """Every mailing about the action, oldest first; `supporter_ids`: name the supporter of
    each recipient failure (for admins only)."""
    rows = conn.execute(select(mailings).where(mailings.c.action_id == action_id)
                        .order_by(mailings.c.planned_at, mailings.c.mailing_id)).all()
    ids = [row.mailing_id for row in rows]
    if not ids:
        return []
    people: dict[tuple[str, str], int] = {
        (r.mailing_id, r.stage): int(r.people) for r in conn.execute(
            select(mailing_provider_counts).where(mailing_provider_counts.c.mailing_id.in_(ids)))}
    refused: dict[str, list[BatchFailure]] = {}
    for r in conn.execute(select(mailing_batch_failures)
                          .where(mailing_batch_failures.c.mailing_id.in_(ids))
                          .order_by(mailing_batch_failures.c.failed_at,
                                    mailing_batch_failures.c.batch_id)):
        refused.setdefault(r.mailing_id, []).append(BatchFailure(
            r.batch_id, r.status, r.reason, r.recipients, as_utc(r.failed_at)))
    hourly = _hourly(conn, ids)
    return [_funnel(conn, row, {s: people.get((row.mailing_id, s), 0) for s in PROVIDER_STAGES},
                    tuple(refused.get(row.mailing_id, ())), now, supporter_ids,
                    _first_hours(row, hourly.get(row.mailing_id, {}))) for row in rows]


def _hourly(conn: Connection, ids: list[str]) -> dict[str, dict[datetime, dict[str, int]]]:
    """Per mailing and hour, the people who first reached each hourly series' stage then."""
    series = {"delivered": "delivered", "clicked": "clicked", "bounced_hard": "bounced",
              "bounced_soft": "bounced", "pledged": "pledged"}
    found: dict[str, dict[datetime, dict[str, int]]] = {}
    for table in (mailing_provider_hours, mailing_response_hours):
        for r in conn.execute(select(table).where(table.c.mailing_id.in_(ids),
                                                  table.c.stage.in_(series))):
            hour = found.setdefault(r.mailing_id, {}).setdefault(as_utc(r.hour), {})
            name = series[r.stage]
            hour[name] = hour.get(name, 0) + int(r.people)
    return found


def _first_hours(row: Any, hours: dict[datetime, dict[str, int]]) -> tuple[HourCount, ...]:
    start = hour_of(row.planned_at)
    found = []
    for hour, counts in sorted(hours.items()):
        offset = int((hour - start).total_seconds() // 3600)
        if 0 <= offset < FIRST_HOURS:
            found.append(HourCount(hour, offset, *(counts.get(name, 0) for name in HOURLY)))
    return tuple(found)


def _funnel(conn: Connection, row: Any, provider: dict[str, int],
            refused: tuple[BatchFailure, ...], now: datetime, supporter_ids: bool,
            first_hours: tuple[HourCount, ...]) -> MailingFunnel:
    steps = [("planned", "Recipients planned", row.recipients_planned),
             ("sent", "Sent (accepted by SendGrid)", row.recipients_sent),
             ("delivered", "Delivered", provider["delivered"]),
             ("clicked", "Clicked the pledge link", provider["clicked"]),
             ("pledged", "Pledged afterwards", row.pledged),
             ("confirmed", "Confirmed ≥ 1 letter afterwards", row.confirmed)]
    funnel = tuple(Stage(name, label, people,
                         _share(people, steps[i - 1][2]) if i else None)
                   for i, (name, label, people) in enumerate(steps))
    problems = tuple(Problem(name, label, provider[name], _share(provider[name],
                                                                 row.recipients_sent))
                     for name, label in PROBLEMS.items())
    total, failures = _recipient_failures(conn, row.mailing_id, supporter_ids)
    label = KIND_LABELS.get(row.kind, row.kind)
    return MailingFunnel(
        mailing_id=row.mailing_id, kind=row.kind,
        label=f"{label} {row.sequence}" if row.kind in NUMBERED else label,
        planned_at=as_utc(row.planned_at), status=_status(row), progress=_progress(row, now),
        funnel=funnel, opened=provider["opened"], opened_machine=provider["opened_machine"],
        problems=problems, batch_failures=refused, recipient_failures_total=total,
        recipient_failures=failures, first_hours=first_hours)


def _status(row: Any) -> str:
    if row.recipients_planned == 0:
        return "empty"
    if row.completed_at is None:
        return "sending" if row.first_outcome_at is not None else "planned"
    if row.recipients_sent == 0:
        return "failed"
    return "partly_failed" if row.recipients_failed else "sent"


def _progress(row: Any, now: datetime) -> Progress:
    handled = row.recipients_sent + row.recipients_failed
    running = row.completed_at is None and row.recipients_planned > 0
    rate = eta = None
    if row.last_outcome_at is not None and handled:
        minutes = (as_utc(row.last_outcome_at) - as_utc(row.planned_at)).total_seconds() / 60
        rate = handled / minutes if minutes > 0 else None
        if running and rate:
            remaining = max(row.recipients_planned - handled, 0)
            eta = max(as_utc(row.last_outcome_at) + timedelta(minutes=remaining / rate), now)
    return Progress(
        row.batches_planned, row.batches_accepted, row.batches_failed, row.recipients_planned,
        row.recipients_sent, row.recipients_failed, running, rate, eta,
        None if row.completed_at is None else as_utc(row.completed_at))


def _recipient_failures(conn: Connection, mailing_id: str, supporter_ids: bool
                        ) -> tuple[int, tuple[RecipientFailure, ...]]:
    f = mail_recipient_failures.c
    total = conn.execute(select(func.count()).select_from(mail_recipient_failures)
                         .where(f.mailing_id == mailing_id)).scalar_one()
    if not total:
        return 0, ()
    rows = conn.execute(select(mail_recipient_failures).where(f.mailing_id == mailing_id)
                        .order_by(f.failed_at.desc(), f.delivery_id)
                        .limit(RECIPIENT_FAILURES_SHOWN))
    return int(total), tuple(RecipientFailure(
        r.delivery_id, r.batch_id, r.supporter_id if supporter_ids else None, r.reason,
        as_utc(r.failed_at)) for r in rows)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None

"""The cases list: each case with its actions' reference, deadline, counts and pending news.

One query for the rows (cases joined to its actions, counters and timeline, grouped per
case) and one for the sparklines, whatever the number of cases: no query per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, and_, case, exists, func, or_, select

from campaign.infra.tables import (
    action_counters,
    actions,
    case_timeline,
    cases,
    letters_per_target_day,
)
from events import as_utc

SPARK_DAYS = 14
CaseStatus = Literal["open", "closed"]


@dataclass(frozen=True)
class CaseFilter:
    """What the list is narrowed to; every field optional."""

    status: CaseStatus | None = None
    country: str | None = None
    deadline_within: timedelta | None = None
    has_pending: bool | None = None
    search: str | None = None
    case_id: str | None = None


@dataclass(frozen=True)
class CaseSummary:
    """One row of the cases list; counts of letters are confirmed letters, pledges are people
    pledging to one action (a pledge per supporter and action)."""

    case_id: str
    subject_name: str
    country: str
    status: str
    ua_number: str | None
    index_number: str | None
    newest_action_id: str | None
    newest_action_status: str | None
    actions: int
    next_deadline: datetime | None
    pledges: int
    letters: int
    pending_developments: int
    letters_per_day: tuple[int, ...]


def case_overview(conn: Connection, now: datetime, which: CaseFilter = CaseFilter(),
                  limit: int = 200) -> list[CaseSummary]:
    """Cases by nearest appeal deadline (cases with none last), then by name."""
    per_case = _per_case(now)
    newest = _newest_action()
    pending = (select(case_timeline.c.case_id, func.count().label("pending"))
               .where(case_timeline.c.pending_approval.is_(True))
               .group_by(case_timeline.c.case_id).subquery())
    query = (
        select(cases.c.case_id, cases.c.subject_name, cases.c.country, cases.c.status,
               newest.c.ua_number, newest.c.index_number, newest.c.action_id,
               newest.c.status.label("action_status"), per_case.c.actions,
               per_case.c.next_deadline, per_case.c.pledges, per_case.c.letters,
               pending.c.pending)
        .select_from(cases.outerjoin(per_case, per_case.c.case_id == cases.c.case_id)
                     .outerjoin(newest, newest.c.case_id == cases.c.case_id)
                     .outerjoin(pending, pending.c.case_id == cases.c.case_id))
        .where(*_conditions(which, now, per_case, pending))
        .order_by(case((per_case.c.next_deadline.is_(None), 1), else_=0),
                  per_case.c.next_deadline, cases.c.subject_name, cases.c.case_id)
        .limit(limit)
    )
    rows = conn.execute(query).all()
    spark = letters_per_day(conn, [r.case_id for r in rows], now.date())
    return [CaseSummary(
        case_id=r.case_id, subject_name=r.subject_name, country=r.country, status=r.status,
        ua_number=r.ua_number, index_number=r.index_number, newest_action_id=r.action_id,
        newest_action_status=r.action_status, actions=r.actions or 0,
        next_deadline=None if r.next_deadline is None else as_utc(r.next_deadline),
        pledges=int(r.pledges or 0), letters=int(r.letters or 0),
        pending_developments=r.pending or 0, letters_per_day=spark[r.case_id],
    ) for r in rows]


def _per_case(now: datetime) -> Any:
    """Per case: its actions, the nearest deadline still ahead of a launched one, its counts."""
    ahead = case((and_(actions.c.status == "launched", actions.c.deadline_at >= now),
                  actions.c.deadline_at))
    return (
        select(actions.c.case_id, func.count().label("actions"),
               func.min(ahead).label("next_deadline"),
               func.coalesce(func.sum(action_counters.c.pledges), 0).label("pledges"),
               func.coalesce(func.sum(action_counters.c.letters), 0).label("letters"))
        .select_from(actions.outerjoin(action_counters,
                                       action_counters.c.action_id == actions.c.action_id))
        .group_by(actions.c.case_id).subquery()
    )


def _newest_action() -> Any:
    """Each case's newest action (latest issued, then latest written): its reference."""
    ranked = select(
        actions.c.case_id, actions.c.action_id, actions.c.ua_number, actions.c.index_number,
        actions.c.status,
        func.row_number().over(partition_by=actions.c.case_id,
                               order_by=(actions.c.issued_on.desc(),
                                         actions.c.last_position.desc())).label("rank"),
    ).subquery()
    return select(ranked).where(ranked.c.rank == 1).subquery()


def _conditions(which: CaseFilter, now: datetime, per_case: Any, pending: Any) -> list[Any]:
    conditions: list[Any] = []
    if which.case_id is not None:
        conditions.append(cases.c.case_id == which.case_id)
    if which.status:
        conditions.append(cases.c.status == which.status)
    if which.country:
        conditions.append(cases.c.country == which.country.upper())
    if which.deadline_within is not None:
        conditions.append(per_case.c.next_deadline <= now + which.deadline_within)
    if which.has_pending is True:
        conditions.append(pending.c.pending > 0)
    elif which.has_pending is False:
        conditions.append(pending.c.pending.is_(None))
    if which.search and which.search.strip():
        conditions.append(_matches(which.search))
    return conditions


def _matches(search: str) -> Any:
    """The subject's name, or a reference of one of its actions ("UA 135/10", "EUR 58/…")."""
    text = search.strip().lower()
    if text.startswith("ua "):
        text = text[3:].strip()
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    referenced = exists().where(
        actions.c.case_id == cases.c.case_id,
        or_(func.lower(actions.c.ua_number).like(pattern, escape="\\"),
            func.lower(actions.c.index_number).like(pattern, escape="\\")))
    return or_(func.lower(cases.c.subject_name).like(pattern, escape="\\"), referenced)


def letters_per_day(conn: Connection, case_ids: list[str], today: date,
                    days: int = SPARK_DAYS) -> dict[str, tuple[int, ...]]:
    """Confirmed letters per UTC day over the last `days` days (oldest first), per case."""
    start = today - timedelta(days=days - 1)
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    if case_ids:
        rows = conn.execute(
            select(actions.c.case_id, letters_per_target_day.c.day,
                   func.sum(letters_per_target_day.c.letters).label("letters"))
            .select_from(letters_per_target_day.join(
                actions, actions.c.action_id == letters_per_target_day.c.action_id))
            .where(actions.c.case_id.in_(case_ids), letters_per_target_day.c.day >= start,
                   letters_per_target_day.c.day <= today)
            .group_by(actions.c.case_id, letters_per_target_day.c.day))
        for row in rows:
            counts[row.case_id][(row.day - start).days] = int(row.letters)
    return {case_id: tuple(counts[case_id]) for case_id in case_ids}


def case_letters_by_day(conn: Connection, case_id: str) -> dict[date, int]:
    """Confirmed letters per UTC day across all of one case's actions."""
    rows = conn.execute(
        select(letters_per_target_day.c.day,
               func.sum(letters_per_target_day.c.letters).label("letters"))
        .select_from(letters_per_target_day.join(
            actions, actions.c.action_id == letters_per_target_day.c.action_id))
        .where(actions.c.case_id == case_id)
        .group_by(letters_per_target_day.c.day))
    return {row.day: int(row.letters) for row in rows}

"""Reading the action dashboard: a handful of small queries on the dashboard's counters.

Every number comes from the `action_dashboard` projection's rows (and the action's own row
and officials), so the header, the charts, the tables and the CSV exports cannot disagree:
the header is the sum of the days, which is the sum of the per-official rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, get_args

from sqlalchemy import Column, Connection, Table, select

from campaign.domain.pledge import Channel
from campaign.infra.tables import (
    action_targets,
    actions,
    dashboard_days,
    dashboard_markers,
    dashboard_splits,
)
from campaign.read_models.action_dashboard import COUNTS
from events import as_utc

CHANNELS: tuple[str, ...] = get_args(Channel)
TOP = 10
OTHERS = "others"
"""The name of the row that adds up everything below the top ten."""


@dataclass(frozen=True)
class Counts:
    """People and letters, never mixed: see campaign/read_models/action_dashboard.py."""

    supporters: int = 0
    letters_pledged: int = 0
    letters_confirmed: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.supporters + other.supporters,
                      self.letters_pledged + other.letters_pledged,
                      self.letters_confirmed + other.letters_confirmed)

    @property
    def confirmation_rate(self) -> float | None:
        """Letters confirmed ÷ letters pledged, or None before any pledge."""
        if not self.letters_pledged:
            return None
        return self.letters_confirmed / self.letters_pledged


@dataclass(frozen=True)
class Split:
    """One bar: an official, a channel, a country or a language, and its counts."""

    name: str
    counts: Counts
    label: str = ""
    current: bool = True
    """False for an official an update dropped: shown, greyed."""


@dataclass(frozen=True)
class Day:
    """One UTC day's counts and the running totals at its end."""

    day: date
    counts: Counts
    running: Counts


@dataclass(frozen=True)
class Marker:
    """Launch, a numbered update, a deadline extension or the stop, on the time axis."""

    kind: str
    at: datetime
    number: int | None = None
    deadline_at: datetime | None = None


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows of one action."""

    action_id: str
    ua_number: str
    title: str
    status: str
    update_number: int
    deadline_at: datetime
    deadline_on: date
    deadline_timezone: str
    totals: Counts
    days: tuple[Day, ...]
    targets: tuple[Split, ...]
    channels: tuple[Split, ...]
    countries: tuple[Split, ...]
    languages: tuple[Split, ...]
    markers: tuple[Marker, ...] = field(default=())

    @property
    def launched_at(self) -> datetime | None:
        """When the action went out, if it did."""
        return next((m.at for m in self.markers if m.kind == "launched"), None)

    @property
    def updates(self) -> int:
        """How many numbered updates were published since the launch."""
        return sum(1 for m in self.markers if m.kind == "updated")


def read_dashboard(conn: Connection, action_id: str) -> Dashboard | None:
    """The dashboard of `action_id`, or None when there is no such action."""
    found = conn.execute(select(
        actions.c.ua_number, actions.c.title, actions.c.status, actions.c.update_number,
        actions.c.deadline_at, actions.c.deadline_on, actions.c.deadline_timezone,
    ).where(actions.c.action_id == action_id)).first()
    if found is None:
        return None
    days = read_days(conn, action_id)
    splits = _splits(conn, action_id)
    return Dashboard(
        action_id=action_id, ua_number=found.ua_number, title=found.title,
        status=found.status, update_number=found.update_number,
        deadline_at=as_utc(found.deadline_at), deadline_on=found.deadline_on,
        deadline_timezone=found.deadline_timezone,
        totals=days[-1].running if days else Counts(), days=days,
        targets=read_targets(conn, action_id, splits.get("target", {})),
        channels=tuple(Split(c, splits.get("channel", {}).get(c, Counts())) for c in CHANNELS),
        countries=top(splits.get("country", {})),
        languages=top(splits.get("language", {})),
        markers=read_markers(conn, action_id),
    )


def read_days(conn: Connection, action_id: str) -> tuple[Day, ...]:
    """Each UTC day that had a pledge or a letter, oldest first, with running totals."""
    rows = conn.execute(select(dashboard_days.c.day, *_count_columns(dashboard_days))
                        .where(dashboard_days.c.action_id == action_id)
                        .order_by(dashboard_days.c.day))
    days, running = [], Counts()
    for row in rows:
        counts = Counts(row.supporters, row.letters_pledged, row.letters_confirmed)
        running += counts
        days.append(Day(row.day, counts, running))
    return tuple(days)


def read_targets(conn: Connection, action_id: str,
                 counted: dict[str, Counts]) -> tuple[Split, ...]:
    """Every official the action ever had: current ones first, most letters confirmed first."""
    officials = conn.execute(
        select(action_targets.c.target_id, action_targets.c.name, action_targets.c.title,
               action_targets.c.current, action_targets.c.ordinal)
        .where(action_targets.c.action_id == action_id)).all()
    rows = [(not o.current, -counted.get(o.target_id, Counts()).letters_confirmed, o.ordinal,
             Split(o.target_id, counted.get(o.target_id, Counts()),
                   label=f"{o.name}, {o.title}" if o.title else o.name, current=o.current))
            for o in officials]
    # Letters to an official the action no longer names at all still count (kept, last).
    known = {o.target_id for o in officials}
    rows += [(True, 0, len(rows), Split(t, c, label=t, current=False))
             for t, c in sorted(counted.items()) if t not in known]
    return tuple(split for *_, split in sorted(rows, key=lambda r: r[:3]))


def read_markers(conn: Connection, action_id: str) -> tuple[Marker, ...]:
    """The action's launch, updates, extensions and stop, in the order they happened."""
    rows = conn.execute(select(dashboard_markers)
                        .where(dashboard_markers.c.action_id == action_id)
                        .order_by(dashboard_markers.c.position))
    return tuple(Marker(r.kind, as_utc(r.at), r.number,
                        as_utc(r.deadline_at) if r.deadline_at else None) for r in rows)


def top(counted: dict[str, Counts], size: int = TOP) -> tuple[Split, ...]:
    """The `size` largest by people (then letters), and one row adding up the others."""
    ranked = sorted(counted.items(),
                    key=lambda item: (-item[1].supporters, -item[1].letters_confirmed, item[0]))
    shown = [Split(name, counts) for name, counts in ranked[:size]]
    rest = [counts for _, counts in ranked[size:]]
    if rest:
        shown.append(Split(OTHERS, sum(rest, Counts()), label="Others"))
    return tuple(shown)


def _splits(conn: Connection, action_id: str) -> dict[str, dict[str, Counts]]:
    rows = conn.execute(
        select(dashboard_splits.c.dimension, dashboard_splits.c.name,
               *_count_columns(dashboard_splits))
        .where(dashboard_splits.c.action_id == action_id))
    found: dict[str, dict[str, Counts]] = {}
    for row in rows:
        found.setdefault(row.dimension, {})[row.name] = Counts(
            row.supporters, row.letters_pledged, row.letters_confirmed)
    return found


def _count_columns(table: Table) -> list[Column[Any]]:
    return [table.c[name] for name in COUNTS]

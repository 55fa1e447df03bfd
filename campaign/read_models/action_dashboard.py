"""Catch-up projection: what the live action dashboard shows, kept as counters.

Per action and UTC day, and per official, channel, country and language, three counts
that must never be mixed up: supporters who pledged (people), letters pledged (each pledge
names one or more officials: one letter each) and letters confirmed. The dashboard reads a
few dozen rows; nothing scans the log or the pledges per request.

The supporter's country and language are the ones the log gave them when they pledged or
confirmed. The projection keeps its own copy (`dashboard_supporters`), updated in log
order, rather than reading the supporters read model, which holds only the latest values:
a rebuild then counts every pledge where it was counted live, even after the supporter
moved country or was erased (their row goes; the counts stay).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Table, delete, select

from campaign.domain import action, pledge, preferences, supporter
from campaign.domain.codec import from_data
from campaign.infra.tables import (
    dashboard_days,
    dashboard_markers,
    dashboard_splits,
    dashboard_supporters,
)
from events import StoredEvent, projections
from events.projections import Mode
from events.sql import insert_rows, merge_rows, upsert

COUNTS = ("supporters", "letters_pledged", "letters_confirmed")
UNKNOWN = ""
"""The country or language of a supporter the projection never saw registered."""

SUPPORTER_EVENTS = frozenset({
    supporter.SupporterRegistered.type_name, preferences.PreferencesChanged.type_name,
    supporter.SupporterErased.type_name,
})
MARKER_EVENTS = frozenset({
    action.ActionLaunched.type_name, action.ActionUpdated.type_name,
    action.DeadlineExtended.type_name, action.ActionClosed.type_name,
})
PLEDGED, LETTER = pledge.Pledged.type_name, pledge.LetterConfirmed.type_name


@dataclass
class Tally:
    """The batch's increments, added up before one upsert per row."""

    days: Counter[tuple[str, date, str]]
    splits: Counter[tuple[str, str, str, str]]

    def add(self, action_id: str, day: date, splits: Iterable[tuple[str, str]],
            count: str, n: int = 1) -> None:
        """Add `n` to `count` on the action's day and on each (dimension, name) split."""
        self.days[(action_id, day, count)] += n
        for dimension, name in splits:
            self.splits[(action_id, dimension, name, count)] += n


class ActionDashboardProjection:
    """Counters per action for the dashboard; they may trail the writes by a clock tick."""

    name = "action_dashboard"
    mode: Mode = "catch-up"
    tables: Sequence[Table] = (dashboard_days, dashboard_splits, dashboard_supporters,
                               dashboard_markers)
    event_types: frozenset[str] | None = frozenset(
        {PLEDGED, LETTER, *SUPPORTER_EVENTS, *MARKER_EVENTS})
    reads = frozenset({"data"})  # what a rebuild reads of each event

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Follow the batch in order with the supporters it needs in memory, then write."""
        people = Supporters.read(conn, [e.data["supporter_id"] for e in events
                                        if e.type in (PLEDGED, LETTER)])
        tally = Tally(Counter(), Counter())
        markers: list[dict[str, Any]] = []
        follow(events, people, tally, markers)
        people.write(conn)
        write_tally(conn, tally)
        if markers:
            conn.execute(dashboard_markers.insert(), markers)

    def replay(self) -> DashboardReplay:
        """A rebuild's fold: the whole log's counts and supporters in memory, written once."""
        return DashboardReplay()


class DashboardReplay:
    """What `apply` leaves for the whole log: its tables start empty, so the supporters it
    needs are the ones the log registered before, and every count is added up once.

    The supporters are held until there are more than `REPLAY_ROWS`, then written as
    `apply` writes them; from then on a page's supporters not in memory are read from the
    table first, as `apply` reads them. The counts stay in memory: their rows grow with
    actions and days, not with the log."""

    def __init__(self) -> None:
        self.people = Supporters()  # the tables start empty
        self.written = False
        self.tally = Tally(Counter(), Counter())
        self.markers: list[dict[str, Any]] = []

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        if self.written:
            self.people.recall(conn, [e.data["supporter_id"] for e in events
                                      if e.type in (PLEDGED, LETTER)])
        follow(events, self.people, self.tally, self.markers)
        if len(self.people.known) > projections.REPLAY_ROWS:
            self.write_people(conn)
            self.people, self.written = Supporters(), True

    def write_people(self, conn: Connection) -> None:
        if self.written:
            self.people.write(conn, merge=True)
        else:
            insert_rows(conn, dashboard_supporters, self.people.living())

    def finish(self, conn: Connection) -> None:
        self.write_people(conn)
        days, splits = tally_rows(self.tally)
        insert_rows(conn, dashboard_days, days)
        insert_rows(conn, dashboard_splits, splits)
        insert_rows(conn, dashboard_markers, self.markers)


def follow(events: Sequence[StoredEvent], people: Supporters, tally: Tally,
           markers: list[dict[str, Any]]) -> None:
    """Count the events in log order into `tally` and `markers`, following `people`."""
    for stored in events:
        if stored.type == PLEDGED:
            _pledged(tally, stored.data, people.of(stored.data["supporter_id"]))
        elif stored.type == LETTER:
            _letter(tally, stored.data, people.of(stored.data["supporter_id"]))
        elif stored.type in SUPPORTER_EVENTS:
            people.follow(stored)
        else:
            markers.append(marker_row(stored))


def _pledged(tally: Tally, data: dict[str, Any], person: tuple[str, str]) -> None:
    action_id, targets = data["action_id"], data["target_ids"]
    day = utc_day(data["pledged_at"])
    country, language = person
    people = [("country", country), ("language", language)]
    # One person, one letter to each official named: each official's split counts both once.
    tally.add(action_id, day, people, "supporters")
    tally.add(action_id, day, people, "letters_pledged", len(targets))
    for target_id in targets:
        tally.splits[(action_id, "target", target_id, "supporters")] += 1
        tally.splits[(action_id, "target", target_id, "letters_pledged")] += 1


def _letter(tally: Tally, data: dict[str, Any], person: tuple[str, str]) -> None:
    country, language = person
    tally.add(data["action_id"], utc_day(data["confirmed_at"]),
              [("target", data["target_id"]), ("channel", data["channel"]),
               ("country", country), ("language", language)], "letters_confirmed")


def utc_day(instant: str) -> date:
    """The UTC day of an instant as the codec stores it."""
    return datetime.fromisoformat(instant).astimezone(UTC).date()


def write_tally(conn: Connection, tally: Tally) -> None:
    """One upsert per day and per split row, adding the batch's counts."""
    days, splits = tally_rows(tally)
    _add(conn, dashboard_days, days, ["action_id", "day"])
    _add(conn, dashboard_splits, splits, ["action_id", "dimension", "name"])


def tally_rows(tally: Tally) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The tally as rows of `dashboard_days` and of `dashboard_splits`."""
    days: dict[tuple[str, date], dict[str, Any]] = {}
    for (action_id, day, count), n in tally.days.items():
        row = days.setdefault((action_id, day), _zero(action_id=action_id, day=day))
        row[count] += n
    splits: dict[tuple[str, str, str], dict[str, Any]] = {}
    for (action_id, dimension, name, count), n in tally.splits.items():
        row = splits.setdefault((action_id, dimension, name),
                                _zero(action_id=action_id, dimension=dimension, name=name))
        row[count] += n
    return list(days.values()), list(splits.values())


def _zero(**key: Any) -> dict[str, Any]:
    return {**key, **dict.fromkeys(COUNTS, 0)}


def _add(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
    # Sorted, so two runners (a rebuild waits on the checkpoint anyway) lock rows in one order.
    rows.sort(key=lambda row: tuple(str(row[k]) for k in keys))
    upsert(conn, table, rows, keys, lambda new: {
        count: table.c[count] + getattr(new, count) for count in COUNTS})


def marker_row(stored: StoredEvent) -> dict[str, Any]:
    """The time chart's marker for a launch, a numbered update, an extension or the stop."""
    event = from_data(stored.type, stored.data)
    row: dict[str, Any] = {"action_id": stored.stream_id.removeprefix("action-"),
                           "position": stored.position, "number": None, "deadline_at": None}
    if isinstance(event, action.ActionLaunched):
        row.update(kind="launched", at=event.launched_at)
    elif isinstance(event, action.ActionUpdated):
        row.update(kind="updated", number=event.number, at=event.published_at)
    elif isinstance(event, action.DeadlineExtended):
        row.update(kind="extended", number=event.update_number, at=event.extended_at,
                   deadline_at=event.new_deadline.ends_at())
    else:
        assert isinstance(event, action.ActionClosed)
        row.update(kind="closed", at=event.closed_at)
    return row


class Supporters:
    """The country and language of the batch's supporters, followed through the batch."""

    def __init__(self, known: dict[str, tuple[str, str] | None] | None = None) -> None:
        self.known: dict[str, tuple[str, str] | None] = {} if known is None else known
        self.changed: set[str] = set()

    @classmethod
    def read(cls, conn: Connection, wanted: Iterable[str]) -> Supporters:
        """The ones of `wanted` the projection knows, read from its table."""
        people = cls()
        people.recall(conn, wanted)
        return people

    def recall(self, conn: Connection, wanted: Iterable[str]) -> None:
        """Add the ones of `wanted` not in memory that the projection's table knows."""
        ids = sorted(set(wanted) - self.known.keys())
        for chunk in (ids[n:n + 1000] for n in range(0, len(ids), 1000)):
            found = conn.execute(select(dashboard_supporters).where(
                dashboard_supporters.c.supporter_id.in_(chunk)))
            self.known.update({r.supporter_id: (r.country, r.language) for r in found})

    def of(self, supporter_id: str) -> tuple[str, str]:
        """(country, language), or UNKNOWN for both when the log never told us."""
        return self.known.get(supporter_id) or (UNKNOWN, UNKNOWN)

    def follow(self, stored: StoredEvent) -> None:
        """Registration and a change of preferences set both; erasure forgets them."""
        supporter_id = stored.stream_id.removeprefix("supporter-")
        if stored.type == supporter.SupporterErased.type_name:
            self.known[supporter_id] = None
        else:
            self.known[supporter_id] = (stored.data["country"], stored.data["locale"])
        self.changed.add(supporter_id)

    def write(self, conn: Connection, *, merge: bool = False) -> None:
        """Store what changed: upsert the living, delete the erased (`merge`: the living
        copied and merged at once, for many rows)."""
        gone = sorted(s for s in self.changed if self.known[s] is None)
        living = self.living()
        if gone:
            conn.execute(delete(dashboard_supporters)
                         .where(dashboard_supporters.c.supporter_id.in_(gone)))
        (merge_rows if merge else upsert)(conn, dashboard_supporters, living, ["supporter_id"],
                                          _new_place)

    def living(self) -> list[dict[str, Any]]:
        """The rows of the supporters changed and not erased, in id order."""
        return [{"supporter_id": s, "country": c, "language": lang}
                for s in sorted(self.changed)
                if (found := self.known[s]) is not None for c, lang in [found]]


def _new_place(new: Any) -> dict[str, Any]:
    """What a supporter's later registration or preferences change of their row."""
    return {"country": new.country, "language": new.language}

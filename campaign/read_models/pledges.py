"""Inline projection: pledges with status and due time, and the letter counts of actions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Table, Text, bindparam, func, select, update

from campaign.domain import pledge
from campaign.infra.tables import action_counters, letters_per_target_day, pledges, target_letters
from events import StoredEvent
from events.projections import BoundedReplay, FoldedWrite, Mode
from events.sql import insert_rows, upsert

STATUS_AFTER = {
    pledge.PledgeFulfilled.type_name: "fulfilled",
    pledge.PledgeLapsed.type_name: "lapsed",
    pledge.PledgeCancelled.type_name: "cancelled",
}


PLEDGED, LETTER = pledge.Pledged.type_name, pledge.LetterConfirmed.type_name
FULFILLED, MOVED = pledge.PledgeFulfilled.type_name, pledge.PledgeDueDateMoved.type_name

LETTER_FIELDS = ("letter_id", "target_id", "channel", "sent_on", "confirmed_at")
"""What the pledge's row keeps of each letter, in this order (an array, not an object: the
row is rewritten with every letter, so each byte is written again and again)."""
_LETTER_ENTRY = f"jsonb_build_array({', '.join(f'data->{name!r}' for name in LETTER_FIELDS)})"

# A pledge's id from its stream's id, in SQL (as `removeprefix("pledge-")`).
_PLEDGE_ID = "CASE WHEN left(stream_id, 7) = 'pledge-' THEN substr(stream_id, 8) ELSE stream_id END"


class PledgesProjection:
    """Pledge rows (status, due time, letters) for the API, the deadline scans and the
    decision on a letter (`campaign.application.pledges`)."""

    name = "pledges"
    mode: Mode = "inline"
    tables: Sequence[Table] = (pledges,)
    event_types: frozenset[str] | None = frozenset(e.type_name for e in pledge.EVENTS)
    reads = frozenset({"data", "stream_version"})  # what a rebuild reads of each event

    # On PostgreSQL a new pledge's row, and a letter's count and entry (with the fulfilment
    # it brings), are written inside the append's statement: what `apply` writes for them,
    # from the stored events.
    folded = (
        FoldedWrite(frozenset({pledge.Pledged.type_name}), f"""
  INSERT INTO pledges (pledge_id, action_id, supporter_id, status, target_ids,
                       letters_promised, letters_confirmed, pledged_at, due_at, version,
                       letters)
  SELECT {_PLEDGE_ID}, data->>'action_id', data->>'supporter_id', 'open',
         (data->'target_ids')::json, (data->>'letters_promised')::integer, 0,
         (data->>'pledged_at')::timestamptz, (data->>'due_at')::timestamptz, stream_version,
         '[]'::jsonb
    FROM inserted WHERE type = '{PLEDGED}'"""),
        # A letter, and the fulfilment the last promised one brings in the same batch.
        FoldedWrite(frozenset({LETTER, FULFILLED}), f"""
  UPDATE pledges SET letters_confirmed = pledges.letters_confirmed + letters.n,
                     letters = pledges.letters || letters.added,
                     status = CASE WHEN letters.fulfilled THEN 'fulfilled'
                                   ELSE pledges.status END,
                     version = letters.version
    FROM (SELECT {_PLEDGE_ID} AS pledge_id,
                 count(*) FILTER (WHERE type = '{LETTER}') AS n,
                 max(stream_version) AS version,
                 coalesce(jsonb_agg({_LETTER_ENTRY} ORDER BY stream_version)
                          FILTER (WHERE type = '{LETTER}'), '[]'::jsonb) AS added,
                 bool_or(type = '{FULFILLED}') AS fulfilled
            FROM inserted WHERE type IN ('{LETTER}', '{FULFILLED}')
           GROUP BY stream_id) AS letters
   WHERE pledges.pledge_id = letters.pledge_id"""),
    )

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Fold the batch in memory: new pledges are inserted whole, the others changed by
        one UPDATE each (letters added, the last status and due time, the last version)."""
        fold = PledgesFold(copy=False)
        fold.add(conn, events)
        fold.write(conn)

    def replay(self) -> BoundedReplay:
        """A rebuild's fold: pledges' rows kept in memory across pages, copied at once."""
        return BoundedReplay(lambda _written: PledgesFold(copy=True))


class PledgesFold:
    """Pages of pledge events folded: the rows of the pledges they create, and for earlier
    pledges what they change. Written, new rows are inserted (copied, for a rebuild) and
    changes go to the rows there; an event of a pledge never created changes nothing, as
    its UPDATE finds no row."""

    def __init__(self, *, copy: bool) -> None:
        self.copy = copy
        self.new: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.new) + len(self.changed)

    def add(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        new, changed = self.new, self.changed
        for stored in events:
            pledge_id = stored.stream_id.removeprefix("pledge-")
            if stored.type == PLEDGED:
                new[pledge_id] = _pledged_row(pledge_id, stored)
                continue
            row = new.get(pledge_id)
            if row is not None:  # a new pledge's own row
                _apply(row, _ROW_FIELDS, stored)
                continue
            change = changed.get(pledge_id)
            if change is None:
                change = changed[pledge_id] = {
                    "id": pledge_id, "more": 0, "added": [], "new_status": None, "due": None}
            _apply(change, _CHANGE_FIELDS, stored)

    def write(self, conn: Connection) -> None:
        if self.new and self.copy:
            insert_rows(conn, pledges, list(self.new.values()))
        elif self.new:
            # RETURNING: many rows per statement (see events.sql.upsert)
            conn.execute(pledges.insert().returning(pledges.c.pledge_id),
                         list(self.new.values())).all()
        if self.changed:
            _add_letters(conn, self.changed)
            conn.execute(_CHANGE, sorted(self.changed.values(), key=lambda row: row["id"]))


_ROW_FIELDS = ("letters_confirmed", "letters", "due_at", "status", "version")
"""A new pledge's row: its count of letters, letters, deadline, status and version."""
_CHANGE_FIELDS = ("more", "added", "due", "new_status", "new_version")
"""The same, as a change to an older pledge's row names them (letters added, not all)."""


def _apply(target: dict[str, Any], fields: tuple[str, ...], stored: StoredEvent) -> None:
    """One event after `Pledged` applied to a new row or to a change, under `fields`."""
    count, letters, due, status, version = fields
    if stored.type == LETTER:
        target[count] += 1
        target[letters].append(letter_entry(stored.data))
    elif stored.type == MOVED:
        target[due] = datetime.fromisoformat(stored.data["new_due_at"])
    elif stored.type in STATUS_AFTER:
        target[status] = STATUS_AFTER[stored.type]
    target[version] = stored.stream_version


def _pledged_row(pledge_id: str, stored: StoredEvent) -> dict[str, Any]:
    """A new pledge's row, as `Pledged` writes it."""
    data = stored.data
    return {
        "pledge_id": pledge_id, "action_id": data["action_id"],
        "supporter_id": data["supporter_id"], "status": "open",
        "target_ids": list(data["target_ids"]),
        "letters_promised": data["letters_promised"], "letters_confirmed": 0,
        "pledged_at": datetime.fromisoformat(data["pledged_at"]),
        "due_at": datetime.fromisoformat(data["due_at"]),
        "version": stored.stream_version, "letters": []}


def letter_entry(data: dict[str, Any]) -> list[Any]:
    """A confirmed letter as the pledge's row keeps it: its event's `LETTER_FIELDS`, as
    they are stored (what the folded write's `_LETTER_ENTRY` keeps)."""
    return [data[name] for name in LETTER_FIELDS]


def _add_letters(conn: Connection, changed: dict[str, dict[str, Any]]) -> None:
    """Each changed row's letters after the batch (`new_letters`), or None (SQL NULL, the
    column's type says) to keep them: nothing added, or letters unknown (NULL) stay so."""
    adding = sorted(pledge_id for pledge_id, row in changed.items() if row["added"])
    known = dict(conn.execute(select(pledges.c.pledge_id, pledges.c.letters)
                              .where(pledges.c.pledge_id.in_(adding))).all()) if adding else {}
    for pledge_id, row in changed.items():
        added, before = row.pop("added"), known.get(pledge_id)
        row["new_letters"] = None if before is None or not added else [*before, *added]


_CHANGE = (
    update(pledges).where(pledges.c.pledge_id == bindparam("id"))
    .values(letters_confirmed=pledges.c.letters_confirmed + bindparam("more"),
            letters=func.coalesce(bindparam("new_letters", type_=pledges.c.letters.type),
                                  pledges.c.letters),
            status=func.coalesce(bindparam("new_status", type_=Text()), pledges.c.status),
            due_at=func.coalesce(bindparam("due", type_=DateTime(timezone=True)),
                                 pledges.c.due_at),
            version=bindparam("new_version"))
)


class LetterCountsProjection:
    """Pledges and confirmed letters per action, target and day, following the log.

    Every pledge and letter of an action would update the same counter rows; kept inline
    they serialised all writers of a popular action on those rows. The numbers a
    campaigner watches may trail the writes by a clock tick.
    """

    name = "letter_counts"
    mode: Mode = "catch-up"
    tables: Sequence[Table] = (action_counters, target_letters, letters_per_target_day)
    event_types: frozenset[str] | None = frozenset(
        {pledge.Pledged.type_name, pledge.LetterConfirmed.type_name})
    reads = frozenset({"data"})  # what a rebuild reads of each event

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Add up the batch first, then one multi-row upsert per table."""
        counts = LetterCounts()
        counts.add(events)
        for table, keys, rows in counts.rows():
            count(conn, table, keys, rows)

    def replay(self) -> LetterCountsReplay:
        """A rebuild's fold: the whole log's counts, written once."""
        return LetterCountsReplay()


class LetterCounts:
    """Pledges and letters added up per action, per target and per target and day."""

    def __init__(self) -> None:
        self.per_action: Counter[str] = Counter()
        self.letters: Counter[str] = Counter()
        self.per_target: Counter[tuple[str, str]] = Counter()
        self.per_day: Counter[tuple[str, str, str]] = Counter()

    def add(self, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            data = stored.data
            if stored.type == PLEDGED:
                self.per_action[data["action_id"]] += 1
            else:
                self.letters[data["action_id"]] += 1
                self.per_target[(data["action_id"], data["target_id"])] += 1
                self.per_day[(data["action_id"], data["target_id"], data["sent_on"])] += 1

    def rows(self) -> list[tuple[Table, list[str], list[dict[str, Any]]]]:
        """Each table with its key columns and its rows of counts, in key order."""
        return [
            (action_counters, ["action_id"], [
                {"action_id": a, "pledges": self.per_action[a], "letters": self.letters[a]}
                for a in sorted(self.per_action.keys() | self.letters.keys())]),
            (target_letters, ["action_id", "target_id"], [
                {"action_id": a, "target_id": t, "letters": n}
                for (a, t), n in sorted(self.per_target.items())]),
            (letters_per_target_day, ["action_id", "target_id", "day"], [
                {"action_id": a, "target_id": t, "day": date.fromisoformat(d), "letters": n}
                for (a, t, d), n in sorted(self.per_day.items())]),
        ]


class LetterCountsReplay:
    """The counts of the whole log, added up in memory and copied into the emptied tables."""

    def __init__(self) -> None:
        self.counts = LetterCounts()

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        self.counts.add(events)

    def finish(self, conn: Connection) -> None:
        for table, _keys, rows in self.counts.rows():
            insert_rows(conn, table, rows)


def count(conn: Connection, table: Table, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Add each row's counts to the counter row at its key, creating it at those values."""
    if rows:
        counts = [name for name in rows[0] if name not in keys]
        upsert(conn, table, rows, keys, lambda new: {
            name: table.c[name] + getattr(new, name) for name in counts})

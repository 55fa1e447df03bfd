"""Inline projection: pledges with status and due time, and the letter counts of actions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, Table, bindparam, update

from campaign.domain import pledge
from campaign.domain.codec import from_data
from campaign.infra.tables import action_counters, letters_per_target_day, pledges, target_letters
from events import StoredEvent
from events.projections import FoldedWrite, Mode
from events.sql import upsert

STATUS_AFTER = {
    pledge.PledgeFulfilled.type_name: "fulfilled",
    pledge.PledgeLapsed.type_name: "lapsed",
    pledge.PledgeCancelled.type_name: "cancelled",
}


# The statements of every pledge and letter, built once.
_INSERT = pledges.insert()
_LETTER = (update(pledges).where(pledges.c.pledge_id == bindparam("id"))
           .values(letters_confirmed=pledges.c.letters_confirmed + 1,
                   version=bindparam("version")))


# A pledge's id from its stream's id, in SQL (as `removeprefix("pledge-")`).
_PLEDGE_ID = "CASE WHEN left(stream_id, 7) = 'pledge-' THEN substr(stream_id, 8) ELSE stream_id END"


class PledgesProjection:
    """Pledge rows (status, due time) for the API and the deadline scans."""

    name = "pledges"
    mode: Mode = "inline"
    tables: Sequence[Table] = (pledges,)
    event_types: frozenset[str] | None = frozenset(e.type_name for e in pledge.EVENTS)

    # On PostgreSQL a new pledge's row and a letter's count are written inside the append's
    # statement: what `_pledged` and `_letter` write, from the stored events.
    folded = (
        FoldedWrite(frozenset({pledge.Pledged.type_name}), f"""
  INSERT INTO pledges (pledge_id, action_id, supporter_id, status, target_ids,
                       letters_promised, letters_confirmed, pledged_at, due_at, version)
  SELECT {_PLEDGE_ID}, data->>'action_id', data->>'supporter_id', 'open',
         (data->'target_ids')::json, (data->>'letters_promised')::integer, 0,
         (data->>'pledged_at')::timestamptz, (data->>'due_at')::timestamptz, stream_version
    FROM inserted WHERE type = '{pledge.Pledged.type_name}'"""),
        FoldedWrite(frozenset({pledge.LetterConfirmed.type_name}), f"""
  UPDATE pledges SET letters_confirmed = pledges.letters_confirmed + letters.n,
                     version = letters.version
    FROM (SELECT {_PLEDGE_ID} AS pledge_id, count(*) AS n, max(stream_version) AS version
            FROM inserted WHERE type = '{pledge.LetterConfirmed.type_name}'
           GROUP BY stream_id) AS letters
   WHERE pledges.pledge_id = letters.pledge_id"""),
    )

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Apply each pledge event in order."""
        for stored in events:
            event = from_data(stored.type, stored.data)
            pledge_id = stored.stream_id.removeprefix("pledge-")
            if isinstance(event, pledge.Pledged):
                self._pledged(conn, pledge_id, event, stored.stream_version)
            elif isinstance(event, pledge.LetterConfirmed):
                self._letter(conn, pledge_id, event, stored.stream_version)
            elif isinstance(event, pledge.PledgeDueDateMoved):
                self._set(conn, pledge_id, stored, due_at=event.new_due_at)
            elif stored.type in STATUS_AFTER:
                self._set(conn, pledge_id, stored, status=STATUS_AFTER[stored.type])

    def _pledged(self, conn: Connection, pledge_id: str, event: pledge.Pledged,
                 version: int) -> None:
        conn.execute(_INSERT, dict(
            pledge_id=pledge_id, action_id=event.action_id, supporter_id=event.supporter_id,
            status="open", target_ids=list(event.target_ids),
            letters_promised=event.letters_promised, letters_confirmed=0,
            pledged_at=event.pledged_at, due_at=event.due_at, version=version,
        ))

    def _letter(self, conn: Connection, pledge_id: str, event: pledge.LetterConfirmed,
                version: int) -> None:
        conn.execute(_LETTER, {"id": pledge_id, "version": version})

    def _set(self, conn: Connection, pledge_id: str, stored: StoredEvent, **values: Any) -> None:
        conn.execute(update(pledges).where(pledges.c.pledge_id == pledge_id)
                     .values(version=stored.stream_version, **values))


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

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Add up the batch first, then one upsert per counter row."""
        per_action: Counter[str] = Counter()
        letters: Counter[str] = Counter()
        per_target: Counter[tuple[str, str]] = Counter()
        per_day: Counter[tuple[str, str, date]] = Counter()
        for stored in events:
            event = from_data(stored.type, stored.data)
            if isinstance(event, pledge.Pledged):
                per_action[event.action_id] += 1
            elif isinstance(event, pledge.LetterConfirmed):
                letters[event.action_id] += 1
                per_target[(event.action_id, event.target_id)] += 1
                per_day[(event.action_id, event.target_id, event.sent_on)] += 1
        for action_id in per_action.keys() | letters.keys():
            count(conn, action_counters, {"action_id": action_id},
                  pledges=per_action[action_id], letters=letters[action_id])
        for (action_id, target_id), n in per_target.items():
            count(conn, target_letters, {"action_id": action_id, "target_id": target_id},
                  letters=n)
        for (action_id, target_id, day), n in per_day.items():
            count(conn, letters_per_target_day,
                  {"action_id": action_id, "target_id": target_id, "day": day}, letters=n)


def count(conn: Connection, table: Table, key: dict[str, Any], **increments: int) -> None:
    """Add `increments` to the counter row at `key`, creating it at those values."""
    upsert(conn, table, [{**key, **increments}], list(key), lambda new: {
        name: table.c[name] + getattr(new, name) for name in increments
    })

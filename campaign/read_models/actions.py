"""Inline projection: one row per urgent action with its full document, plus its targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, update

from campaign.domain import action
from campaign.domain.codec import to_plain
from campaign.infra.event_mapping import replay
from campaign.infra.tables import action_targets, actions
from events import EventStore, StoredEvent
from events.projections import Mode, latest_per_stream
from events.sql import upsert


class ActionsProjection:
    """Actions as the API shows them; their counters belong to the pledges projection."""

    name = "actions"
    mode: Mode = "inline"
    tables: Sequence[Table] = (actions, action_targets)
    event_types: frozenset[str] | None = frozenset(e.type_name for e in action.EVENTS)
    reads = frozenset({"stream_version"})  # what a rebuild reads of each event

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Rewrite the row of every action touched, from its replayed state."""
        for last in latest_per_stream(events).values():
            state, _ = replay(self.store, conn, last.stream_id, action.AGGREGATE,
                              to_version=last.stream_version)
            if state.content is None:
                continue
            upsert(conn, actions, [action_row(state, last)], ["action_id"],
                   lambda new: {c: getattr(new, c) for c in ACTION_COLUMNS})
            write_targets(conn, state)


ACTION_COLUMNS = (
    "case_id", "status", "ua_number", "index_number", "title", "country", "issued_on",
    "deadline_on", "deadline_timezone", "deadline_at", "update_number", "document", "version",
    "last_position",
)


def action_row(state: action.State, last: StoredEvent) -> dict[str, Any]:
    """The columns of `actions` for one action's state (counters excluded)."""
    content = state.content
    assert content is not None
    return {
        "action_id": state.action_id,
        "case_id": content.case_id,
        "status": state.status,
        "ua_number": content.ua_number,
        "index_number": content.index_number,
        "title": content.title,
        "country": content.country,
        "issued_on": content.issued_on,
        "deadline_on": content.deadline.on,
        "deadline_timezone": content.deadline.timezone,
        "deadline_at": content.deadline.ends_at(),
        "update_number": state.update_number,
        "document": {
            **to_plain(content),
            "status": state.status,
            "update_number": state.update_number,
            "drafted_at": _iso(state.drafted_at),
            "launched_at": _iso(state.launched_at),
            "last_updated_at": _iso(state.last_updated_at),
            "closed_at": _iso(state.closed_at),
            "close_reason": state.close_reason,
            "close_note": state.close_note,
        },
        "version": last.stream_version,
        "last_position": last.position,
    }


def write_targets(conn: Connection, state: action.State) -> None:
    """Current targets in document order; a target dropped by an update stays, not current."""
    assert state.content is not None
    conn.execute(update(action_targets)
                 .where(action_targets.c.action_id == state.action_id)
                 .values(current=False))
    rows = [
        {"action_id": state.action_id, "target_id": t.target_id, "ordinal": n, "name": t.name,
         "title": t.title, "role": t.role, "current": True}
        for n, t in enumerate(state.content.targets)
    ]
    upsert(conn, action_targets, rows, ["action_id", "target_id"], lambda new: {
        "ordinal": new.ordinal, "name": new.name, "title": new.title, "role": new.role,
        "current": True,
    })


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None

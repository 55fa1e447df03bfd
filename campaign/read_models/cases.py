"""Inline projection: cases and their timelines of developments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, update

from campaign.domain import case
from campaign.domain.codec import from_data
from campaign.infra.event_mapping import replay
from campaign.infra.tables import case_timeline, cases
from events import EventStore, StoredEvent
from events.projections import Mode, latest_per_stream
from events.sql import upsert

DECISIONS = frozenset({case.DevelopmentApproved.type_name, case.DevelopmentRejected.type_name})
CASE_COLUMNS = ("status", "subject_name", "subject_kind", "country", "summary", "tags",
                "opened_at", "closed_at", "outcome", "version", "last_position")


class CasesProjection:
    """A case row mirrors the aggregate; the timeline gains one row per development."""

    name = "cases"
    mode: Mode = "inline"
    tables: Sequence[Table] = (cases, case_timeline)
    event_types: frozenset[str] | None = frozenset(e.type_name for e in case.EVENTS)

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Record developments and decisions on them, then rewrite each touched case's row."""
        for event in events:
            if event.type == case.DevelopmentRecorded.type_name:
                conn.execute(case_timeline.insert().values(timeline_row(event)))
            elif event.type in DECISIONS:
                decided = from_data(event.type, event.data)
                assert isinstance(decided, case.DevelopmentApproved | case.DevelopmentRejected)
                conn.execute(
                    update(case_timeline)
                    .where(case_timeline.c.case_id == decided.case_id,
                           case_timeline.c.development_id == decided.development_id)
                    .values(pending_approval=False, **decision(decided, actor_of(event)))
                )
        for last in latest_per_stream(events).values():
            state, _ = replay(self.store, conn, last.stream_id, case.AGGREGATE,
                              to_version=last.stream_version)
            if state.status != "none":
                upsert(conn, cases, [case_row(state, last)], ["case_id"],
                       lambda new: {c: getattr(new, c) for c in CASE_COLUMNS})


def case_row(state: case.State, last: StoredEvent) -> dict[str, Any]:
    """The columns of `cases` for one case's state."""
    return {
        "case_id": state.case_id, "status": state.status, "subject_name": state.subject_name,
        "subject_kind": state.subject_kind, "country": state.country, "summary": state.summary,
        "tags": list(state.tags), "opened_at": state.opened_at, "closed_at": state.closed_at,
        "outcome": state.outcome, "version": last.stream_version, "last_position": last.position,
    }


def timeline_row(event: StoredEvent) -> dict[str, Any]:
    """One development, its occurrence kept as reported (a date or a local time and zone)."""
    recorded = from_data(event.type, event.data)
    assert isinstance(recorded, case.DevelopmentRecorded)
    return {
        "case_id": recorded.case_id, "development_id": recorded.development_id,
        "kind": recorded.kind, "occurred": event.data["occurred"],
        "occurred_on": recorded.occurred.day, "summary": recorded.summary,
        "source": event.data["source"], "pending_approval": recorded.pending_approval,
        "recorded_at": recorded.recorded_at, "approved_at": None, "position": event.position,
        "recorded_by": actor_of(event),
    }


def decision(event: case.DevelopmentApproved | case.DevelopmentRejected, actor: str | None
             ) -> dict[str, Any]:
    """The timeline columns an approval or a rejection sets."""
    if isinstance(event, case.DevelopmentApproved):
        return {"approved_at": event.approved_at, "approved_by": actor}
    return {"rejected_at": event.rejected_at, "rejected_by": actor,
            "rejection_reason": event.reason}


def actor_of(event: StoredEvent) -> str | None:
    """Who appended `event`, as its metadata says (`token:<id>`, `partner:<id>`, `cli`)."""
    actor = (event.metadata or {}).get("actor")
    return actor if isinstance(actor, str) else None

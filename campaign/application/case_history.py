"""A case's whole history, newest first: its developments and decisions, its actions'
launches, numbered updates, deadline extensions and stops, and its closing.

Read from the case's own streams (the case's and each of its actions'), never from the
whole log: a case has a handful of actions and each a few dozen events at most. Every entry
carries the actor its event recorded (`token:<id>`, `partner:<id>`, `cli`…) and its time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from sqlalchemy import Connection, select

from campaign.domain import action, case
from campaign.domain.base import DomainEvent
from campaign.domain.codec import from_data
from campaign.domain.values import Deadline
from campaign.infra.tables import actions
from events import EventStore, StoredEvent, as_utc

EntryKind = Literal[
    "case_opened", "development_recorded", "development_approved", "development_rejected",
    "action_launched", "update_published", "deadline_extended", "action_closed", "case_closed",
]
DevelopmentStatus = Literal["pending", "approved", "rejected", "published"]
ACTION_EVENTS = {
    action.ActionLaunched.type_name: "action_launched",
    action.ActionUpdated.type_name: "update_published",
    action.DeadlineExtended.type_name: "deadline_extended",
    action.ActionClosed.type_name: "action_closed",
}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline; the fields that do not apply to its kind are None."""

    position: int
    kind: EntryKind
    at: datetime
    actor: str | None
    text: str | None = None
    action_id: str | None = None
    reference: str | None = None
    update_number: int | None = None
    old_deadline: Deadline | None = None
    new_deadline: Deadline | None = None
    development_id: str | None = None
    development_kind: str | None = None
    partner_id: str | None = None
    status: DevelopmentStatus | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class CaseHistory:
    """The case as it stands and its timeline, newest first."""

    state: case.State
    version: int
    entries: list[Entry]

    @property
    def pending(self) -> list[case.Development]:
        """Developments awaiting a campaigner's approval, oldest first."""
        return [d for d in self.state.developments.values() if d.pending_approval]


def case_history(store: EventStore, conn: Connection, case_id: str) -> CaseHistory | None:
    """The case's history, or None for no such case."""
    recorded = store.read_stream(case.case_stream(case_id), conn=conn)
    if not recorded:
        return None
    state = case.replay(from_data(e.type, e.data) for e in recorded)
    entries = [_case_entry(stored, from_data(stored.type, stored.data), state)
               for stored in recorded]
    found = conn.execute(select(actions.c.action_id, actions.c.ua_number)
                         .where(actions.c.case_id == case_id)).all()
    for action_id, ua_number in found:
        for stored in store.read_stream(action.action_stream(action_id), conn=conn):
            if stored.type in ACTION_EVENTS:
                entries.append(_action_entry(stored, from_data(stored.type, stored.data),
                                             f"UA {ua_number}"))
    entries.sort(key=lambda e: e.position, reverse=True)
    return CaseHistory(state, recorded[-1].stream_version, _with_decisions(entries))


def _with_decisions(entries: list[Entry]) -> list[Entry]:
    """Each development entry says who approved or rejected it, and when."""
    decisions = {e.development_id: e for e in entries
                 if e.kind in ("development_approved", "development_rejected")}
    return [replace(e, decided_by=decisions[e.development_id].actor,
                    decided_at=decisions[e.development_id].at)
            if e.kind == "development_recorded" and e.development_id in decisions else e
            for e in entries]


def _actor(stored: StoredEvent) -> str | None:
    actor = (stored.metadata or {}).get("actor")
    return actor if isinstance(actor, str) else None


def _case_entry(stored: StoredEvent, event: DomainEvent, state: case.State) -> Entry:
    at, actor = as_utc(stored.recorded_at), _actor(stored)
    match event:
        case case.CaseOpened():
            return Entry(stored.position, "case_opened", at, actor, event.summary)
        case case.DevelopmentRecorded():
            development = state.developments[event.development_id]
            return Entry(stored.position, "development_recorded", at, actor, event.summary,
                         development_id=event.development_id, development_kind=event.kind,
                         partner_id=event.source.partner_id, status=_status(development))
        case case.DevelopmentApproved() | case.DevelopmentRejected():
            development = state.developments[event.development_id]
            approved = isinstance(event, case.DevelopmentApproved)
            return Entry(stored.position,
                         "development_approved" if approved else "development_rejected",
                         at, actor, None if approved else development.rejection_reason,
                         development_id=event.development_id,
                         development_kind=development.kind,
                         partner_id=development.source.partner_id)
        case case.CaseClosed():
            return Entry(stored.position, "case_closed", at, actor, event.outcome)
    raise ValueError(f"not a case event: {stored.type}")


def _status(development: case.Development) -> DevelopmentStatus:
    if development.pending_approval:
        return "pending"
    if development.rejected_at is not None:
        return "rejected"
    return "approved" if development.approved_at is not None else "published"


def _action_entry(stored: StoredEvent, event: DomainEvent, reference: str) -> Entry:
    at, actor = as_utc(stored.recorded_at), _actor(stored)
    kind: EntryKind = ACTION_EVENTS[stored.type]  # type: ignore[assignment]
    action_id = str(stored.data["action_id"])
    entry = Entry(stored.position, kind, at, actor, action_id=action_id, reference=reference)
    match event:
        case action.ActionUpdated():
            return replace(entry, update_number=event.number, text=event.title)
        case action.DeadlineExtended():
            return replace(entry, update_number=event.update_number,
                           old_deadline=event.old_deadline, new_deadline=event.new_deadline)
        case action.ActionClosed():
            return replace(entry, text=": ".join(filter(None, (event.reason, event.note))))
    return entry

"""Catch-up projection and query: who did what to which stream, newest first.

Each row keeps an event's position, time, type, stream and the actor its metadata names
(`token:<id>`, `partner:<id>`, `supporter:<id>`, `public`, `cli`, `policy:<name>`); never
its data, so the audit shows no supporter's personal data, only ids. The one exception is an
operator's own words: a skipped event's note says what was skipped and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Table, select

from campaign.domain.codec import from_data
from campaign.domain.operations import SubscriptionEventSkipped, audit_note
from campaign.infra.tables import api_tokens, audit_entries, console_sessions
from events import StoredEvent, as_utc
from events.projections import Mode
from events.sql import insert_values

COLUMNS = ("position", "recorded_at", "actor", "event_type", "stream_id", "note")
SKIPPED = SubscriptionEventSkipped.type_name
UNKNOWN_ACTOR = "unknown"
"""The actor of an event whose metadata names none (events recorded before actors were)."""


class AuditProjection:
    """One row per event; nobody needs it the instant after a write, so it follows the log."""

    name = "audit"
    mode: Mode = "catch-up"
    tables: Sequence[Table] = (audit_entries,)

    event_types: frozenset[str] | None = None  # every event has an actor
    reads = frozenset({"recorded_at", "metadata", "data"})
    reads_data_of = frozenset({SKIPPED})  # for its note
    reads_metadata = frozenset({"actor"})

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Insert the batch's rows at once."""
        insert_values(conn, audit_entries, COLUMNS, [
            (e.position, e.recorded_at, _actor(e), e.type, e.stream_id,
             _note(e) if e.type == SKIPPED else None)  # a call per row costs a rebuild
            for e in events])


def _note(event: StoredEvent) -> str:
    """What an operator did and why, for a `SubscriptionEventSkipped`."""
    skipped = from_data(event.type, event.data)
    assert isinstance(skipped, SubscriptionEventSkipped)
    return audit_note(skipped)


def _actor(event: StoredEvent) -> str:
    actor = (event.metadata or {}).get("actor")
    return actor if isinstance(actor, str) and actor else UNKNOWN_ACTOR


@dataclass(frozen=True)
class AuditEntry:
    """One thing someone did: which event, on which stream, when, by whom."""

    position: int
    recorded_at: datetime
    actor: str
    event_type: str
    stream_id: str
    note: str | None = None
    """What an operator did and why (a skipped event); None otherwise."""


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first; `before` reads the next (older) page, None at the end."""

    entries: list[AuditEntry]
    before: int | None


def audit_page(conn: Connection, limit: int, before: int | None = None,
               actor: str | None = None, event_type: str | None = None) -> AuditPage:
    """Entries older than position `before`, newest first, by `actor` and of `event_type`.

    Keyset paging on the position: each page reads `limit` rows from an index, however long
    the log.
    """
    query = select(audit_entries).order_by(audit_entries.c.position.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(audit_entries.c.position < before)
    if actor:
        query = query.where(audit_entries.c.actor == actor)
    if event_type:
        query = query.where(audit_entries.c.event_type == event_type)
    rows = conn.execute(query).all()
    entries = [AuditEntry(r.position, as_utc(r.recorded_at), r.actor, r.event_type, r.stream_id,
                          r.note) for r in rows[:limit]]
    return AuditPage(entries, entries[-1].position if len(rows) > limit else None)


@dataclass(frozen=True)
class SignIn:
    """One console session: who signed in with which token, when, and how it ended."""

    token_id: str
    token_name: str | None
    signed_in_at: datetime
    ended_at: datetime | None
    ended_reason: str | None


def sign_ins(conn: Connection, limit: int, token_id: str | None = None) -> list[SignIn]:
    """The latest console sign-ins, newest first (ended sessions are kept as the record)."""
    query = (select(console_sessions.c.token_id, api_tokens.c.name,
                    console_sessions.c.created_at, console_sessions.c.ended_at,
                    console_sessions.c.ended_reason)
             .select_from(console_sessions.outerjoin(
                 api_tokens, api_tokens.c.token_id == console_sessions.c.token_id))
             .order_by(console_sessions.c.created_at.desc()).limit(limit))
    if token_id:
        query = query.where(console_sessions.c.token_id == token_id)
    return [SignIn(r.token_id, r.name, as_utc(r.created_at),
                   None if r.ended_at is None else as_utc(r.ended_at), r.ended_reason)
            for r in conn.execute(query)]

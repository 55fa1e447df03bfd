"""Inline projection: one row per partner, what the registry API and webhook delivery read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, select

from campaign.domain import partner
from campaign.infra.event_mapping import replay
from campaign.infra.tables import partners
from events import EventStore, StoredEvent
from events.projections import Mode, latest_per_stream
from events.sql import upsert

PARTNER_COLUMNS = (*partner.PARTNER_FIELDS, "endpoint_enabled", "disabled_reason",
                   "api_key_hash", "registered_at", "version")
_FROM_STATE = tuple(c for c in PARTNER_COLUMNS if c not in (*partner.FOLLOW_FIELDS, "version"))


class PartnersProjection:
    """A partner row mirrors the aggregate; secrets are not here (they are not in the log).

    The contact address stays as the log holds it, sealed with the partner's key (clear only
    from PartnerRegistered v1): the registry opens it for admins (`event_mapping.reveal`).
    """

    name = "partners"
    mode: Mode = "inline"
    tables: Sequence[Table] = (partners,)
    event_types: frozenset[str] | None = frozenset(e.type_name for e in partner.EVENTS)
    reads = frozenset({"stream_version"})  # what a rebuild reads of each event

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Rewrite the row of every partner touched, from its replayed state."""
        for last in latest_per_stream(events).values():
            state, _ = replay(self.store, conn, last.stream_id, partner.AGGREGATE,
                              to_version=last.stream_version)
            if state.status != "none":
                upsert(conn, partners, [partner_row(state, last.stream_version)], ["partner_id"],
                       lambda new: {c: getattr(new, c) for c in PARTNER_COLUMNS})


def partner_row(state: partner.State, version: int) -> dict[str, Any]:
    """The columns of `partners` for one partner's state."""
    return {
        "partner_id": state.partner_id, "version": version,
        **{c: getattr(state, c) for c in _FROM_STATE},
        **{f: list(getattr(state.follows, f)) for f in partner.FOLLOW_FIELDS},
    }


def partner_name(conn: Connection, partner_id: str) -> str | None:
    """The partner's name, for what campaigners read (alerts); None for no such partner."""
    name: str | None = conn.execute(
        select(partners.c.name).where(partners.c.partner_id == partner_id)).scalar_one_or_none()
    return name

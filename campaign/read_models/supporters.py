"""Inline projection: supporters for audience selection; personal fields stay sealed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table

from campaign.domain import preferences, supporter
from campaign.domain.values import normalise_email
from campaign.infra.tables import supporters
from events import StoredEvent
from events.personal_data import MASK, BlindIndex, Opener, Vault
from events.projections import BoundedReplay, Mode
from events.sql import insert_rows, update_rows

S = supporter
P = preferences
ERASED: dict[str, Any] = {
    "erased": True, "email_index": None, "email_sealed": None, "name_sealed": None,
    "locale": None, "country": None, "timezone": None, "registered_at": None,
}


def changed_columns(event_type: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The columns a later supporter event changes, or None for an event that changes none."""
    if event_type == S.ConsentConfirmed.type_name:
        return {"consented": True, "unsubscribed": False}  # confirming again re-subscribes
    if event_type == S.SubscriptionsChanged.type_name:
        return {k: data[k] for k in ("all_actions", "countries", "case_ids")}
    if event_type == P.PreferencesChanged.type_name:
        return {k: data[k] for k in ("locale", "country", "timezone")}
    if event_type in (P.EmailPaused.type_name, P.EmailResumed.type_name):
        return {"email_paused": event_type == P.EmailPaused.type_name}
    if event_type == S.Unsubscribed.type_name:
        return {"unsubscribed": True}
    if event_type == S.SupporterSuppressed.type_name:
        return {"suppressed": data["reason"]}
    if event_type == S.SupporterErased.type_name:
        return ERASED
    return None


class SupportersProjection:
    """One row per supporter; the e-mail is findable only through its blind index."""

    name = "supporters"
    mode: Mode = "inline"
    tables: Sequence[Table] = (supporters,)
    event_types: frozenset[str] | None = frozenset(e.type_name for e in supporter.EVENTS)
    reads = frozenset({"data"})  # what a rebuild reads of each event

    def __init__(self, vault: Vault, blind_index: BlindIndex) -> None:
        self.vault = vault
        self.blind_index = blind_index

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Fold the batch in memory: new supporters are inserted whole (their keys read in
        one query), earlier ones get the columns later events changed, the last value of
        each."""
        fold = SupportersFold(self, copy=False)
        fold.add(conn, events)
        fold.write(conn)

    def replay(self) -> BoundedReplay:
        """A rebuild's fold: supporters' rows kept in memory across pages, copied at once."""
        return BoundedReplay(lambda _written: SupportersFold(self, copy=True))

    def registered_row(self, opener: Opener, event: StoredEvent) -> dict[str, Any]:
        """A new supporter's row, as `SupporterRegistered` writes it."""
        data = event.data
        email = opener.open(event.stream_id, "email", data["email"])
        # Once erased, the key is gone: a rebuild cannot (and must not) index the address.
        index = None if email == MASK else self.blind_index.digest(normalise_email(email))
        return {
            "supporter_id": data["supporter_id"], "email_index": index,
            "email_sealed": data["email"], "name_sealed": data["name"],
            "locale": data["locale"], "country": data["country"], "timezone": data["timezone"],
            "consented": False, "all_actions": data.get("all_actions", True),
            "countries": [], "case_ids": list(data.get("case_ids", [])),
            "unsubscribed": False, "email_paused": False, "suppressed": None, "erased": False,
            "registered_at": datetime.fromisoformat(data["registered_at"]),
        }


class SupportersFold:
    """Pages of supporter events folded: the rows of the supporters they register, and for
    earlier ones the columns they change (the last value of each). Written, new rows are
    inserted (copied, for a rebuild) and changes go to the rows there; an event of a
    supporter never registered changes nothing, as its UPDATE finds no row."""

    def __init__(self, projection: SupportersProjection, *, copy: bool) -> None:
        self.projection, self.copy = projection, copy
        self.new: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.new) + len(self.changed)

    def add(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        opener = self.projection.vault.opener(
            conn, [e.stream_id for e in events if e.type == S.SupporterRegistered.type_name])
        new, changed = self.new, self.changed
        for event in events:
            supporter_id = event.stream_id.removeprefix("supporter-")
            if event.type == S.SupporterRegistered.type_name:
                new[supporter_id] = self.projection.registered_row(opener, event)
            elif (columns := changed_columns(event.type, event.data)) is not None:
                target = new.get(supporter_id)
                (target if target is not None else changed.setdefault(supporter_id, {})
                 ).update(columns)

    def write(self, conn: Connection) -> None:
        if self.new and self.copy:
            insert_rows(conn, supporters, list(self.new.values()))
        elif self.new:
            # RETURNING: many rows per statement (see events.sql.upsert)
            conn.execute(supporters.insert().returning(supporters.c.supporter_id),
                         list(self.new.values())).all()
        update_rows(conn, supporters, "supporter_id", list(self.changed.items()))

"""Supporters: signing up (found again by blind index), erasure with its key, export.

These read more than one stream or table before deciding; single-aggregate commands go
straight to the command handler.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from campaign.application.commands import CommandHandler, Meta
from campaign.application.errors import NotFound
from campaign.domain import supporter
from campaign.domain.base import DomainError
from campaign.domain.codec import to_data
from campaign.domain.values import normalise_email
from campaign.infra.tables import pledges, supporters
from events import StoredEvent
from events.personal_data import BlindIndex, Vault


@dataclass(frozen=True)
class Registration:
    """What a person gives when signing up."""

    email: str
    name: str
    locale: str
    country: str
    timezone: str


def find_supporter_by_email(conn: Connection, index: BlindIndex, email: str) -> str | None:
    """The supporter id registered with `email` (any case), via the blind index."""
    digest = index.digest(normalise_email(email))
    return conn.execute(
        select(supporters.c.supporter_id).where(supporters.c.email_index == digest)
    ).scalar_one_or_none()


def register_supporter(
    commands: CommandHandler, index: BlindIndex, form: Registration, meta: Meta, now: datetime,
    conn: Connection | None = None,
) -> str:
    """Register, or return the existing id: signing up twice is harmless and reveals nothing.

    Signing up again with an address that was never confirmed sends the confirmation
    e-mail again (at most once per quarter-hour): the first one may have been lost.
    """
    with commands.transaction(conn) as tx:
        existing = find_supporter_by_email(tx, index, form.email)
        if existing:
            _request_confirmation(commands, existing, meta, now, tx)
            return existing
        supporter_id = str(uuid.uuid4())
        command = supporter.RegisterSupporter(
            supporter_id=supporter_id, email=form.email.strip(), name=form.name.strip(),
            locale=form.locale, country=form.country, timezone=form.timezone,
            registered_at=now,
        )
        try:
            with tx.begin_nested():
                commands.handle(command, meta, conn=tx)
        except IntegrityError:
            # Someone registered the same address at the same instant: theirs stands.
            winner = find_supporter_by_email(tx, index, form.email)
            if winner is None:
                raise
            return winner
        return supporter_id


def _request_confirmation(
    commands: CommandHandler, supporter_id: str, meta: Meta, now: datetime, conn: Connection,
) -> None:
    command = supporter.RequestConfirmation(supporter_id=supporter_id, at=now)
    try:
        with conn.begin_nested():
            commands.handle(command, meta, conn=conn)
    except DomainError:
        pass  # erased since the lookup: nothing to send, and nothing to tell the caller


def erase_supporter(
    commands: CommandHandler, vault: Vault, supporter_id: str,
    requested_by: supporter.ErasureRequester, meta: Meta, now: datetime,
    conn: Connection | None = None,
) -> None:
    """Append SupporterErased and destroy the person's key in one transaction; idempotent."""
    with commands.transaction(conn) as tx:
        require_supporter(tx, supporter_id)
        command = supporter.EraseSupporter(supporter_id=supporter_id, requested_by=requested_by,
                                           at=now)
        try:
            commands.handle(command, meta, conn=tx)
        except DomainError as exc:
            if exc.code != "supporter_erased":
                raise
        vault.forget(tx, supporter.supporter_stream(supporter_id))


def require_supporter(conn: Connection, supporter_id: str) -> Any:
    """The supporter's read-model row, NotFound if there is none."""
    row = conn.execute(
        select(supporters).where(supporters.c.supporter_id == supporter_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no supporter {supporter_id}")
    return row


def export_supporter(commands: CommandHandler, supporter_id: str) -> dict[str, Any]:
    """Everything held about one person, decrypted: their events, pledges and letters."""
    store = commands.store
    with commands.engine.connect() as conn:
        row = require_supporter(conn, supporter_id)
        history = [_exported(commands, conn, s)
                   for s in store.read_stream(supporter.supporter_stream(supporter_id),
                                              conn=conn)]
        pledge_ids = conn.execute(
            select(pledges.c.pledge_id).where(pledges.c.supporter_id == supporter_id)
        ).scalars().all()
        pledge_history = [
            _exported(commands, conn, s)
            for pledge_id in pledge_ids
            for s in store.read_stream(f"pledge-{pledge_id}", conn=conn)
        ]
    return {
        "supporter_id": supporter_id,
        "erased": row.erased,
        "profile": history[0]["data"] if history else None,
        "events": history,
        "pledges": pledge_history,
    }


def _exported(commands: CommandHandler, conn: Connection, stored: StoredEvent
              ) -> dict[str, Any]:
    event = commands.mapper.to_domain(conn, stored)
    return {"type": stored.type, "recorded_at": stored.recorded_at.isoformat(),
            "data": to_data(event)}

"""Use cases that read more than one stream or table before deciding.

Single-aggregate commands go straight to `Services.commands`; these compose: finding a
supporter by blind index, giving a pledge the facts of its action, destroying a key
together with the erasure event, gathering everything held about a person.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from campaign.bootstrap import Services
from campaign.domain import pledge, supporter
from campaign.domain.base import DomainError
from campaign.domain.codec import to_data
from campaign.domain.values import normalise_email
from campaign.errors import NotFound
from campaign.handlers import Meta, Outcome
from campaign.tables import actions, pledges, supporters
from events import as_utc


def utc_now() -> datetime:
    """The wall clock, read here at the edge and passed inward as data."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Registration:
    """What a person gives when signing up."""

    email: str
    name: str
    locale: str
    country: str
    timezone: str


def find_supporter_by_email(conn: Connection, services: Services, email: str) -> str | None:
    """The supporter id registered with `email` (any case), via the blind index."""
    digest = services.blind_index.digest(normalise_email(email))
    return conn.execute(
        select(supporters.c.supporter_id).where(supporters.c.email_index == digest)
    ).scalar_one_or_none()


def register_supporter(
    services: Services, form: Registration, meta: Meta, now: datetime,
    conn: Connection | None = None,
) -> str:
    """Register, or return the existing id: signing up twice is harmless and reveals nothing.

    Signing up again with an address that was never confirmed sends the confirmation
    e-mail again (at most once per quarter-hour): the first one may have been lost.
    """
    with services.store.transaction(conn) as tx:
        existing = find_supporter_by_email(tx, services, form.email)
        if existing:
            _request_confirmation(services, existing, meta, now, tx)
            return existing
        supporter_id = str(uuid.uuid4())
        command = supporter.RegisterSupporter(
            supporter_id=supporter_id, email=form.email.strip(), name=form.name.strip(),
            locale=form.locale, country=form.country, timezone=form.timezone,
            registered_at=now,
        )
        try:
            with tx.begin_nested():
                services.commands.handle(command, meta, conn=tx)
        except IntegrityError:
            # Someone registered the same address at the same instant: theirs stands.
            winner = find_supporter_by_email(tx, services, form.email)
            if winner is None:
                raise
            return winner
        return supporter_id


def _request_confirmation(
    services: Services, supporter_id: str, meta: Meta, now: datetime, conn: Connection,
) -> None:
    command = supporter.RequestConfirmation(supporter_id=supporter_id, at=now)
    try:
        with conn.begin_nested():
            services.commands.handle(command, meta, conn=conn)
    except DomainError:
        pass  # erased since the lookup: nothing to send, and nothing to tell the caller


def make_pledge(
    services: Services, action_id: str, supporter_id: str, target_ids: tuple[str, ...],
    letters_promised: int, meta: Meta, now: datetime, conn: Connection | None = None,
) -> Outcome:
    """Pledge letters to an action, with the action's facts read in the same transaction.

    The facts come from the actions read model, which the action's own appends keep
    current in their transactions: replaying the action's stream on every pledge cost a
    sixth of the request.
    """
    with services.store.transaction(conn) as tx:
        row = tx.execute(select(actions.c.status, actions.c.deadline_at, actions.c.document)
                         .where(actions.c.action_id == action_id)).one_or_none()
        if row is None:
            raise NotFound(f"no action {action_id}")
        due_at = row.deadline_at
        command = pledge.MakePledge(
            action_id=action_id, supporter_id=supporter_id, target_ids=target_ids,
            letters_promised=letters_promised, pledged_at=now,
            action_open=row.status == "launched",
            action_target_ids=tuple(t["target_id"] for t in row.document["targets"]),
            due_at=as_utc(due_at),
        )
        return services.commands.handle(command, meta, conn=tx)


def erase_supporter(
    services: Services, supporter_id: str, requested_by: supporter.ErasureRequester,
    meta: Meta, now: datetime, conn: Connection | None = None,
) -> None:
    """Append SupporterErased and destroy the person's key in one transaction; idempotent."""
    with services.store.transaction(conn) as tx:
        require_supporter(tx, supporter_id)
        command = supporter.EraseSupporter(supporter_id=supporter_id, requested_by=requested_by,
                                           at=now)
        try:
            services.commands.handle(command, meta, conn=tx)
        except DomainError as exc:
            if exc.code != "supporter_erased":
                raise
        services.vault.forget(tx, supporter.supporter_stream(supporter_id))


def require_supporter(conn: Connection, supporter_id: str) -> Any:
    """The supporter's read-model row, NotFound if there is none."""
    row = conn.execute(
        select(supporters).where(supporters.c.supporter_id == supporter_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no supporter {supporter_id}")
    return row


def export_supporter(services: Services, supporter_id: str) -> dict[str, Any]:
    """Everything held about one person, decrypted: their events, pledges and letters."""
    with services.engine.connect() as conn:
        row = require_supporter(conn, supporter_id)
        history = [_exported(services, conn, s)
                   for s in services.store.read_stream(supporter.supporter_stream(supporter_id),
                                                       conn=conn)]
        pledge_ids = conn.execute(
            select(pledges.c.pledge_id).where(pledges.c.supporter_id == supporter_id)
        ).scalars().all()
        pledge_history = [
            _exported(services, conn, s)
            for pledge_id in pledge_ids
            for s in services.store.read_stream(f"pledge-{pledge_id}", conn=conn)
        ]
    return {
        "supporter_id": supporter_id,
        "erased": row.erased,
        "profile": history[0]["data"] if history else None,
        "events": history,
        "pledges": pledge_history,
    }


def _exported(services: Services, conn: Connection, stored: Any) -> dict[str, Any]:
    event = services.mapper.to_domain(conn, stored)
    return {"type": stored.type, "recorded_at": stored.recorded_at.isoformat(),
            "data": to_data(event)}

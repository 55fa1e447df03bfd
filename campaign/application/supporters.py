"""Supporters: signing up (found again by blind index), erasure with its key, export, and
the retention rule for sign-ups never confirmed.

These read more than one stream or table before deciding; single-aggregate commands go
straight to the command handler.

Public requests (sign-up, "manage my data") are recorded as asked, on a fresh stream, and
answered at once: the request never looks the address up, so a known and a new address do
the same work in the same time and nobody learns who is registered. The `address_requests`
subscription resolves them a moment later (the clock runs it every second).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from campaign.application.commands import CommandHandler, Meta, policy_meta
from campaign.application.errors import NotFound
from campaign.domain import supporter
from campaign.domain.base import DomainError
from campaign.domain.codec import to_data
from campaign.domain.values import normalise_email
from campaign.infra.tables import pledges, supporters
from events import StoredEvent, Subscription
from events.personal_data import MASK, BlindIndex, Vault

ADDRESS_REQUESTS = "address_requests"
PURGE_PAGE = 500


@dataclass(frozen=True)
class Registration:
    """What a person gives when signing up: who they are, and which actions they want (all
    of them, or those about the cases of the page they signed up from)."""

    email: str
    name: str
    locale: str
    country: str
    timezone: str
    all_actions: bool = True
    case_ids: tuple[str, ...] = ()


def find_supporter_by_email(conn: Connection, index: BlindIndex, email: str) -> str | None:
    """The supporter id registered with `email` (any case), via the blind index.

    Every digest of the key ring is tried: until `campaign keys rotate` has rebuilt the
    index, a supporter may still be filed under an older secret's digest.
    """
    digests = index.digests(normalise_email(email))
    return conn.execute(
        select(supporters.c.supporter_id).where(supporters.c.email_index.in_(digests))
        .order_by(supporters.c.supporter_id).limit(1)
    ).scalar_one_or_none()


def request_sign_up(
    commands: CommandHandler, form: Registration, meta: Meta, now: datetime,
    conn: Connection | None = None,
) -> None:
    """Record a public sign-up as asked; `address_requests` registers it or passes it on."""
    commands.handle(supporter.ReceiveSignUp(
        supporter_id=str(uuid.uuid4()), email=form.email.strip(), name=form.name.strip(),
        locale=form.locale, country=form.country, timezone=form.timezone, received_at=now,
        all_actions=form.all_actions, case_ids=form.case_ids,
    ), meta, conn=conn)


def request_manage_link(
    commands: CommandHandler, email: str, meta: Meta, now: datetime,
    conn: Connection | None = None,
) -> None:
    """Record a public "manage my data" request; `address_requests` answers a known address."""
    commands.handle(supporter.ReceiveManageRequest(
        supporter_id=str(uuid.uuid4()), email=email.strip(), received_at=now,
    ), meta, conn=conn)


def address_requests(commands: CommandHandler, index: BlindIndex) -> Subscription:
    """The subscription that resolves public requests against the supporters on file.

    A sign-up with a new address becomes that supporter (its stream, its key); one with a
    known address asks the known supporter to confirm again. A "manage my data" request
    asks the known, not erased, supporter for a manage link. Either way a request that did
    not become a supporter has its key destroyed: what a stranger typed is not kept.
    """

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            request = commands.mapper.to_domain(conn, stored)
            meta = policy_meta(ADDRESS_REQUESTS, stored)
            if isinstance(request, supporter.SignUpReceived):
                _resolve_sign_up(commands, index, request, meta, conn)
            elif isinstance(request, supporter.ManageRequestReceived):
                _resolve_manage_request(commands, index, request, meta, conn)

    return Subscription(ADDRESS_REQUESTS, react, frozenset({
        supporter.SignUpReceived.type_name, supporter.ManageRequestReceived.type_name}))


def _resolve_sign_up(
    commands: CommandHandler, index: BlindIndex, request: supporter.SignUpReceived, meta: Meta,
    conn: Connection,
) -> None:
    if request.email == MASK:
        return  # its key is gone: resolved before, or erased
    form = Registration(request.email, request.name, request.locale, request.country,
                        request.timezone, request.all_actions, request.case_ids)
    found = register_supporter(commands, index, form, meta, request.received_at, conn=conn,
                               supporter_id=request.supporter_id)
    if found != request.supporter_id:
        commands.mapper.vault.forget(conn, supporter.supporter_stream(request.supporter_id))


def _resolve_manage_request(
    commands: CommandHandler, index: BlindIndex, request: supporter.ManageRequestReceived,
    meta: Meta, conn: Connection,
) -> None:
    found = None if request.email == MASK else find_supporter_by_email(conn, index,
                                                                         request.email)
    if found is not None:
        try:
            commands.handle(supporter.RequestManageLink(supporter_id=found,
                                                        at=request.received_at),
                            meta, conn=conn)
        except DomainError:
            pass  # erased meanwhile: nothing to send, and nobody to tell
    commands.mapper.vault.forget(conn, supporter.supporter_stream(request.supporter_id))


def register_supporter(
    commands: CommandHandler, index: BlindIndex, form: Registration, meta: Meta, now: datetime,
    conn: Connection | None = None, supporter_id: str | None = None,
) -> str:
    """Register, or return the existing id: signing up twice is harmless and reveals nothing.

    Signing up again with an address that was never confirmed, or that unsubscribed, sends
    the confirmation e-mail again (at most once per quarter-hour, but always the first time
    after an unsubscribe): the first one may have been lost, or the person wants back in.
    What this sign-up asks for joins their subscriptions once they confirm.
    `supporter_id` is the new supporter's id (a fresh one when not given).
    """
    with commands.transaction(conn) as tx:
        existing = find_supporter_by_email(tx, index, form.email)
        if existing:
            _request_confirmation(commands, supporter.RequestConfirmation(
                supporter_id=existing, at=now, adds_all_actions=form.all_actions,
                adds_case_ids=form.case_ids), meta, tx)
            return existing
        supporter_id = supporter_id or str(uuid.uuid4())
        command = supporter.RegisterSupporter(
            supporter_id=supporter_id, email=form.email.strip(), name=form.name.strip(),
            locale=form.locale, country=form.country, timezone=form.timezone,
            registered_at=now, all_actions=form.all_actions, case_ids=form.case_ids,
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
    commands: CommandHandler, command: supporter.RequestConfirmation, meta: Meta,
    conn: Connection,
) -> None:
    try:
        with conn.begin_nested():
            commands.handle(command, meta, conn=conn)
    except DomainError:
        pass  # erased since the lookup: nothing to send, and nothing to tell the caller


def subscribe_again(
    commands: CommandHandler, supporter_id: str, meta: Meta, now: datetime,
) -> bool:
    """Send a fresh confirmation e-mail to someone who unsubscribed; False once erased.

    Nothing is re-subscribed here: only the confirmation link does that (double opt-in).
    """
    with commands.transaction() as tx:
        try:
            commands.handle(supporter.RequestConfirmation(supporter_id=supporter_id, at=now),
                            meta, conn=tx)
        except DomainError:
            return False
    return True


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


def purge_unconfirmed(
    commands: CommandHandler, vault: Vault, older_than: timedelta, now: datetime,
) -> int:
    """Erase sign-ups left unconfirmed for `older_than` (their key deleted); how many.

    Idempotent: an erased supporter is no longer a candidate, and one asked to confirm
    again since the cutoff is kept until that e-mail is as old. Each supporter is erased
    in a transaction of its own, so a long purge holds no lock for long.
    """
    cutoff = now - older_than
    meta = Meta(actor="policy:retention", correlation_id=f"retention-{uuid.uuid4()}")
    purged, after = 0, ""
    while candidates := _unconfirmed_before(commands, cutoff, after):
        for supporter_id in candidates:
            with commands.transaction() as tx:
                try:
                    outcome = commands.handle(supporter.PurgeUnconfirmed(
                        supporter_id=supporter_id, cutoff=cutoff, at=now), meta, conn=tx)
                except DomainError:
                    continue  # erased meanwhile
                if outcome.events:
                    vault.forget(tx, supporter.supporter_stream(supporter_id))
                    purged += 1
        after = candidates[-1]
    return purged


def _unconfirmed_before(commands: CommandHandler, cutoff: datetime, after: str) -> list[str]:
    """A page of supporters registered before `cutoff` who never confirmed, by id."""
    c = supporters.c
    with commands.engine.connect() as conn:
        return list(conn.execute(
            select(c.supporter_id)
            .where(c.consented.is_(False), c.erased.is_(False), c.registered_at < cutoff,
                   c.supporter_id > after)
            .order_by(c.supporter_id).limit(PURGE_PAGE)
        ).scalars())


def require_supporter(conn: Connection, supporter_id: str) -> Any:
    """The supporter's read-model row, NotFound if there is none."""
    row = conn.execute(
        select(supporters).where(supporters.c.supporter_id == supporter_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no supporter {supporter_id}")
    return row


def export_supporter(commands: CommandHandler, supporter_id: str) -> dict[str, Any]:
    """Everything held about one person, decrypted: their events, their choices as they are
    now, their pledges and letters."""
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
        "profile": next((e["data"] for e in history
                         if e["type"] == supporter.SupporterRegistered.type_name), None),
        "choices": None if row.erased else _choices(row),
        "events": history,
        "pledges": pledge_history,
    }


def _choices(row: Any) -> dict[str, Any]:
    """The supporter's choices as they stand (their history is in the exported events)."""
    return {
        "locale": row.locale, "country": row.country, "timezone": row.timezone,
        "subscriptions": {"all_actions": row.all_actions, "countries": list(row.countries),
                          "case_ids": list(row.case_ids)},
        "email_paused": row.email_paused, "unsubscribed": row.unsubscribed,
    }


def _exported(commands: CommandHandler, conn: Connection, stored: StoredEvent
              ) -> dict[str, Any]:
    event = commands.mapper.to_domain(conn, stored)
    return {"type": stored.type, "recorded_at": stored.recorded_at.isoformat(),
            "data": to_data(event)}

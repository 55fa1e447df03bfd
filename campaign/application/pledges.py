"""Pledges: making one with its action's facts, and what an action's events do to open ones.

The pledge policy is a checkpointed subscription: its commands are appended in the same
transaction that moves its checkpoint, so a crash neither loses nor repeats them (and the
commands are idempotent anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from campaign.application.access import supporter_on_file
from campaign.application.commands import CommandHandler, Meta, Outcome, policy_meta
from campaign.application.errors import AuthError, NotFound
from campaign.application.supporters import require_supporter
from campaign.domain import action, pledge
from campaign.domain.base import DomainError
from campaign.domain.codec import from_data
from campaign.infra.tables import action_targets, actions, pledges, supporters
from events import NO_STREAM, StoredEvent, Subscription, as_utc
from events.sql import DriverRead

# What a pledge's decision needs, in one read built once: the action's facts and its current
# targets in document order (one row each), the supporter's standing, and whether the pledge
# exists already (the pledges read model is written in each pledge's append transaction, so
# no row means no stream: nothing to replay).
_PLEDGE_FACTS = DriverRead(
    select(actions.c.status, actions.c.deadline_at, supporters.c.erased, supporters.c.consented,
           pledges.c.version.label("pledge_version"), action_targets.c.target_id)
    .select_from(
        actions
        .outerjoin(supporters, supporters.c.supporter_id == bindparam("supporter_id"))
        .outerjoin(pledges, pledges.c.pledge_id == bindparam("pledge_id"))
        .outerjoin(action_targets, and_(action_targets.c.action_id == actions.c.action_id,
                                        action_targets.c.current)))
    .where(actions.c.action_id == bindparam("action_id"))
    .order_by(action_targets.c.ordinal)
)


def make_pledge(
    commands: CommandHandler, action_id: str, supporter_id: str, target_ids: tuple[str, ...],
    letters_promised: int, meta: Meta, now: datetime, conn: Connection | None = None,
) -> Outcome:
    """Pledge letters to an action, with the action's facts read in the same transaction.

    The facts come from the actions read model, which the action's own appends keep
    current in their transactions: replaying the action's stream on every pledge cost a
    sixth of the request.
    """
    return commands.run(lambda tx: _pledge(commands, tx, action_id, supporter_id, target_ids,
                                           letters_promised, meta, now, supporter=False), conn)


def pledge_as_supporter(
    commands: CommandHandler, action_id: str, supporter_id: str, target_ids: tuple[str, ...],
    letters_promised: int, meta: Meta, now: datetime, conn: Connection | None = None, *,
    by_link: bool = False,
) -> Outcome:
    """A supporter's own pledge, checked the same way wherever it is made (API or page).

    NotFound for an unknown supporter; DomainError `supporter_erased` once erased and
    `consent_required` before the address is confirmed; then `make_pledge`, all in one
    transaction from check to write. `by_link`: the supporter holds a link whose token was
    checked for its signature only; an unknown or erased supporter is then AuthError, the
    link's own refusal, before anything else is told.
    """
    return commands.run(lambda tx: _pledge(commands, tx, action_id, supporter_id, target_ids,
                                           letters_promised, meta, now, supporter=True,
                                           by_link=by_link), conn)


def _pledge(
    commands: CommandHandler, tx: Connection, action_id: str, supporter_id: str,
    target_ids: tuple[str, ...], letters_promised: int, meta: Meta, now: datetime, *,
    supporter: bool, by_link: bool = False,
) -> Outcome:
    """One attempt: read the facts, check the supporter if asked, decide, append.

    A brand-new pledge (the usual case) is decided from the empty state: its stream is
    not read, and it is appended expecting no stream.
    """
    stream_id = pledge.pledge_stream(action_id, supporter_id)
    rows = _PLEDGE_FACTS.rows(tx, {"action_id": action_id, "supporter_id": supporter_id,
                                   "pledge_id": stream_id.removeprefix("pledge-")})
    if by_link:  # the link's check, in this read: the supporter still on file
        _require_on_file(tx, supporter_id, rows[0].erased if rows else None, bool(rows))
    if supporter:
        standing = rows[0] if rows and rows[0].consented is not None else None
        _require_standing(standing or require_supporter(tx, supporter_id))
    if not rows:
        raise NotFound(f"no action {action_id}")
    facts = rows[0]
    command = pledge.MakePledge(
        action_id=action_id, supporter_id=supporter_id, target_ids=target_ids,
        letters_promised=letters_promised, pledged_at=now,
        action_open=facts.status == "launched",
        action_target_ids=tuple(r.target_id for r in rows if r.target_id is not None),
        due_at=as_utc(facts.deadline_at),
    )
    known = (pledge.initial_state(), NO_STREAM) if facts.pledge_version is None else None
    return commands.attempt(tx, command, meta, known=known)


def _require_on_file(tx: Connection, supporter_id: str, erased: bool | None, read: bool) -> None:
    """AuthError unless the supporter is registered and not erased: `erased` as the facts
    read found it (None: no such supporter), or, when there were no facts (`read` False),
    the supporter's own row."""
    if not read:
        supporter_on_file(tx, supporter_id)
    elif erased is not False:
        raise AuthError("this link is no longer valid")


def _require_standing(row: Any) -> None:
    """A supporter may pledge once confirmed, and never after erasure."""
    if row.erased:
        raise DomainError("supporter_erased", "the supporter was erased")
    if not row.consented:
        raise DomainError("consent_required", "confirm your e-mail address before pledging")


@dataclass(frozen=True)
class SentLetter:
    """What a supporter says about one letter: its id, to whom, how, on which day."""

    letter_id: str
    target_id: str
    channel: pledge.Channel
    sent_on: date


# A letter is decided from its pledge's read-model row, read whole in the write transaction:
# the pledges projection writes the row in each of the pledge's append transactions, its
# letters included, so the row is the stream's state at the row's version. Replaying the
# stream instead cost more with every letter. The append still expects that version, so a
# concurrent write to the pledge makes it fail and the attempt is read and decided again.
_PLEDGE_ROW = (pledges.c.action_id, pledges.c.supporter_id, pledges.c.status,
               pledges.c.target_ids, pledges.c.letters_promised, pledges.c.letters_confirmed,
               pledges.c.pledged_at, pledges.c.due_at, pledges.c.version, pledges.c.letters)

# By the pledge's id: its row, its action's issue date, and whether the supporter whose
# link the request carries (`holder`) is erased (NULL: not on file).
_LETTER_FACTS = DriverRead(
    select(*_PLEDGE_ROW, actions.c.issued_on, supporters.c.erased.label("holder_erased"))
    .select_from(pledges
                 .outerjoin(actions, actions.c.action_id == pledges.c.action_id)
                 .outerjoin(supporters, supporters.c.supporter_id == bindparam("holder")))
    .where(pledges.c.pledge_id == bindparam("pledge_id"))
)

# By action and supporter: the action's issue date and the pledge's row if there is one.
_ACTION_LETTER_FACTS = DriverRead(
    select(actions.c.issued_on, *_PLEDGE_ROW)
    .select_from(actions.outerjoin(pledges, pledges.c.pledge_id == bindparam("pledge_id")))
    .where(actions.c.action_id == bindparam("action_id"))
)


def confirm_letter(
    commands: CommandHandler, action_id: str, supporter_id: str, letter: SentLetter, meta: Meta,
    now: datetime, *, expected_version: int | None = None, conn: Connection | None = None,
) -> Outcome:
    """Confirm one letter, with the action's issue date read in the same transaction."""
    pledge_id = pledge.pledge_stream(action_id, supporter_id).removeprefix("pledge-")

    def attempt(tx: Connection) -> Outcome:
        found = _ACTION_LETTER_FACTS.rows(tx, {"action_id": action_id, "pledge_id": pledge_id})
        if not found:
            raise NotFound(f"no action {action_id}")
        facts = found[0]
        return _confirm(commands, tx, action_id, supporter_id, letter, meta, now,
                        facts.issued_on, expected_version, facts)

    return commands.run(attempt, conn, retry=expected_version is None)


def confirm_letter_on_pledge(
    commands: CommandHandler, pledge_id: str, letter: SentLetter, meta: Meta, now: datetime,
    allowed: Callable[[str, str], None], *, expected_version: int | None = None,
    conn: Connection | None = None, holder: str | None = None,
) -> Outcome:
    """Confirm one letter on the pledge `pledge_id`, from the read to the write in one
    transaction: its row and its action's issue date are read together, and
    `allowed(supporter_id, action_id)` refuses (raises) a caller it is not for.

    `holder`: the supporter whose link (checked for its signature only) the request
    carries; AuthError, before anything else is told, unless still on file (same read).
    NotFound for an unknown pledge, as `confirm_letter` for the rest.
    """

    def attempt(tx: Connection) -> Outcome:
        found = _LETTER_FACTS.rows(tx, {"pledge_id": pledge_id, "holder": holder})
        if holder is not None:
            _require_on_file(tx, holder, found[0].holder_erased if found else None, bool(found))
        if not found:
            raise NotFound(f"no pledge {pledge_id}")
        facts = found[0]
        allowed(facts.supporter_id, facts.action_id)
        if facts.issued_on is None:
            raise NotFound(f"no action {facts.action_id}")
        return _confirm(commands, tx, facts.action_id, facts.supporter_id, letter, meta, now,
                        facts.issued_on, expected_version, facts)

    return commands.run(attempt, conn, retry=expected_version is None)


def _confirm(
    commands: CommandHandler, tx: Connection, action_id: str, supporter_id: str,
    letter: SentLetter, meta: Meta, now: datetime, issued_on: date,
    expected_version: int | None, row: Any,
) -> Outcome:
    command = pledge.ConfirmLetter(
        action_id=action_id, supporter_id=supporter_id, letter_id=letter.letter_id,
        target_id=letter.target_id, channel=letter.channel, sent_on=letter.sent_on,
        confirmed_at=now, action_issued_on=issued_on,
    )
    return commands.attempt(tx, command, meta, expected_version=expected_version,
                            known=state_from_row(row))


def state_from_row(row: Any) -> tuple[pledge.State, int] | None:
    """The pledge's state and version from its read-model row (`_PLEDGE_ROW`); no row (a
    NULL version) is no stream. None when the row does not know its letters (NULL on rows
    written before it kept them, or fewer than it counts, after a writer that did not keep
    them): the caller replays the stream then."""
    if row.version is None:
        return pledge.initial_state(), NO_STREAM
    letters = row.letters
    if letters is None or len(letters) != row.letters_confirmed:
        return None
    kept = {entry[0]: _letter(*entry) for entry in letters}
    state = pledge.State(
        action_id=row.action_id, supporter_id=row.supporter_id, status=row.status,
        target_ids=tuple(row.target_ids), letters_promised=row.letters_promised,
        pledged_at=as_utc(row.pledged_at), due_at=as_utc(row.due_at), letters=kept)
    return state, row.version


def _letter(letter_id: str, target_id: str, channel: pledge.Channel, sent_on: str,
            confirmed_at: str) -> pledge.Letter:
    """A letter from its entry on the pledge's row (`LETTER_FIELDS`, as the event stores them)."""
    return pledge.Letter(letter_id=letter_id, target_id=target_id, channel=channel,
                         sent_on=date.fromisoformat(sent_on),
                         confirmed_at=datetime.fromisoformat(confirmed_at))


def open_pledgers(conn: Connection, action_id: str) -> list[str]:
    """Supporters with an open pledge on the action."""
    return list(conn.execute(
        select(pledges.c.supporter_id)
        .where(pledges.c.action_id == action_id, pledges.c.status == "open")
        .order_by(pledges.c.supporter_id)
    ).scalars())


def pledge_policy(commands: CommandHandler) -> Subscription:
    """Stop action cancels open pledges; a deadline extension moves their due time."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            event = from_data(stored.type, stored.data)
            meta = policy_meta("pledges", stored)
            if isinstance(event, action.ActionClosed):
                for supporter_id in open_pledgers(conn, event.action_id):
                    commands.handle(pledge.CancelPledge(
                        action_id=event.action_id, supporter_id=supporter_id,
                        reason="action_closed", at=event.closed_at), meta, conn=conn)
            elif isinstance(event, action.DeadlineExtended):
                for supporter_id in open_pledgers(conn, event.action_id):
                    commands.handle(pledge.MoveDueDate(
                        action_id=event.action_id, supporter_id=supporter_id,
                        new_due_at=event.new_deadline.ends_at(), at=event.extended_at),
                        meta, conn=conn)

    return Subscription(
        "pledge_policy", react,
        frozenset({action.ActionClosed.type_name, action.DeadlineExtended.type_name}),
    )

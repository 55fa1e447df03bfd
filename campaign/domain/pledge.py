"""The Pledge aggregate (stream `pledge-<action id>-<supporter id>`): a promise to write.

One stream per supporter per action makes "one pledge each" true by construction. A
pledge is open until it is fulfilled (enough letters confirmed), lapses (its due
time passed first) or is cancelled (the action closed). Late letters still count:
a lapsed pledge keeps recording letters, because appeals sent after the deadline are
still welcome ("check with your section office"), but it never becomes fulfilled, so
the statistics can tell promises kept in time from letters that came late.

The pledge cannot read the action's stream, so MakePledge and ConfirmLetter carry the
action facts the decision needs, looked up by the handler at the same moment: only the
decision reads them, the events do not repeat them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import reduce
from typing import ClassVar, Literal, TypeAlias

from campaign.domain.base import Aggregate, DomainError, DomainEvent, carry, emit
from campaign.domain.values import require_aware, require_choice

Channel = Literal["post", "email", "fax", "online"]
CancelReason = Literal["action_closed", "withdrawn"]
PledgeStatus = Literal["none", "open", "fulfilled", "lapsed", "cancelled"]

MAX_LETTERS_PROMISED = 100
"""The most letters one pledge promises: one supporter writes, not a mailing house."""


def pledge_stream(action_id: str, supporter_id: str) -> str:
    """The stream holding one supporter's pledge for one action."""
    return f"pledge-{action_id}-{supporter_id}"


# Commands


@dataclass(frozen=True, kw_only=True)
class MakePledge:
    """Promise to write `letters_promised` letters to `target_ids` (empty: all targets)."""

    action_id: str
    supporter_id: str
    target_ids: tuple[str, ...]
    letters_promised: int
    pledged_at: datetime
    action_open: bool
    action_target_ids: tuple[str, ...]
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class ConfirmLetter:
    """Say one letter was sent, to which official, by which channel, on which day.

    `action_issued_on` is the action's issue date: no letter is sent before it.
    """

    action_id: str
    supporter_id: str
    letter_id: str
    target_id: str
    channel: Channel
    sent_on: date
    confirmed_at: datetime
    action_issued_on: date


@dataclass(frozen=True, kw_only=True)
class LapsePledge:
    """Mark an open pledge whose due time has passed as not kept (sent by the clock)."""

    action_id: str
    supporter_id: str
    at: datetime


@dataclass(frozen=True, kw_only=True)
class CancelPledge:
    """Withdraw an open pledge, typically because its action was closed."""

    action_id: str
    supporter_id: str
    reason: CancelReason
    at: datetime


@dataclass(frozen=True, kw_only=True)
class MoveDueDate:
    """Follow the action's extended deadline."""

    action_id: str
    supporter_id: str
    new_due_at: datetime
    at: datetime


Command: TypeAlias = MakePledge | ConfirmLetter | LapsePledge | CancelPledge | MoveDueDate

# Events


@dataclass(frozen=True, kw_only=True)
class Pledged(DomainEvent):
    """A supporter pledged; `target_ids` are resolved (never empty), due at `due_at`."""

    type_name: ClassVar[str] = "Pledged"
    action_id: str
    supporter_id: str
    target_ids: tuple[str, ...]
    letters_promised: int
    pledged_at: datetime
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class LetterConfirmed(DomainEvent):
    """A letter was confirmed as sent."""

    type_name: ClassVar[str] = "LetterConfirmed"
    action_id: str
    supporter_id: str
    letter_id: str
    target_id: str
    channel: Channel
    sent_on: date
    confirmed_at: datetime


@dataclass(frozen=True, kw_only=True)
class PledgeFulfilled(DomainEvent):
    """Enough letters were confirmed before the pledge lapsed."""

    type_name: ClassVar[str] = "PledgeFulfilled"
    action_id: str
    supporter_id: str
    letters_confirmed: int
    fulfilled_at: datetime


@dataclass(frozen=True, kw_only=True)
class PledgeLapsed(DomainEvent):
    """The pledge's due time passed before it was fulfilled."""

    type_name: ClassVar[str] = "PledgeLapsed"
    action_id: str
    supporter_id: str
    letters_confirmed: int
    lapsed_at: datetime


@dataclass(frozen=True, kw_only=True)
class PledgeCancelled(DomainEvent):
    """The open pledge was withdrawn and takes no more letters."""

    type_name: ClassVar[str] = "PledgeCancelled"
    action_id: str
    supporter_id: str
    reason: CancelReason
    cancelled_at: datetime


@dataclass(frozen=True, kw_only=True)
class PledgeDueDateMoved(DomainEvent):
    """The pledge is now due later, following the action's deadline."""

    type_name: ClassVar[str] = "PledgeDueDateMoved"
    action_id: str
    supporter_id: str
    old_due_at: datetime
    new_due_at: datetime
    moved_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (
    Pledged, LetterConfirmed, PledgeFulfilled, PledgeLapsed, PledgeCancelled, PledgeDueDateMoved,
)

# State


@dataclass(frozen=True, kw_only=True)
class Letter:
    """One confirmed letter."""

    letter_id: str
    target_id: str
    channel: Channel
    sent_on: date
    confirmed_at: datetime


@dataclass(frozen=True, kw_only=True)
class State:
    """One pledge as decisions and the read side need it."""

    action_id: str = ""
    supporter_id: str = ""
    status: PledgeStatus = "none"
    target_ids: tuple[str, ...] = ()
    letters_promised: int = 0
    pledged_at: datetime | None = None
    due_at: datetime | None = None
    letters: Mapping[str, Letter] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        """True while the pledge is neither fulfilled, lapsed nor cancelled."""
        return self.status == "open"

    @property
    def letters_confirmed(self) -> int:
        """How many letters were confirmed, late ones included."""
        return len(self.letters)


def initial_state() -> State:
    """The state of a pledge stream with no events."""
    return State()


# Decide


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The events `command` causes given `state`, or DomainError if it breaks a rule."""
    if isinstance(command, MakePledge):
        return _pledge(state, command)
    if state.status == "none" or state.due_at is None:
        raise DomainError("no_pledge", "there is no such pledge")
    match command:
        case ConfirmLetter():
            return _confirm(state, command)
        case LapsePledge():
            return _lapse(state, state.due_at, command)
        case CancelPledge():
            require_choice(command.reason, CancelReason, "invalid_reason", "reason")
            cancelled = emit(PledgeCancelled, command, cancelled_at=command.at)
            return [cancelled] if state.is_open else []
        case MoveDueDate():
            return _move(state, state.due_at, command)


def _pledge(state: State, command: MakePledge) -> list[DomainEvent]:
    event = _pledged(command)
    if state.status != "none":
        promised = (event.target_ids, event.letters_promised)
        if (state.target_ids, state.letters_promised) == promised:
            return []
        raise DomainError("already_pledged", "this supporter already pledged other letters")
    if not command.action_open:
        raise DomainError("action_not_open", "pledges are taken only while the action is open")
    return [event]


def _pledged(command: MakePledge) -> Pledged:
    promised = command.letters_promised
    if type(promised) is not int or not 1 <= promised <= MAX_LETTERS_PROMISED:
        message = f"promise a whole number of letters from 1 to {MAX_LETTERS_PROMISED}"
        raise DomainError("invalid_letters_promised", message)
    chosen = tuple(dict.fromkeys(command.target_ids)) or command.action_target_ids
    unknown = [t for t in chosen if t not in command.action_target_ids]
    if unknown or not chosen:
        raise DomainError("unknown_target", f"not targets of this action: {unknown}")
    return emit(Pledged, command, target_ids=chosen)


def _lapse(state: State, due_at: datetime, command: LapsePledge) -> list[DomainEvent]:
    if not state.is_open:
        return []
    if require_aware(command.at, "at") < due_at:
        raise DomainError("not_due", "the pledge is not due yet")
    count = state.letters_confirmed
    return [emit(PledgeLapsed, command, letters_confirmed=count, lapsed_at=command.at)]


def _move(state: State, due_at: datetime, command: MoveDueDate) -> list[DomainEvent]:
    # Fulfilled, lapsed and cancelled pledges keep their history; only open ones follow.
    require_aware(command.new_due_at, "new_due_at")
    if not state.is_open or command.new_due_at <= due_at:
        return []
    return [emit(PledgeDueDateMoved, command, old_due_at=due_at, moved_at=command.at)]


def _confirm(state: State, command: ConfirmLetter) -> list[DomainEvent]:
    letter = emit(LetterConfirmed, command)
    known = state.letters.get(command.letter_id)
    if known is not None:
        if _letter_facts(known) == _letter_facts(_letter(letter)):
            return []
        raise DomainError("duplicate_letter", f"{command.letter_id} was confirmed differently")
    if state.status == "cancelled":
        raise DomainError("pledge_cancelled", "a cancelled pledge takes no letters")
    if command.target_id not in state.target_ids:
        raise DomainError("unknown_target", f"{command.target_id} is not a target of this pledge")
    require_choice(command.channel, Channel, "invalid_channel", "channel")
    # A day's slack: the sender's calendar may already be on the next day (UTC+14).
    if command.sent_on > command.confirmed_at.date() + timedelta(days=1):
        raise DomainError("sent_in_future", "a letter cannot be confirmed before it is sent")
    if command.sent_on < command.action_issued_on:
        raise DomainError("sent_before_issue", "a letter cannot be sent before the action "
                          f"was issued ({command.action_issued_on.isoformat()})")
    if not state.is_open or state.letters_confirmed + 1 < state.letters_promised:
        return [letter]
    count, at = state.letters_confirmed + 1, command.confirmed_at
    return [letter, emit(PledgeFulfilled, command, letters_confirmed=count, fulfilled_at=at)]


def _letter_facts(letter: Letter) -> tuple[object, ...]:
    return (letter.target_id, letter.channel, letter.sent_on)


# Evolve


def evolve(state: State, event: DomainEvent) -> State:
    """The state after `event`; `state` itself is left untouched. Unknown events are ignored."""
    match event:
        case Pledged():
            return carry(State, event, status="open")
        case LetterConfirmed():
            letters = {**state.letters, event.letter_id: _letter(event)}
            return replace(state, letters=letters)
        case PledgeFulfilled():
            return replace(state, status="fulfilled")
        case PledgeLapsed():
            return replace(state, status="lapsed")
        case PledgeCancelled():
            return replace(state, status="cancelled")
        case PledgeDueDateMoved():
            return replace(state, due_at=event.new_due_at)
    return state


def _letter(event: LetterConfirmed) -> Letter:
    return carry(Letter, event)


def replay(events: Iterable[DomainEvent]) -> State:
    """The state after all `events`, from the empty state."""
    return reduce(evolve, events, initial_state())


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""

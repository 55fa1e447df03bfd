"""Operations on the log's subscriptions (stream `operations-subscription-<name>`).

When an operator skips the event a subscription is stuck at, the event is never handled by
it, whatever it meant (an e-mail not sent, a webhook not delivered). That decision is a
fact of the campaign's history like any other, so it is an event: who skipped which event
of which subscription, and why, shown by the audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Final, TypeAlias

from campaign.domain.base import Aggregate, DomainError, DomainEvent, emit
from campaign.domain.values import require_aware, require_single_line

MAX_REASON: Final = 500
MAX_OPERATOR: Final = 200


def operations_stream(subscription: str) -> str:
    """The stream holding what operators did to one subscription."""
    return f"operations-subscription-{subscription}"


# Commands


@dataclass(frozen=True, kw_only=True)
class SkipStuckEvent:
    """Set aside the event `subscription` is stuck at (position `position`) and go on."""

    subscription: str
    position: int
    event_id: str
    event_type: str
    skipped_by: str
    reason: str
    skipped_at: datetime


Command: TypeAlias = SkipStuckEvent

# Events


@dataclass(frozen=True, kw_only=True)
class SubscriptionEventSkipped(DomainEvent):
    """`skipped_by` had `subscription` pass over the event at `position`, for `reason`."""

    type_name: ClassVar[str] = "SubscriptionEventSkipped"
    subscription: str
    position: int
    event_id: str
    event_type: str
    skipped_by: str
    reason: str
    skipped_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (SubscriptionEventSkipped,)


@dataclass(frozen=True)
class State:
    """The positions skipped so far (a retried command skips nothing twice)."""

    skipped: frozenset[int] = frozenset()


def initial_state() -> State:
    """A subscription nobody has operated on."""
    return State()


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The event the skip records, or DomainError if it says too little."""
    require_aware(command.skipped_at, "skipped_at")
    if command.position < 1:
        raise DomainError("invalid_position", "a log position is a whole number from 1")
    reason = require_single_line(command.reason.strip(), "the reason")
    if not reason or len(reason) > MAX_REASON:
        raise DomainError("invalid_reason",
                          f"say why the event is skipped, in 1 to {MAX_REASON} characters")
    skipped_by = require_single_line(command.skipped_by.strip(), "who skips")
    if not skipped_by or len(skipped_by) > MAX_OPERATOR:
        raise DomainError("invalid_operator",
                          f"say who skips the event, in 1 to {MAX_OPERATOR} characters")
    if command.position in state.skipped:
        return []
    return [emit(SubscriptionEventSkipped, command, reason=reason, skipped_by=skipped_by)]


def evolve(state: State, event: DomainEvent) -> State:
    """The state after `event`; unknown events are ignored."""
    if isinstance(event, SubscriptionEventSkipped):
        return State(state.skipped | {event.position})
    return state


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""


def audit_note(event: SubscriptionEventSkipped) -> str:
    """The line the audit shows for a skip: what was skipped and why (no data of anyone's
    but the operator's)."""
    return (f"{event.subscription} skipped position {event.position} "
            f"({event.event_type} {event.event_id}), by {event.skipped_by}: {event.reason}")

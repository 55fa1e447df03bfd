"""Letter reports (stream `letters-<action id>`): the aggregate numbers partners may see.

Partners never learn who wrote; they hear that an action passed 100, 1,000 or 10,000
confirmed letters, and once a day how many letters each official was sent the day before.
Both are facts about counts, so each gets its own event on a stream of its own: the
milestone is announced once however often the count is reported, and a day is reported
once however many clocks ask.

Milestones start at 100: below that a partner would learn about single supporters of a
small action almost one by one, which says more about people than about the campaign.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import reduce
from typing import ClassVar, Final, TypeAlias

from campaign.domain.base import Aggregate, DomainError, DomainEvent, emit
from campaign.domain.values import require_aware

MILESTONES: Final = (100, 1_000, 10_000, 100_000)


def letters_stream(action_id: str) -> str:
    """The stream holding one action's letter reports."""
    return f"letters-{action_id}"


def crossed(before: int, after: int) -> tuple[int, ...]:
    """The milestones a count passes on its way from `before` to `after`."""
    return tuple(m for m in MILESTONES if before < m <= after)


@dataclass(frozen=True)
class TargetLetters:
    """How many letters one official (a target of the action) was sent."""

    target_id: str
    letters: int


# Commands


@dataclass(frozen=True, kw_only=True)
class RecordLetterTotal:
    """The action's confirmed letters now number `letters` (counted at `counted_at`)."""

    action_id: str
    letters: int
    counted_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReportDailyLetterCounts:
    """Report the letters confirmed on UTC day `day`, per target, once the day is over."""

    action_id: str
    day: date
    per_target: tuple[TargetLetters, ...]
    reported_at: datetime


Command: TypeAlias = RecordLetterTotal | ReportDailyLetterCounts

# Events


@dataclass(frozen=True, kw_only=True)
class LetterMilestoneReached(DomainEvent):
    """The action's confirmed letters reached `milestone` (`letters` when it was counted)."""

    type_name: ClassVar[str] = "LetterMilestoneReached"
    action_id: str
    milestone: int
    letters: int
    reached_at: datetime


@dataclass(frozen=True, kw_only=True)
class DailyLetterCountsReported(DomainEvent):
    """On UTC day `day` the action's targets were sent these letters, `total` in all."""

    type_name: ClassVar[str] = "DailyLetterCountsReported"
    action_id: str
    day: date
    per_target: tuple[TargetLetters, ...]
    total: int
    reported_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (LetterMilestoneReached, DailyLetterCountsReported)

# State


@dataclass(frozen=True)
class State:
    """Which milestones were announced and which days reported."""

    action_id: str = ""
    milestones: frozenset[int] = frozenset()
    days: frozenset[date] = field(default_factory=frozenset)


def initial_state() -> State:
    """An action with no letter reports yet."""
    return State()


# Decide


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The events `command` causes given `state`, or DomainError if it breaks a rule."""
    match command:
        case RecordLetterTotal():
            return _total(state, command)
        case ReportDailyLetterCounts():
            return _daily(state, command)


def _total(state: State, command: RecordLetterTotal) -> list[DomainEvent]:
    require_aware(command.counted_at, "counted_at")
    if command.letters < 0:
        raise DomainError("invalid_count", "a letter count cannot be negative")
    return [
        emit(LetterMilestoneReached, command, milestone=m, reached_at=command.counted_at)
        for m in crossed(0, command.letters) if m not in state.milestones
    ]


def _daily(state: State, command: ReportDailyLetterCounts) -> list[DomainEvent]:
    require_aware(command.reported_at, "reported_at")
    ids = [t.target_id for t in command.per_target]
    if len(set(ids)) != len(ids) or any(t.letters < 0 for t in command.per_target):
        raise DomainError("invalid_count", "one non-negative count per target")
    if command.reported_at.astimezone(UTC).date() <= command.day:
        raise DomainError("day_not_over", "a day is reported once it is over")
    if command.day in state.days:
        return []  # reported before: another clock, or a retry
    total = sum(t.letters for t in command.per_target)
    return [emit(DailyLetterCountsReported, command, total=total)]


# Evolve


def evolve(state: State, event: DomainEvent) -> State:
    """The state after `event`; unknown events are ignored."""
    match event:
        case LetterMilestoneReached():
            return replace(state, action_id=event.action_id,
                           milestones=state.milestones | {event.milestone})
        case DailyLetterCountsReported():
            return replace(state, action_id=event.action_id, days=state.days | {event.day})
    return state


def replay(events: Iterable[DomainEvent]) -> State:
    """The state after `events`, from the start."""
    return reduce(evolve, events, initial_state())


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""

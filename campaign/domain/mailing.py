"""Mailing: one campaign e-mail sent to an audience in batches, and what became of each batch.

A mailing is planned in parts: `MailingPlanned` holds the first part's batches and each
later part comes as `BatchesPlanned`, so the first batches can be sent while the rest of a
large audience is still being planned. A part names the last supporter id it covers
(`planned_through`) and whether more follow; the next part starts after it, and a part
that does not start where the last one ended was planned already. Each batch is then
accepted by the mail provider (with the provider's message id) or fails for good; the
mailing is complete once its last part is planned and every batch has an outcome.
Recording an outcome twice is harmless, so a redelivered message never counts a batch
twice.

A recipient whose e-mail cannot be made (a deadline their timezone cannot show, a name
that would break a header, an unusable address) is left out of the batch and listed in
its outcome's `failed`, with a reason that names no one; the others are sent. Outcomes
recorded before `failed` existed read as having none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import reduce
from typing import ClassVar, Literal, TypeAlias

from campaign.domain.base import Aggregate, DomainError, DomainEvent, emit

MailingKind = Literal["action_launched", "action_updated", "action_closed", "case_development",
                      "pledge_reminder", "signup_confirmation", "manage_link"]
ACTION_KINDS: frozenset[MailingKind] = frozenset({
    "action_launched", "action_updated", "action_closed", "case_development", "pledge_reminder"})
"""Mailings about one urgent action; a sign-up confirmation or a manage link is about none."""
BatchOutcome = Literal["accepted", "failed"]
MAX_RECIPIENTS_PER_BATCH = 1000  # SendGrid: 1,000 personalizations per request


def mailing_stream(mailing_id: str) -> str:
    """The stream holding one mailing's events."""
    return f"mailing-{mailing_id}"


@dataclass(frozen=True)
class BatchPlan:
    """Up to 1,000 recipients sharing one template and locale."""

    batch_id: str
    template: str
    locale: str
    recipients: int


@dataclass(frozen=True)
class RecipientFailure:
    """One recipient left out of a batch, and why: ids and a reason, never a name or address."""

    delivery_id: str
    supporter_id: str
    reason: str


# Commands


@dataclass(frozen=True)
class PlanMailing:
    """Plan a campaign e-mail caused by one event, with every batch it needs."""

    mailing_id: str
    kind: MailingKind
    action_id: str | None
    case_id: str | None
    cause_event_id: str | None
    batches: tuple[BatchPlan, ...]
    planned_at: datetime
    more_to_plan: bool = False
    planned_through: str | None = None


@dataclass(frozen=True)
class PlanBatches:
    """Plan the next part of a mailing: the batches for the audience after `after` (the
    `planned_through` of the part before), up to and including `planned_through`."""

    mailing_id: str
    after: str | None
    batches: tuple[BatchPlan, ...]
    more_to_plan: bool
    planned_through: str | None
    planned_at: datetime


@dataclass(frozen=True)
class RecordBatchAccepted:
    """The provider accepted a batch for delivery."""

    mailing_id: str
    batch_id: str
    message_id: str
    accepted_at: datetime
    failed: tuple[RecipientFailure, ...] = ()


@dataclass(frozen=True)
class RecordBatchFailed:
    """The batch was refused for good: by the provider (e.g. 400, 401, 403, 413), or before
    any request (status 0) because it broke the provider's rules as a whole."""

    mailing_id: str
    batch_id: str
    status: int
    reason: str
    failed_at: datetime
    failed: tuple[RecipientFailure, ...] = ()


Command: TypeAlias = PlanMailing | PlanBatches | RecordBatchAccepted | RecordBatchFailed


# Events


@dataclass(frozen=True)
class MailingPlanned(DomainEvent):
    """A campaign e-mail was planned for an audience, split into batches: all of them, or
    the first part's when `more_to_plan` (planned before parts existed: all of them)."""

    type_name: ClassVar[str] = "MailingPlanned"
    mailing_id: str
    kind: MailingKind
    action_id: str | None
    case_id: str | None
    cause_event_id: str | None
    batches: tuple[BatchPlan, ...]
    planned_at: datetime
    more_to_plan: bool = False
    planned_through: str | None = None


@dataclass(frozen=True)
class BatchesPlanned(DomainEvent):
    """A later part of a mailing was planned: its batches, the last supporter id it covers,
    and whether more parts follow."""

    type_name: ClassVar[str] = "BatchesPlanned"
    mailing_id: str
    batches: tuple[BatchPlan, ...]
    more_to_plan: bool
    planned_through: str | None
    planned_at: datetime


@dataclass(frozen=True)
class BatchAccepted(DomainEvent):
    """The provider accepted one batch (its message id lets support trace it); `failed`
    lists the recipients left out of it. Nobody left: accepted with an empty message id."""

    type_name: ClassVar[str] = "BatchAccepted"
    mailing_id: str
    batch_id: str
    message_id: str
    accepted_at: datetime
    failed: tuple[RecipientFailure, ...] = ()


@dataclass(frozen=True)
class BatchFailed(DomainEvent):
    """One batch was refused for good (status 0: before any request); it is not retried.
    `failed` lists the recipients left out of it before it was sent."""

    type_name: ClassVar[str] = "BatchFailed"
    mailing_id: str
    batch_id: str
    status: int
    reason: str
    failed_at: datetime
    failed: tuple[RecipientFailure, ...] = ()


@dataclass(frozen=True)
class MailingCompleted(DomainEvent):
    """The last part of the mailing is planned and every batch has an outcome."""

    type_name: ClassVar[str] = "MailingCompleted"
    mailing_id: str
    accepted_batches: int
    failed_batches: int
    completed_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (
    MailingPlanned, BatchesPlanned, BatchAccepted, BatchFailed, MailingCompleted,
)


# State


@dataclass(frozen=True)
class State:
    """A mailing's plan so far, where planning stands, and the outcome of each batch."""

    mailing_id: str = ""
    planned: bool = False
    batches: Mapping[str, BatchPlan] = field(default_factory=dict)
    outcomes: Mapping[str, BatchOutcome] = field(default_factory=dict)
    more_to_plan: bool = False
    planned_through: str | None = None

    @property
    def complete(self) -> bool:
        """True once the last part is planned and every batch was accepted or failed."""
        return (self.planned and not self.more_to_plan
                and len(self.outcomes) == len(self.batches))


def initial_state() -> State:
    """A mailing never planned."""
    return State()


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The events a command causes, or DomainError."""
    if isinstance(command, PlanMailing):
        return _plan(state, command)
    if not state.planned:
        raise DomainError("unknown_mailing", f"no mailing {command.mailing_id}")
    if isinstance(command, PlanBatches):
        return _plan_part(state, command)
    if command.batch_id not in state.batches:
        raise DomainError("unknown_batch", f"no batch {command.batch_id} in this mailing")
    if command.batch_id in state.outcomes:
        return []  # a redelivered message: the outcome is already recorded
    if any(not f.delivery_id or not f.reason for f in command.failed):
        raise DomainError("invalid_failure", "a recipient failure names its delivery and why")
    outcome: DomainEvent = (emit(BatchAccepted, command)
                            if isinstance(command, RecordBatchAccepted)
                            else emit(BatchFailed, command))
    after = evolve(state, outcome)
    if not after.complete:
        return [outcome]
    at = command.accepted_at if isinstance(command, RecordBatchAccepted) else command.failed_at
    accepted = sum(1 for o in after.outcomes.values() if o == "accepted")
    return [outcome, MailingCompleted(command.mailing_id, accepted,
                                      len(after.outcomes) - accepted, at)]


def _plan(state: State, command: PlanMailing) -> list[DomainEvent]:
    if state.planned:
        return []  # planned from the same cause before: nothing new
    _check_batches(state, command.batches)
    if (command.kind in ACTION_KINDS) != (command.action_id is not None):
        raise DomainError("invalid_mailing", "mailings about an action, and only they, name it")
    planned = emit(MailingPlanned, command)
    if command.batches or command.more_to_plan:
        return [planned]
    return [planned, MailingCompleted(command.mailing_id, 0, 0, command.planned_at)]


def _plan_part(state: State, command: PlanBatches) -> list[DomainEvent]:
    if not state.more_to_plan or command.after != state.planned_through:
        return []  # this part was planned before: nothing new
    _check_batches(state, command.batches)
    part = emit(BatchesPlanned, command)
    after = evolve(state, part)
    if not after.complete:
        return [part]
    accepted = sum(1 for o in after.outcomes.values() if o == "accepted")
    return [part, MailingCompleted(command.mailing_id, accepted,
                                   len(after.outcomes) - accepted, command.planned_at)]


def _check_batches(state: State, batches: tuple[BatchPlan, ...]) -> None:
    ids = [b.batch_id for b in batches]
    if len(set(ids)) != len(ids) or not state.batches.keys().isdisjoint(ids):
        raise DomainError("duplicate_batch", "batch ids must be unique within a mailing")
    if any(not 0 < b.recipients <= MAX_RECIPIENTS_PER_BATCH for b in batches):
        raise DomainError("invalid_batch", f"a batch holds 1 to {MAX_RECIPIENTS_PER_BATCH}")


def evolve(state: State, event: DomainEvent) -> State:
    """The state after one event."""
    if isinstance(event, MailingPlanned):
        return State(event.mailing_id, True, {b.batch_id: b for b in event.batches},
                     more_to_plan=event.more_to_plan, planned_through=event.planned_through)
    if isinstance(event, BatchesPlanned):
        return replace(state, batches={**state.batches, **{b.batch_id: b for b in event.batches}},
                       more_to_plan=event.more_to_plan, planned_through=event.planned_through)
    if isinstance(event, BatchAccepted):
        return replace(state, outcomes={**state.outcomes, event.batch_id: "accepted"})
    if isinstance(event, BatchFailed):
        return replace(state, outcomes={**state.outcomes, event.batch_id: "failed"})
    return state


def replay(events: Iterable[DomainEvent]) -> State:
    """The state after all `events`."""
    return reduce(evolve, events, initial_state())


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""

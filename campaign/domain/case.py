"""The Case aggregate (stream `case-<id>`): a person or group at risk and what happened.

A case outlives its actions: the seed's case starts with a detention in 2010 and a
partner reports a Supreme Court hearing in 2020. Developments pushed by partners can
be held for a campaigner's approval before anyone sees them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import reduce
from typing import ClassVar, Literal, TypeAlias

from campaign.domain.base import Aggregate, DomainError, DomainEvent, carry, emit
from campaign.domain.values import (
    Occurrence,
    check_occurrence,
    require_choice,
    require_plain_text,
    require_single_line,
    require_text,
    validate_country,
)

SubjectKind = Literal["person", "group"]
DevelopmentKind = Literal[
    "detained", "charged", "ill_treatment_reported", "hearing_scheduled", "hearing_held",
    "sentenced", "appeal_filed", "appeal_decided", "un_body_views", "released",
    "died_in_custody", "other",
]
SourceKind = Literal["campaigner", "partner"]
CaseStatus = Literal["none", "open", "closed"]


def case_stream(case_id: str) -> str:
    """The stream holding one case's events."""
    return f"case-{case_id}"


@dataclass(frozen=True)
class DevelopmentSource:
    """Who told us: our own campaigners, or a partner (then `partner_id` says which)."""

    kind: SourceKind
    partner_id: str | None = None
    url: str | None = None


# Commands


@dataclass(frozen=True)
class OpenCase:
    """Start following a person or group at risk."""

    case_id: str
    subject_name: str
    subject_kind: SubjectKind
    country: str
    summary: str
    tags: tuple[str, ...]
    opened_at: datetime


@dataclass(frozen=True)
class RecordDevelopment:
    """Add something that happened to the case's history."""

    case_id: str
    development_id: str
    kind: DevelopmentKind
    occurred: Occurrence
    summary: str
    source: DevelopmentSource
    recorded_at: datetime
    requires_approval: bool = False


@dataclass(frozen=True)
class ApproveDevelopment:
    """Make a development that was held for review visible."""

    case_id: str
    development_id: str
    approved_at: datetime


@dataclass(frozen=True)
class RejectDevelopment:
    """Keep a development that was held for review out of sight for good; say why."""

    case_id: str
    development_id: str
    reason: str
    rejected_at: datetime


@dataclass(frozen=True)
class CloseCase:
    """Stop following the case; `outcome` says why, in words."""

    case_id: str
    outcome: str
    closed_at: datetime


Command: TypeAlias = (
    OpenCase | RecordDevelopment | ApproveDevelopment | RejectDevelopment | CloseCase
)

# Events


@dataclass(frozen=True)
class CaseOpened(DomainEvent):
    """A case was opened."""

    type_name: ClassVar[str] = "CaseOpened"
    case_id: str
    subject_name: str
    subject_kind: SubjectKind
    country: str
    summary: str
    tags: tuple[str, ...]
    opened_at: datetime


@dataclass(frozen=True)
class DevelopmentRecorded(DomainEvent):
    """A development was recorded; if `pending_approval`, it is hidden until approved."""

    type_name: ClassVar[str] = "DevelopmentRecorded"
    case_id: str
    development_id: str
    kind: DevelopmentKind
    occurred: Occurrence
    summary: str
    source: DevelopmentSource
    recorded_at: datetime
    pending_approval: bool


@dataclass(frozen=True)
class DevelopmentApproved(DomainEvent):
    """A pending development was approved and may now be shown and sent."""

    type_name: ClassVar[str] = "DevelopmentApproved"
    case_id: str
    development_id: str
    approved_at: datetime


@dataclass(frozen=True)
class DevelopmentRejected(DomainEvent):
    """A pending development was rejected: it is never shown to supporters or partners."""

    type_name: ClassVar[str] = "DevelopmentRejected"
    case_id: str
    development_id: str
    reason: str
    rejected_at: datetime


@dataclass(frozen=True)
class CaseClosed(DomainEvent):
    """The case was closed."""

    type_name: ClassVar[str] = "CaseClosed"
    case_id: str
    outcome: str
    closed_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (
    CaseOpened, DevelopmentRecorded, DevelopmentApproved, DevelopmentRejected, CaseClosed,
)

# State


@dataclass(frozen=True)
class Development:
    """One entry of the case's history as the aggregate remembers it."""

    development_id: str
    kind: DevelopmentKind
    occurred: Occurrence
    summary: str
    source: DevelopmentSource
    recorded_at: datetime
    pending_approval: bool
    approved_at: datetime | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None


@dataclass(frozen=True)
class State:
    """What `decide` needs to know about one case, and what a read model can show."""

    case_id: str = ""
    status: CaseStatus = "none"
    subject_name: str = ""
    subject_kind: SubjectKind = "person"
    country: str = ""
    summary: str = ""
    tags: tuple[str, ...] = ()
    opened_at: datetime | None = None
    outcome: str | None = None
    closed_at: datetime | None = None
    developments: Mapping[str, Development] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        """True once opened and until closed."""
        return self.status == "open"


def initial_state() -> State:
    """The state of a case stream with no events."""
    return State()


# Decide


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The events `command` causes given `state`, or DomainError if it breaks a rule."""
    match command:
        case OpenCase():
            return _open(state, command)
        case RecordDevelopment():
            return _record(state, command)
        case ApproveDevelopment():
            return _approve(state, command)
        case RejectDevelopment():
            return _reject(state, command)
        case CloseCase():
            return _close(state, command)


def _open(state: State, command: OpenCase) -> list[DomainEvent]:
    if state.status != "none":
        raise DomainError("already_exists", f"case {command.case_id} already exists")
    name = require_text(command.subject_name, "empty_subject_name", "the subject's name")
    require_single_line(name, "the subject's name")
    require_choice(command.subject_kind, SubjectKind, "invalid_subject_kind", "subject kind")
    validate_country(command.country)
    require_plain_text(require_text(command.summary, "empty_summary", "the summary"),
                       "the summary")
    for tag in command.tags:
        require_single_line(require_text(tag, "invalid_tag", "a tag"), "a tag")
    return [emit(CaseOpened, command)]


def _record(state: State, command: RecordDevelopment) -> list[DomainEvent]:
    _require_exists(state)
    event = _development_event(command)
    known = state.developments.get(command.development_id)
    if known is not None:
        return _repeat_or_conflict(known, event)
    if state.status == "closed":
        raise DomainError("case_closed", "a closed case takes no new developments")
    return [event]


def _development_event(command: RecordDevelopment) -> DevelopmentRecorded:
    require_choice(command.kind, DevelopmentKind, "unknown_development_kind", "kind")
    check_occurrence(command.occurred)
    require_plain_text(require_text(command.summary, "empty_summary", "the summary"),
                       "the summary")
    _check_source(command.source)
    return emit(DevelopmentRecorded, command, pending_approval=command.requires_approval)


def _check_source(source: DevelopmentSource) -> None:
    require_choice(source.kind, SourceKind, "invalid_source", "source kind")
    if source.url is not None:
        require_single_line(source.url, "the source's URL")
    if source.kind == "partner" and not source.partner_id:
        raise DomainError("partner_id_required", "a partner's development names the partner")
    if source.kind == "campaigner" and source.partner_id is not None:
        raise DomainError("invalid_source", "a campaigner's development names no partner")


def _repeat_or_conflict(known: Development, event: DevelopmentRecorded) -> list[DomainEvent]:
    # A retried submission is harmless; the same id with other content is a client bug.
    # Recording time and approval are not content: a retry comes later than the original.
    if _content(known) == _content(_development(event)):
        return []
    raise DomainError(
        "duplicate_development",
        f"development {event.development_id} was already recorded with other content",
    )


def _content(development: Development) -> tuple[object, ...]:
    return (development.kind, development.occurred, development.summary, development.source)


def _approve(state: State, command: ApproveDevelopment) -> list[DomainEvent]:
    # Allowed on a closed case: approval only publishes history that is already recorded.
    _require_pending(state, command.development_id)
    return [emit(DevelopmentApproved, command)]


def _reject(state: State, command: RejectDevelopment) -> list[DomainEvent]:
    # A decision is final: a rejected development cannot be approved later, nor the reverse.
    _require_pending(state, command.development_id)
    require_plain_text(require_text(command.reason, "empty_reason", "the reason"), "the reason")
    return [emit(DevelopmentRejected, command)]


def _require_pending(state: State, development_id: str) -> None:
    _require_exists(state)
    known = state.developments.get(development_id)
    if known is None:
        raise DomainError("unknown_development", f"no development {development_id}")
    if not known.pending_approval:
        raise DomainError("not_pending", f"development {development_id} is not pending")


def _close(state: State, command: CloseCase) -> list[DomainEvent]:
    _require_exists(state)
    if state.status == "closed":
        raise DomainError("case_closed", "the case is already closed")
    require_plain_text(require_text(command.outcome, "empty_outcome", "the outcome"),
                       "the outcome")
    return [emit(CaseClosed, command)]


def _require_exists(state: State) -> None:
    if state.status == "none":
        raise DomainError("unknown_case", "no such case")


# Evolve


def evolve(state: State, event: DomainEvent) -> State:
    """The state after `event`; `state` itself is left untouched. Unknown events are ignored."""
    match event:
        case CaseOpened():
            return carry(State, event, status="open")
        case DevelopmentRecorded():
            return _with_development(state, _development(event))
        case DevelopmentApproved():
            known = state.developments[event.development_id]
            approved = replace(known, pending_approval=False, approved_at=event.approved_at)
            return _with_development(state, approved)
        case DevelopmentRejected():
            known = state.developments[event.development_id]
            rejected = replace(known, pending_approval=False, rejected_at=event.rejected_at,
                               rejection_reason=event.reason)
            return _with_development(state, rejected)
        case CaseClosed():
            return replace(state, status="closed", outcome=event.outcome, closed_at=event.closed_at)
    return state


def _development(event: DevelopmentRecorded) -> Development:
    return carry(Development, event)


def _with_development(state: State, development: Development) -> State:
    developments = {**state.developments, development.development_id: development}
    return replace(state, developments=developments)


def replay(events: Iterable[DomainEvent]) -> State:
    """The state after all `events`, from the empty state."""
    return reduce(evolve, events, initial_state())


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""

"""The UrgentAction aggregate (stream `action-<id>`): drafted, launched, updated, closed.

Lifecycle: drafted -> launched -> closed. Numbered updates keep an action launched;
their numbers only grow, but may jump (the seed is the *fifth* update of UA 135/10).
A deadline may only move forward once launched, because supporters' pledges are due
then; a separate DeadlineExtended lets handlers move those due dates. An action whose
deadline has passed is not launched: every pledge would be due before it was made.
Drafts and launched actions may be translated (campaign/domain/translation.py), as often
as needed: to correct a translation, or after an update outdated it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import reduce
from typing import ClassVar, Final, Literal, TypeAlias

from campaign.domain.action_content import (
    ActionContent,
    check_complete,
    check_well_formed,
    content_of,
)
from campaign.domain.base import Aggregate, DomainError, DomainEvent, emit
from campaign.domain.translation import ActionText, Translation, check_translation, text_of
from campaign.domain.values import Deadline, Target, require_choice, require_plain_text

ActionStatus = Literal["none", "drafted", "launched", "closed"]
CloseReason = Literal[
    "released", "charges_dropped", "sentence_reduced", "died", "no_longer_needed", "other"
]

# Fields an update may replace; None in an update means "unchanged".
REPLACEABLE: Final = ("title", "summary", "body", "asks", "targets", "additional_information")


DEADLINE_NOTICE = "deadline passed — check with your section office before sending"
"""What readers are told once an open action's deadline has passed (the seed UA's words)."""


def action_stream(action_id: str) -> str:
    """The stream holding one action's events."""
    return f"action-{action_id}"


# Commands


@dataclass(frozen=True, kw_only=True)
class DraftAction(ActionContent):
    """Write a new action; nothing is sent until it is launched."""

    action_id: str
    drafted_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReviseDraft(ActionContent):
    """Replace a draft's whole content (any deadline is allowed before launch)."""

    action_id: str
    revised_at: datetime


@dataclass(frozen=True)
class LaunchAction:
    """Send the action out: from now on supporters can pledge."""

    action_id: str
    launched_at: datetime


@dataclass(frozen=True, kw_only=True)
class PublishUpdate:
    """Publish numbered update `number`, replacing the content fields that are not None."""

    action_id: str
    number: int
    published_at: datetime
    title: str | None = None
    summary: str | None = None
    body: str | None = None
    asks: tuple[str, ...] | None = None
    targets: tuple[Target, ...] | None = None
    additional_information: str | None = None
    deadline: Deadline | None = None


@dataclass(frozen=True)
class CloseAction:
    """Stop the action ("stop action"): no more appeals are wanted."""

    action_id: str
    reason: CloseReason
    note: str
    closed_at: datetime


@dataclass(frozen=True, kw_only=True)
class TranslateAction(ActionText):
    """Give the action's text in `language`, replacing any earlier translation into it."""

    action_id: str
    language: str
    translated_at: datetime


Command: TypeAlias = (DraftAction | ReviseDraft | LaunchAction | PublishUpdate | CloseAction
                      | TranslateAction)

# Events


@dataclass(frozen=True, kw_only=True)
class ActionDrafted(DomainEvent, ActionContent):
    """An action was drafted with this content."""

    type_name: ClassVar[str] = "ActionDrafted"
    action_id: str
    drafted_at: datetime


@dataclass(frozen=True, kw_only=True)
class DraftRevised(DomainEvent, ActionContent):
    """A draft's content was replaced by this content."""

    type_name: ClassVar[str] = "DraftRevised"
    action_id: str
    revised_at: datetime


@dataclass(frozen=True)
class ActionLaunched(DomainEvent):
    """The action went out to supporters."""

    type_name: ClassVar[str] = "ActionLaunched"
    action_id: str
    launched_at: datetime


@dataclass(frozen=True, kw_only=True)
class ActionUpdated(DomainEvent):
    """Update `number` was published; fields that are not None replace the content's."""

    type_name: ClassVar[str] = "ActionUpdated"
    action_id: str
    number: int
    published_at: datetime
    title: str | None = None
    summary: str | None = None
    body: str | None = None
    asks: tuple[str, ...] | None = None
    targets: tuple[Target, ...] | None = None
    additional_information: str | None = None


@dataclass(frozen=True)
class DeadlineExtended(DomainEvent):
    """The deadline moved later with update `update_number`; pledges due then move too."""

    type_name: ClassVar[str] = "DeadlineExtended"
    action_id: str
    update_number: int
    old_deadline: Deadline
    new_deadline: Deadline
    extended_at: datetime


@dataclass(frozen=True)
class ActionClosed(DomainEvent):
    """The action was stopped; open pledges should be cancelled."""

    type_name: ClassVar[str] = "ActionClosed"
    action_id: str
    reason: CloseReason
    note: str
    closed_at: datetime


@dataclass(frozen=True, kw_only=True)
class ActionTranslated(DomainEvent, ActionText):
    """The action's text in `language`; it stands for the action while the text it
    translated is unchanged (see `translation.Translation`)."""

    type_name: ClassVar[str] = "ActionTranslated"
    action_id: str
    language: str
    translated_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (
    ActionDrafted, DraftRevised, ActionLaunched, ActionUpdated, DeadlineExtended, ActionClosed,
    ActionTranslated,
)

# State


@dataclass(frozen=True)
class State:
    """One action as `decide` and the read side see it; `content` is None until drafted."""

    action_id: str = ""
    status: ActionStatus = "none"
    content: ActionContent | None = None
    update_number: int = 0
    drafted_at: datetime | None = None
    launched_at: datetime | None = None
    last_updated_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: CloseReason | None = None
    close_note: str | None = None
    translations: Mapping[str, Translation] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        """True while supporters can act on it: launched and not closed."""
        return self.status == "launched"

    @property
    def deadline(self) -> Deadline | None:
        """The current deadline, or None before drafting."""
        return self.content.deadline if self.content else None

    @property
    def target_ids(self) -> tuple[str, ...]:
        """Ids of all current targets, primary and copy."""
        return self.content.target_ids if self.content else ()

    def current_translation(self, language: str) -> ActionText | None:
        """The text in `language` if a translation of the current text exists, else None."""
        found = self.translations.get(language)
        if found is None or self.content is None or not found.is_current_for(self.content):
            return None
        return found.text


def initial_state() -> State:
    """The state of an action stream with no events."""
    return State()


# Decide


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The events `command` causes given `state`, or DomainError if it breaks a rule."""
    match command:
        case DraftAction():
            if state.status != "none":
                raise DomainError("already_exists", f"action {command.action_id} exists")
            check_well_formed(command)
            return [emit(ActionDrafted, command)]
        case ReviseDraft():
            _require_draft(state)
            check_well_formed(command)
            return [emit(DraftRevised, command)]
        case LaunchAction():
            return _launch(_require_draft(state), command)
        case PublishUpdate():
            return _publish(_require_launched(state), state.update_number, command)
        case CloseAction():
            _require_launched(state)
            require_choice(command.reason, CloseReason, "invalid_close_reason", "reason")
            require_plain_text(command.note, "the note")
            return [emit(ActionClosed, command)]
        case TranslateAction():
            content = _require_written(state)
            check_translation(command.language, text_of(command), content)
            return [emit(ActionTranslated, command)]


def _launch(content: ActionContent, command: LaunchAction) -> list[DomainEvent]:
    check_complete(content)
    event = emit(ActionLaunched, command)
    if command.launched_at >= content.deadline.ends_at():
        raise DomainError("deadline_passed", "the deadline has passed: move it before launching")
    return [event]


def _require_draft(state: State) -> ActionContent:
    _require_not_closed(state)
    if state.status != "drafted" or state.content is None:
        raise DomainError("not_a_draft", "only a draft can be revised or launched")
    return state.content


def _require_launched(state: State) -> ActionContent:
    _require_not_closed(state)
    if state.status != "launched" or state.content is None:
        raise DomainError("action_not_launched", "the action has not been launched")
    return state.content


def _require_written(state: State) -> ActionContent:
    """The content of a draft or a launched action (a closed one takes no translation)."""
    _require_not_closed(state)
    if state.content is None:  # unreachable after a draft, which always has content
        raise DomainError("unknown_action", "no such action")
    return state.content


def _require_not_closed(state: State) -> None:
    if state.status == "none":
        raise DomainError("unknown_action", "no such action")
    if state.status == "closed":
        raise DomainError("action_closed", "a closed action takes no more commands")


def _publish(content: ActionContent, last: int, command: PublishUpdate) -> list[DomainEvent]:
    if command.number <= last:
        message = f"update {command.number} is not after {last}"
        raise DomainError("update_number_not_increasing", message)
    updated = _with_replacements(content, command)
    check_well_formed(updated)
    check_complete(updated)
    return [emit(ActionUpdated, command), *_extension(content.deadline, command)]


def _extension(current: Deadline, command: PublishUpdate) -> list[DomainEvent]:
    # Restating the same deadline is not a move; a different one must end later.
    new = command.deadline
    if new is None or new == current:
        return []
    if new.ends_at() <= current.ends_at():
        raise DomainError("deadline_moved_backwards", "a launched action's deadline only moves on")
    return [
        DeadlineExtended(
            action_id=command.action_id,
            update_number=command.number,
            old_deadline=current,
            new_deadline=new,
            extended_at=command.published_at,
        )
    ]


def _with_replacements(
    content: ActionContent, update: PublishUpdate | ActionUpdated
) -> ActionContent:
    names = REPLACEABLE + (("deadline",) if isinstance(update, PublishUpdate) else ())
    changes = {name: getattr(update, name) for name in names}
    return replace(content, **{k: v for k, v in changes.items() if v is not None})


# Evolve


def evolve(state: State, event: DomainEvent) -> State:
    """The state after `event`; `state` itself is left untouched. Unknown events are ignored."""
    match event:
        case ActionDrafted():
            content = content_of(event)
            return State(event.action_id, "drafted", content, drafted_at=event.drafted_at)
        case DraftRevised():
            content = content_of(event)  # a translation into its new language has no use
            kept = {k: v for k, v in state.translations.items() if k != content.language}
            return replace(state, content=content, translations=kept)
        case ActionLaunched():
            return replace(state, status="launched", launched_at=event.launched_at)
        case ActionUpdated() if state.content is not None:
            content = _with_replacements(state.content, event)
            number, at = event.number, event.published_at
            return replace(state, content=content, update_number=number, last_updated_at=at)
        case DeadlineExtended() if state.content is not None:
            return replace(state, content=replace(state.content, deadline=event.new_deadline))
        case ActionClosed():
            closed = replace(state, status="closed", closed_at=event.closed_at)
            return replace(closed, close_reason=event.reason, close_note=event.note)
        case ActionTranslated() if state.content is not None:
            made = Translation(text_of(event), text_of(state.content), event.translated_at)
            return replace(state, translations={**state.translations, event.language: made})
    return state


def replay(events: Iterable[DomainEvent]) -> State:
    """The state after all `events`, from the empty state."""
    return reduce(evolve, events, initial_state())


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""

"""What a supporter chooses for themselves: which actions, language, country, timezone, a pause.

Changing language, country or timezone is checked as at sign-up. Pausing holds campaign
e-mail back without unsubscribing: nothing launched meanwhile is sent later, and the
e-mails a person asks for (the confirmation, a "manage my data" link) still go out, or
they could not resume.

These are commands and events of the Supporter aggregate (campaign.domain.supporter, which
decides them with `decide` and `changes` below), kept apart only to keep that module short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeAlias

from campaign.domain.base import DomainError, DomainEvent, emit
from campaign.domain.values import validate_country, validate_language, validate_timezone

# Commands


@dataclass(frozen=True)
class ChangeSubscriptions:
    """Replace which actions the supporter receives."""

    supporter_id: str
    all_actions: bool
    countries: tuple[str, ...]
    case_ids: tuple[str, ...]
    changed_at: datetime


@dataclass(frozen=True)
class ChangePreferences:
    """Replace the supporter's language, country and timezone (checked as at sign-up)."""

    supporter_id: str
    locale: str
    country: str
    timezone: str
    changed_at: datetime


@dataclass(frozen=True)
class PauseEmail:
    """Hold campaign e-mail back until ResumeEmail, without unsubscribing."""

    supporter_id: str
    at: datetime


@dataclass(frozen=True)
class ResumeEmail:
    """Send campaign e-mail again after a pause (what was launched meanwhile is not sent)."""

    supporter_id: str
    at: datetime


Command: TypeAlias = ChangeSubscriptions | ChangePreferences | PauseEmail | ResumeEmail

# Events


@dataclass(frozen=True)
class SubscriptionsChanged(DomainEvent):
    """The supporter's choice of actions changed to this."""

    type_name: ClassVar[str] = "SubscriptionsChanged"
    supporter_id: str
    all_actions: bool
    countries: tuple[str, ...]
    case_ids: tuple[str, ...]
    changed_at: datetime


@dataclass(frozen=True)
class PreferencesChanged(DomainEvent):
    """The supporter's language, country and timezone changed to these."""

    type_name: ClassVar[str] = "PreferencesChanged"
    supporter_id: str
    locale: str
    country: str
    timezone: str
    changed_at: datetime


@dataclass(frozen=True)
class EmailPaused(DomainEvent):
    """Campaign e-mail to the supporter is held back until they resume it."""

    type_name: ClassVar[str] = "EmailPaused"
    supporter_id: str
    paused_at: datetime


@dataclass(frozen=True)
class EmailResumed(DomainEvent):
    """Campaign e-mail to the supporter goes out again."""

    type_name: ClassVar[str] = "EmailResumed"
    supporter_id: str
    resumed_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (
    SubscriptionsChanged, PreferencesChanged, EmailPaused, EmailResumed)
Event: TypeAlias = PreferencesChanged | EmailPaused | EmailResumed


class Chosen(Protocol):
    """Which actions a supporter receives (campaign.domain.supporter.Subscriptions)."""

    @property
    def all_actions(self) -> bool: ...
    @property
    def countries(self) -> tuple[str, ...]: ...
    @property
    def case_ids(self) -> tuple[str, ...]: ...


class Settings(Protocol):
    """What of a supporter's state these decisions read."""

    @property
    def subscriptions(self) -> Chosen: ...
    @property
    def consented(self) -> bool: ...
    @property
    def email_paused(self) -> bool: ...
    @property
    def locale(self) -> str: ...
    @property
    def country(self) -> str: ...
    @property
    def timezone(self) -> str: ...


def decide(state: Settings, command: Command) -> list[DomainEvent]:
    """The events `command` causes for a registered, not erased supporter in `state`."""
    match command:
        case ChangeSubscriptions():
            return _change_subscriptions(state, command)
        case ChangePreferences():
            validate_language(command.locale)
            validate_country(command.country)
            validate_timezone(command.timezone)
            wanted = (command.locale, command.country, command.timezone)
            same = wanted == (state.locale, state.country, state.timezone)
            return [] if same else [emit(PreferencesChanged, command)]
        case PauseEmail():
            if not state.consented:
                raise DomainError("consent_required", "confirm consent before pausing e-mail")
            return [] if state.email_paused else [emit(EmailPaused, command, paused_at=command.at)]
        case ResumeEmail():
            resumed = emit(EmailResumed, command, resumed_at=command.at)
            return [resumed] if state.email_paused else []


def changes(event: Event) -> dict[str, Any]:
    """The fields of the supporter's state that `event` sets."""
    match event:
        case PreferencesChanged():
            return {"locale": event.locale, "country": event.country,
                    "timezone": event.timezone}
        case EmailPaused() | EmailResumed():
            return {"email_paused": isinstance(event, EmailPaused)}


def _change_subscriptions(state: Settings, command: ChangeSubscriptions) -> list[DomainEvent]:
    if not state.consented:
        raise DomainError("consent_required", "confirm consent before choosing subscriptions")
    for country in command.countries:
        validate_country(country)
    now = state.subscriptions
    wanted = (command.all_actions, command.countries, command.case_ids)
    if wanted == (now.all_actions, now.countries, now.case_ids):
        return []
    return [emit(SubscriptionsChanged, command)]

"""A supporter's own choices: which actions, language, country, timezone, and a pause.

Changing language, country or timezone is checked as at sign-up. Pausing holds campaign
e-mail back without unsubscribing: nothing launched meanwhile is sent later, and the
e-mails a person asks for (the confirmation, a "manage my data" link) still go out.

These are commands and events of the Supporter aggregate (campaign.domain.supporter, which
decides them), kept apart only to keep that module short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from campaign.domain.base import DomainError, DomainEvent, carry, emit
from campaign.domain.values import validate_country, validate_language, validate_timezone


@dataclass(frozen=True)
class Subscriptions:
    """Which actions a supporter wants: all of them, or those for some countries or cases."""

    all_actions: bool = True
    countries: tuple[str, ...] = ()
    case_ids: tuple[str, ...] = ()

    def covers(self, country: str, case_id: str) -> bool:
        """True if an action about `case_id` in `country` should be sent."""
        return self.all_actions or country in self.countries or case_id in self.case_ids


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
    """Hold campaign e-mail back until ResumeEmail, without unsubscribing.

    Only campaign mail pauses: the e-mails a person asks for (the confirmation, a manage
    link) still go out, or they could not resume.
    """

    supporter_id: str
    at: datetime


@dataclass(frozen=True)
class ResumeEmail:
    """Send campaign e-mail again after a pause (what was launched meanwhile is not sent)."""

    supporter_id: str
    at: datetime


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


def change_preferences(locale: str, country: str, timezone: str,
                       command: ChangePreferences) -> list[DomainEvent]:
    """PreferencesChanged if `command` is valid and differs from what is on file."""
    validate_language(command.locale)
    validate_country(command.country)
    validate_timezone(command.timezone)
    if (command.locale, command.country, command.timezone) == (locale, country, timezone):
        return []
    return [emit(PreferencesChanged, command)]


def pause(consented: bool, paused: bool, command: PauseEmail) -> list[DomainEvent]:
    """EmailPaused, unless already paused; only someone who consented gets mail to pause."""
    if not consented:
        raise DomainError("consent_required", "confirm consent before pausing e-mail")
    return [] if paused else [emit(EmailPaused, command, paused_at=command.at)]


def resume(paused: bool, command: ResumeEmail) -> list[DomainEvent]:
    """EmailResumed, if paused."""
    return [emit(EmailResumed, command, resumed_at=command.at)] if paused else []


def change_subscriptions(consented: bool, current: Subscriptions,
                         command: ChangeSubscriptions) -> list[DomainEvent]:
    """SubscriptionsChanged if `command` is valid and differs from the current choice."""
    if not consented:
        raise DomainError("consent_required", "confirm consent before choosing subscriptions")
    for country in command.countries:
        validate_country(country)
    wanted = carry(Subscriptions, command)
    if wanted == current:
        return []
    return [emit(SubscriptionsChanged, command)]

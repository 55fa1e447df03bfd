"""The Supporter aggregate (stream `supporter-<id>`): sign-up, consent, preferences, erasure.

Only the events that record what a person typed carry personal data (SupporterRegistered,
SignUpReceived, ManageRequestReceived: e-mail, name), named in their `personal_fields` so
the store encrypts them with the stream's key; erasing deletes that key, so nothing here
ever needs to rewrite or redact an event. The state keeps no personal data at all: no
decision depends on it. E-mail uniqueness needs a lookup across streams (a blind index),
so the application layer enforces it, not this module.

A public request (sign-up, "manage my data") is first recorded as asked on a fresh
stream (campaign.domain.requests), before anyone looks the address up. Resolving it later
either makes that stream the new supporter (SupporterRegistered) or passes the request on
to the supporter already on file (ConfirmationRequested, ManageLinkRequested).
What supporters choose for themselves is in campaign.domain.preferences, decided here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce
from typing import ClassVar, Literal, TypeAlias

from campaign.domain import preferences
from campaign.domain.base import Aggregate, DomainError, DomainEvent, carry, emit
from campaign.domain.preferences import ChangeSubscriptions as ChangeSubscriptions
from campaign.domain.preferences import SubscriptionsChanged as SubscriptionsChanged
from campaign.domain.requests import (
    CONFIRMATION_RESEND_INTERVAL,
    MANAGE_LINK_RESEND_INTERVAL,
    received,
)
from campaign.domain.requests import ConfirmationRequested as ConfirmationRequested
from campaign.domain.requests import ManageLinkRequested as ManageLinkRequested
from campaign.domain.requests import ManageRequestReceived as ManageRequestReceived
from campaign.domain.requests import ReceiveManageRequest as ReceiveManageRequest
from campaign.domain.requests import ReceiveSignUp as ReceiveSignUp
from campaign.domain.requests import RequestConfirmation as RequestConfirmation
from campaign.domain.requests import RequestManageLink as RequestManageLink
from campaign.domain.requests import SignUpReceived as SignUpReceived
from campaign.domain.subscriptions import NOTHING_MORE, Subscriptions, validate_sign_up_choice
from campaign.domain.values import normalise_email as normalise_email  # for the blind index
from campaign.domain.values import (
    require_choice,
    require_single_line,
    validate_country,
    validate_email,
    validate_language,
    validate_timezone,
)

UnsubscribeVia = Literal["link", "one_click", "provider", "campaigner"]
SuppressionReason = Literal["bounce", "spam_report", "dropped"]
ErasureRequester = Literal["supporter", "campaigner", "retention"]
"""Who erased: the person, a campaigner, or the retention rule for unconfirmed sign-ups."""


def supporter_stream(supporter_id: str) -> str:
    """The stream holding one supporter's events."""
    return f"supporter-{supporter_id}"


# Commands


@dataclass(frozen=True)
class RegisterSupporter:
    """Sign a supporter up; campaign e-mail waits for ConfirmConsent (double opt-in)."""

    supporter_id: str
    email: str
    name: str
    locale: str
    country: str
    timezone: str
    registered_at: datetime
    all_actions: bool = True
    case_ids: tuple[str, ...] = ()
    """Without all actions, the cases whose actions they asked for (campaign.domain.requests)."""


@dataclass(frozen=True)
class PurgeUnconfirmed:
    """Erase a sign-up never confirmed, unless a confirmation e-mail went out since `cutoff`."""

    supporter_id: str
    cutoff: datetime
    at: datetime


@dataclass(frozen=True)
class ConfirmConsent:
    """Record the click on the confirmation link; after an unsubscribe, it re-subscribes."""

    supporter_id: str
    confirmed_at: datetime


@dataclass(frozen=True)
class Unsubscribe:
    """Stop all campaign e-mail to the supporter."""

    supporter_id: str
    at: datetime
    via: UnsubscribeVia


@dataclass(frozen=True)
class Suppress:
    """Stop all e-mail because the provider reported the address as unusable or unwilling."""

    supporter_id: str
    reason: SuppressionReason
    at: datetime


@dataclass(frozen=True)
class EraseSupporter:
    """Forget the supporter's personal data (the store deletes their key)."""

    supporter_id: str
    requested_by: ErasureRequester
    at: datetime


Command: TypeAlias = (
    ReceiveSignUp | ReceiveManageRequest | RegisterSupporter | RequestConfirmation
    | RequestManageLink | ConfirmConsent | Unsubscribe | Suppress | EraseSupporter
    | PurgeUnconfirmed | preferences.Command
)

# Events


@dataclass(frozen=True)
class SupporterRegistered(DomainEvent):
    """A supporter signed up; `email` and `name` are stored encrypted."""

    type_name: ClassVar[str] = "SupporterRegistered"
    personal_fields: ClassVar[frozenset[str]] = frozenset({"email", "name"})
    supporter_id: str
    email: str
    name: str
    locale: str
    country: str
    timezone: str
    registered_at: datetime
    all_actions: bool = True
    case_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConsentConfirmed(DomainEvent):
    """The supporter confirmed their address and consent to campaign e-mail."""

    type_name: ClassVar[str] = "ConsentConfirmed"
    supporter_id: str
    confirmed_at: datetime


@dataclass(frozen=True)
class Unsubscribed(DomainEvent):
    """The supporter unsubscribed from campaign e-mail."""

    type_name: ClassVar[str] = "Unsubscribed"
    supporter_id: str
    via: UnsubscribeVia
    unsubscribed_at: datetime


@dataclass(frozen=True)
class SupporterSuppressed(DomainEvent):
    """No e-mail may go to the supporter's address any more."""

    type_name: ClassVar[str] = "SupporterSuppressed"
    supporter_id: str
    reason: SuppressionReason
    suppressed_at: datetime


@dataclass(frozen=True)
class SupporterErased(DomainEvent):
    """The supporter's personal data was erased; this event itself holds none."""

    type_name: ClassVar[str] = "SupporterErased"
    supporter_id: str
    requested_by: ErasureRequester
    erased_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (
    SupporterRegistered, ConfirmationRequested, ConsentConfirmed, Unsubscribed,
    SupporterSuppressed, SupporterErased, SignUpReceived, ManageRequestReceived,
    ManageLinkRequested, *preferences.EVENTS,
)

# State


@dataclass(frozen=True)
class State:
    """One supporter as decisions and sending need them, without personal data."""

    supporter_id: str = ""
    received: bool = False
    """A public request was recorded on this stream (it may never become a supporter)."""
    registered: bool = False
    consented: bool = False
    subscriptions: Subscriptions = Subscriptions()
    unsubscribed: bool = False
    unsubscribed_at: datetime | None = None
    suppressed: bool = False
    suppression_reason: SuppressionReason | None = None
    email_paused: bool = False
    erased: bool = False
    locale: str = ""
    country: str = ""
    timezone: str = ""
    confirmation_sent_at: datetime | None = None
    manage_link_sent_at: datetime | None = None
    pending: Subscriptions = NOTHING_MORE
    """What confirmation requests asked to add, joined to `subscriptions` on confirmation."""

    @property
    def can_receive_campaign_email(self) -> bool:
        """True if consented and not unsubscribed, paused, suppressed or erased."""
        blocked = self.unsubscribed or self.email_paused or self.suppressed or self.erased
        return self.registered and self.consented and not blocked


def initial_state() -> State:
    """The state of a supporter stream with no events."""
    return State()


# Decide


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The events `command` causes given `state`, or DomainError if it breaks a rule."""
    if state.erased:
        raise DomainError("supporter_erased", "the supporter was erased")
    if isinstance(command, RegisterSupporter):
        return [] if state.registered else [_registration(command)]
    if isinstance(command, ReceiveSignUp | ReceiveManageRequest):
        return [] if state.received or state.registered else [received(command)]
    if not state.registered:
        raise DomainError("unknown_supporter", "no such supporter")
    match command:
        case RequestConfirmation():
            return _request_confirmation(state, command)
        case RequestManageLink():
            return _request_manage_link(state, command)
        case ConfirmConsent():
            return _confirm(state, command)
        case Unsubscribe():
            require_choice(command.via, UnsubscribeVia, "invalid_via", "via")
            done = state.unsubscribed
            return [] if done else [emit(Unsubscribed, command, unsubscribed_at=command.at)]
        case Suppress():
            require_choice(command.reason, SuppressionReason, "invalid_reason", "reason")
            done = state.suppressed
            return [] if done else [emit(SupporterSuppressed, command, suppressed_at=command.at)]
        case EraseSupporter():
            require_choice(command.requested_by, ErasureRequester, "invalid_requester", "by")
            return [emit(SupporterErased, command, erased_at=command.at)]
        case PurgeUnconfirmed():
            return _purge(state, command)
        case _:
            return preferences.decide(state, command)


def _registration(command: RegisterSupporter) -> SupporterRegistered:
    email = validate_email(command.email.strip())
    require_single_line(command.name, "the name")  # a header's display name
    validate_language(command.locale)
    validate_country(command.country)
    validate_timezone(command.timezone)
    validate_sign_up_choice(command.all_actions, command.case_ids)
    return emit(SupporterRegistered, command, email=email)


def _request_confirmation(state: State, command: RequestConfirmation) -> list[DomainEvent]:
    """Again only for an address that still waits (or, unsubscribed, may opt in afresh)."""
    waiting = not state.consented or state.unsubscribed
    if not waiting or state.suppressed or _mailed_lately(state, command.at):
        return []
    if command.adds_case_ids:
        validate_sign_up_choice(command.adds_all_actions, command.adds_case_ids)
    return [emit(ConfirmationRequested, command, requested_at=command.at)]


def _mailed_lately(state: State, at: datetime) -> bool:
    """A confirmation e-mail went out less than a quarter-hour ago, before any unsubscribe:
    the first request after unsubscribing is always sent, so opting in again never waits."""
    last, left = state.confirmation_sent_at, state.unsubscribed_at
    if last is None or at - last >= CONFIRMATION_RESEND_INTERVAL:
        return False
    return not (state.unsubscribed and left is not None and left >= last)


def _request_manage_link(state: State, command: RequestManageLink) -> list[DomainEvent]:
    """Not to a suppressed address (it cannot or will not receive it), nor too often."""
    last = state.manage_link_sent_at
    recent = last is not None and command.at - last < MANAGE_LINK_RESEND_INTERVAL
    if state.suppressed or recent:
        return []
    return [emit(ManageLinkRequested, command, requested_at=command.at)]


def _purge(state: State, command: PurgeUnconfirmed) -> list[DomainEvent]:
    """Only a sign-up still waiting for its confirmation, with no e-mail since the cutoff."""
    last = state.confirmation_sent_at
    if state.consented or (last is not None and last >= command.cutoff):
        return []
    return [emit(SupporterErased, command, requested_by="retention", erased_at=command.at)]


def _confirm(state: State, command: ConfirmConsent) -> list[DomainEvent]:
    # A confirmation after an unsubscribe is a fresh double opt-in: it re-subscribes.
    if state.consented and not state.unsubscribed:
        return []
    confirmed: list[DomainEvent] = [emit(ConsentConfirmed, command)]
    wanted = state.subscriptions.joined(state.pending)
    if wanted != state.subscriptions:
        confirmed.append(carry(SubscriptionsChanged, wanted, supporter_id=state.supporter_id,
                               changed_at=command.confirmed_at))
    return confirmed


# Evolve


def evolve(state: State, event: DomainEvent) -> State:
    """The state after `event`; `state` itself is left untouched. Unknown events are ignored."""
    match event:
        case SupporterRegistered():
            return carry(State, event, registered=True,
                         confirmation_sent_at=event.registered_at,
                         subscriptions=Subscriptions(event.all_actions, (), event.case_ids))
        case SignUpReceived() | ManageRequestReceived():
            return replace(state, supporter_id=event.supporter_id, received=True)
        case ConfirmationRequested():
            adds = Subscriptions(event.adds_all_actions, (), event.adds_case_ids)
            return replace(state, confirmation_sent_at=event.requested_at,
                           pending=state.pending.joined(adds))
        case ManageLinkRequested():
            return replace(state, manage_link_sent_at=event.requested_at)
        case ConsentConfirmed():
            return replace(state, consented=True, unsubscribed=False, pending=NOTHING_MORE)
        case SubscriptionsChanged():
            return replace(state, subscriptions=carry(Subscriptions, event))
        case Unsubscribed():
            return replace(state, unsubscribed=True, unsubscribed_at=event.unsubscribed_at)
        case SupporterSuppressed():
            return replace(state, suppressed=True, suppression_reason=event.reason)
        case SupporterErased():
            return replace(state, erased=True)
        case (preferences.PreferencesChanged() | preferences.EmailPaused()
              | preferences.EmailResumed()):
            return replace(state, **preferences.changes(event))
    return state


def replay(events: Iterable[DomainEvent]) -> State:
    """The state after all `events`, from the empty state."""
    return reduce(evolve, events, initial_state())


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""

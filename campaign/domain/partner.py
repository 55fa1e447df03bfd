"""The Partner aggregate (stream `partner-<id>`): a local organisation that follows cases with us.

A partner receives signed webhooks about what it follows, pulls the same events from a
feed, and pushes case developments back. Its credentials (signing secrets, API key) are
generated outside the domain: the log only ever holds a secret's id and the API key's hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from functools import reduce
from typing import Any, ClassVar, Literal, TypeAlias, get_args

from campaign.domain.base import Aggregate, DomainError, DomainEvent, carry, emit
from campaign.domain.values import (
    require_single_line,
    require_text,
    validate_country,
    validate_email,
)

PartnerEventType = Literal[
    "action.launched", "action.updated", "action.closed", "case.development_recorded",
    "action.letters_milestone", "action.daily_letter_counts",
]
PARTNER_EVENT_TYPES: tuple[str, ...] = get_args(PartnerEventType)
"""Every event type a partner can follow, in webhooks and in the feed."""

DisableReason = Literal["gone", "failing", "campaigner"]


@dataclass(frozen=True)
class Follows:
    """What a partner follows: events of these types about these cases, actions or countries.

    An action's events carry its case, so following a case also follows its actions.
    """

    case_ids: tuple[str, ...] = ()
    action_ids: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    event_types: tuple[str, ...] = PARTNER_EVENT_TYPES

    def covers(self, event_type: str, case_id: str | None, action_id: str | None,
               country: str | None) -> bool:
        """Whether an event of `event_type` about this case, action or country is followed."""
        if event_type not in self.event_types:
            return False
        return ((case_id is not None and case_id in self.case_ids)
                or (action_id is not None and action_id in self.action_ids)
                or (country is not None and country in self.countries))


FOLLOW_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Follows))
PARTNER_FIELDS: tuple[str, ...] = ("name", "contact_email", "webhook_url", *FOLLOW_FIELDS,
                                   "auto_approve_developments")
"""What a campaigner says about a partner: the one list the command, the event, the state, the
registry form and the read model share (events keep them flat, as stored)."""


def follows_of(source: object) -> Follows:
    """The Follows of any record carrying the follow fields (a command, an event, a form)."""
    return carry(Follows, source)
PartnerStatus = Literal["none", "registered"]


def partner_stream(partner_id: str) -> str:
    """The stream holding one partner's events."""
    return f"partner-{partner_id}"


# Commands


@dataclass(frozen=True)
class RegisterPartner:
    """Start working with a partner: who they are, where to send, what they follow.

    `api_key_hash` is the hash of the key handed to the partner once (never the key).
    """

    partner_id: str
    name: str
    contact_email: str
    webhook_url: str
    case_ids: tuple[str, ...]
    action_ids: tuple[str, ...]
    countries: tuple[str, ...]
    event_types: tuple[str, ...]
    auto_approve_developments: bool
    registered_at: datetime
    api_key_hash: str | None = None


@dataclass(frozen=True)
class RotatePartnerSecret:
    """Sign with a new secret from now on; older ones stay valid until `overlap_until`."""

    partner_id: str
    secret_id: str
    rotated_at: datetime
    overlap_until: datetime


@dataclass(frozen=True)
class DisablePartnerEndpoint:
    """Stop sending webhooks: the endpoint is gone (HTTP 410), failing, or a campaigner said so."""

    partner_id: str
    reason: DisableReason
    disabled_at: datetime


@dataclass(frozen=True)
class EnablePartnerEndpoint:
    """Send webhooks again."""

    partner_id: str
    enabled_at: datetime


@dataclass(frozen=True)
class ChangePartnerFollows:
    """Follow these cases, actions, countries and event types from now on, instead."""

    partner_id: str
    case_ids: tuple[str, ...]
    action_ids: tuple[str, ...]
    countries: tuple[str, ...]
    event_types: tuple[str, ...]
    changed_at: datetime


@dataclass(frozen=True)
class RotatePartnerApiKey:
    """Replace the partner's API key: the old one stops working at once.

    `api_key_hash` is the hash of the new key, handed to the partner once (never the key).
    """

    partner_id: str
    api_key_hash: str
    rotated_at: datetime


Command: TypeAlias = (
    RegisterPartner | RotatePartnerSecret | DisablePartnerEndpoint | EnablePartnerEndpoint
    | ChangePartnerFollows | RotatePartnerApiKey
)

# Events


@dataclass(frozen=True)
class PartnerRegistered(DomainEvent):
    """A partner was registered; its first signing secret was issued with it.

    v2: `contact_email` is a person's address, sealed with the partner stream's key like
    supporter data. v1 events keep it in clear (see `contact_stored_in_clear`).
    """

    type_name: ClassVar[str] = "PartnerRegistered"
    schema_version: ClassVar[int] = 2
    personal_fields: ClassVar[frozenset[str]] = frozenset({"contact_email"})
    partner_id: str
    name: str
    contact_email: str
    webhook_url: str
    case_ids: tuple[str, ...]
    action_ids: tuple[str, ...]
    countries: tuple[str, ...]
    event_types: tuple[str, ...]
    auto_approve_developments: bool
    registered_at: datetime
    api_key_hash: str | None = None


@dataclass(frozen=True)
class PartnerSecretRotated(DomainEvent):
    """Secret `secret_id` is current; the ones before it expire at `overlap_until`."""

    type_name: ClassVar[str] = "PartnerSecretRotated"
    partner_id: str
    secret_id: str
    rotated_at: datetime
    overlap_until: datetime


@dataclass(frozen=True)
class PartnerEndpointDisabled(DomainEvent):
    """Webhooks to this partner stopped, for `reason`."""

    type_name: ClassVar[str] = "PartnerEndpointDisabled"
    partner_id: str
    reason: DisableReason
    disabled_at: datetime


@dataclass(frozen=True)
class PartnerEndpointEnabled(DomainEvent):
    """Webhooks to this partner resumed."""

    type_name: ClassVar[str] = "PartnerEndpointEnabled"
    partner_id: str
    enabled_at: datetime


@dataclass(frozen=True)
class PartnerFollowsChanged(DomainEvent):
    """The partner follows these from now on; what was sent or queued before stays so."""

    type_name: ClassVar[str] = "PartnerFollowsChanged"
    partner_id: str
    case_ids: tuple[str, ...]
    action_ids: tuple[str, ...]
    countries: tuple[str, ...]
    event_types: tuple[str, ...]
    changed_at: datetime


@dataclass(frozen=True)
class PartnerApiKeyRotated(DomainEvent):
    """The partner's API key is now the one hashed to `api_key_hash`; the old one is void."""

    type_name: ClassVar[str] = "PartnerApiKeyRotated"
    partner_id: str
    api_key_hash: str
    rotated_at: datetime


EVENTS: tuple[type[DomainEvent], ...] = (
    PartnerRegistered, PartnerSecretRotated, PartnerEndpointDisabled, PartnerEndpointEnabled,
    PartnerFollowsChanged, PartnerApiKeyRotated,
)


def contact_stored_in_clear(data: dict[str, Any]) -> dict[str, Any]:
    """Upcaster PartnerRegistered v1 → v2: the payload is unchanged, its address still clear.

    Sealing needs the partner's key, which reading must not create, and the log is never
    rewritten: a v1 address stays as it was stored, and readers open only sealed values
    (`infra.event_mapping.reveal`). Partners registered from v2 on are sealed.
    """
    return data

# State


@dataclass(frozen=True)
class State:
    """One partner as `decide` and the read model see it."""

    partner_id: str = ""
    status: PartnerStatus = "none"
    name: str = ""
    contact_email: str = ""
    webhook_url: str = ""
    follows: Follows = Follows(event_types=())
    auto_approve_developments: bool = False
    registered_at: datetime | None = None
    api_key_hash: str | None = None
    endpoint_enabled: bool = True
    disabled_reason: DisableReason | None = None
    secret_id: str | None = None
    secret_rotated_at: datetime | None = None


def initial_state() -> State:
    """The state of a partner stream with no events."""
    return State()


# Decide


def decide(state: State, command: Command) -> list[DomainEvent]:
    """The events `command` causes given `state`, or DomainError if it breaks a rule."""
    match command:
        case RegisterPartner():
            return _register(state, command)
        case RotatePartnerSecret():
            return _rotate(state, command)
        case DisablePartnerEndpoint():
            _require_registered(state)
            if command.reason not in get_args(DisableReason):
                raise DomainError("invalid_reason", f"unknown reason {command.reason!r}")
            return [] if not state.endpoint_enabled else [emit(PartnerEndpointDisabled, command)]
        case EnablePartnerEndpoint():
            _require_registered(state)
            return [] if state.endpoint_enabled else [emit(PartnerEndpointEnabled, command)]
        case ChangePartnerFollows():
            _require_registered(state)
            _check_follows(command)
            unchanged = follows_of(command) == state.follows
            return [] if unchanged else [emit(PartnerFollowsChanged, command)]
        case RotatePartnerApiKey():
            _require_registered(state)
            require_text(command.api_key_hash, "empty_api_key_hash", "the API key's hash")
            if command.api_key_hash == state.api_key_hash:
                return []  # the same rotation again: already done
            return [emit(PartnerApiKeyRotated, command)]


def _register(state: State, command: RegisterPartner) -> list[DomainEvent]:
    if state.status != "none":
        raise DomainError("already_exists", f"partner {command.partner_id} already exists")
    require_text(command.partner_id, "empty_partner_id", "the partner id")
    require_single_line(require_text(command.name, "empty_name", "the partner's name"),
                        "the partner's name")
    validate_email(command.contact_email)
    if not command.webhook_url.startswith(("https://", "http://")):
        raise DomainError("invalid_webhook_url", "the webhook URL must be an http(s) URL")
    require_single_line(command.webhook_url, "the webhook URL")  # a request line carries it
    _check_follows(command)
    return [emit(PartnerRegistered, command)]


def _check_follows(command: RegisterPartner | ChangePartnerFollows) -> None:
    for country in command.countries:
        validate_country(country)
    for followed in (*command.case_ids, *command.action_ids):
        require_text(followed, "invalid_follow", "a followed case or action id")
    _check_event_types(command.event_types)


def _check_event_types(event_types: tuple[str, ...]) -> None:
    if not event_types:
        raise DomainError("no_event_types", "a partner follows at least one event type")
    unknown = sorted(set(event_types) - set(PARTNER_EVENT_TYPES))
    if unknown:
        raise DomainError("unknown_event_type", f"unknown partner event types: {unknown}")


def _rotate(state: State, command: RotatePartnerSecret) -> list[DomainEvent]:
    _require_registered(state)
    require_text(command.secret_id, "empty_secret_id", "the secret id")
    if command.secret_id == state.secret_id:
        return []  # the same rotation again: already done
    if command.overlap_until < command.rotated_at:
        raise DomainError("invalid_overlap", "the overlap cannot end before the rotation")
    return [emit(PartnerSecretRotated, command)]


def _require_registered(state: State) -> None:
    if state.status == "none":
        raise DomainError("unknown_partner", "no such partner")


# Evolve


def evolve(state: State, event: DomainEvent) -> State:
    """The state after `event`; `state` itself is left untouched. Unknown events are ignored."""
    match event:
        case PartnerRegistered():
            return _registered(event)
        case PartnerSecretRotated():
            return replace(state, secret_id=event.secret_id, secret_rotated_at=event.rotated_at)
        case PartnerEndpointDisabled():
            return replace(state, endpoint_enabled=False, disabled_reason=event.reason)
        case PartnerEndpointEnabled():
            return replace(state, endpoint_enabled=True, disabled_reason=None)
        case PartnerFollowsChanged():
            return replace(state, follows=follows_of(event))
        case PartnerApiKeyRotated():
            return replace(state, api_key_hash=event.api_key_hash)
    return state


def _registered(event: PartnerRegistered) -> State:
    return carry(State, event, status="registered", follows=follows_of(event))


def replay(events: Iterable[DomainEvent]) -> State:
    """The state after all `events`, from the empty state."""
    return reduce(evolve, events, initial_state())


AGGREGATE = Aggregate(initial_state, decide, evolve)
"""This aggregate's pure functions, as the command handler and replays use them."""

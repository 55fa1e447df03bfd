"""Public requests about an address, recorded as asked before anyone looks the address up.

A sign-up or a "manage my data" request names an e-mail address that may or may not be
registered. Recording it first, on a fresh supporter stream and sealed with that stream's
key, lets the request do the same work in the same time for a known and a new address,
so neither the answer nor its timing tells anyone who is registered. Resolving it later
(the application's `address_requests`) makes a new address's sign-up that supporter, or
passes the request on to the supporter on file and destroys the request's key.

These are commands and events of the Supporter aggregate (campaign.domain.supporter, which
decides them), kept apart only to keep that module short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from campaign.domain.base import DomainEvent, emit
from campaign.domain.subscriptions import validate_sign_up_choice
from campaign.domain.values import (
    validate_country,
    validate_email,
    validate_language,
    validate_timezone,
)

CONFIRMATION_RESEND_INTERVAL = timedelta(minutes=15)
"""At most one confirmation e-mail per address in this long: the public sign-up form must
not become a way to flood someone else's inbox."""
MANAGE_LINK_RESEND_INTERVAL = timedelta(minutes=5)
"""At most one "manage my data" e-mail per supporter in this long: asking with someone
else's address must not become a way to flood their inbox."""

# Commands


@dataclass(frozen=True)
class ReceiveSignUp:
    """Record a public sign-up as asked, on a fresh stream, before the address is looked up."""

    supporter_id: str
    email: str
    name: str
    locale: str
    country: str
    timezone: str
    received_at: datetime
    all_actions: bool = True
    case_ids: tuple[str, ...] = ()
    """Without all actions, the cases whose actions the person asked for (from a case's page)."""


@dataclass(frozen=True)
class ReceiveManageRequest:
    """Record a public "manage my data" request as asked, on a fresh stream of its own."""

    supporter_id: str
    email: str
    received_at: datetime


@dataclass(frozen=True)
class RequestConfirmation:
    """Send the confirmation e-mail again: someone signed up again with an address that
    waits for confirmation or unsubscribed, or the person asked to subscribe again.

    `adds_all_actions` and `adds_case_ids` are what that sign-up asked for: they join the
    supporter's subscriptions when the link is clicked, not before (double opt-in).
    """

    supporter_id: str
    at: datetime
    adds_all_actions: bool = False
    adds_case_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestManageLink:
    """E-mail the supporter a short-lived link to their data: someone asked with their address."""

    supporter_id: str
    at: datetime


# Events


@dataclass(frozen=True)
class SignUpReceived(DomainEvent):
    """Someone asked to sign up with this address; `email` and `name` are stored encrypted."""

    type_name: ClassVar[str] = "SignUpReceived"
    personal_fields: ClassVar[frozenset[str]] = frozenset({"email", "name"})
    supporter_id: str
    email: str
    name: str
    locale: str
    country: str
    timezone: str
    received_at: datetime
    all_actions: bool = True
    case_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManageRequestReceived(DomainEvent):
    """Someone asked for a "manage my data" link for this address (stored encrypted)."""

    type_name: ClassVar[str] = "ManageRequestReceived"
    personal_fields: ClassVar[frozenset[str]] = frozenset({"email"})
    supporter_id: str
    email: str
    received_at: datetime


@dataclass(frozen=True)
class ConfirmationRequested(DomainEvent):
    """The confirmation e-mail is to be sent again (the first goes with the registration);
    confirming adds `adds_all_actions` and `adds_case_ids` to the subscriptions."""

    type_name: ClassVar[str] = "ConfirmationRequested"
    supporter_id: str
    requested_at: datetime
    adds_all_actions: bool = False
    adds_case_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ManageLinkRequested(DomainEvent):
    """A "manage my data" link is to be e-mailed to the supporter's address on file."""

    type_name: ClassVar[str] = "ManageLinkRequested"
    supporter_id: str
    requested_at: datetime


def received(command: ReceiveSignUp | ReceiveManageRequest) -> DomainEvent:
    """What the public request asked, checked as a registration would be."""
    email = validate_email(command.email.strip())
    if isinstance(command, ReceiveManageRequest):
        return emit(ManageRequestReceived, command, email=email)
    validate_language(command.locale)
    validate_country(command.country)
    validate_timezone(command.timezone)
    validate_sign_up_choice(command.all_actions, command.case_ids)
    return emit(SignUpReceived, command, email=email)


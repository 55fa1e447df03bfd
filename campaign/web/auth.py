"""Who is calling over HTTP: campaigner tokens, supporter links and partner keys in headers.

Partner keys and campaigner tokens live in different tables and are never interchangeable:
a campaigner token opens no partner endpoint, and a partner key no campaigner one.

Supporters send the token of a link we e-mailed them as `Authorization: Supporter <token>`,
and each opens only what its e-mail was for: an action e-mail's link pledges and confirms
letters for that one action; a "manage my data" link (an hour long) opens the person's own
data. Both stop working when the supporter is erased.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from campaign.application.access import (
    ROLES,
    ActionLink,
    Caller,
    Purpose,
    Role,
    caller_for_token,
)
from campaign.application.errors import AuthError, Forbidden
from campaign.partners.registry import PartnerRecord, partner_for_api_key
from campaign.web.apidoc import documented
from campaign.web.context import container

PARTNER_KEY: list[dict[str, list[str]]] = [{"partnerKey": []}]
PARTNER_SIGNED: list[dict[str, list[str]]] = [{"partnerKey": [], "partnerSignature": []}]
UNAUTHORIZED = {"401": "UNAUTHORIZED"}


def credentials(header: str | None, scheme: str) -> str | None:
    """What follows `scheme` in an Authorization header, or None for another scheme or none.

    The scheme is matched whatever its case (RFC 9110 §11.1): `bearer` is `Bearer`.
    """
    name, _, value = (header or "").strip().partition(" ")
    if name.lower() != scheme.lower() or not value.strip():
        return None
    return value.strip()


def caller_from_bearer(header: str | None) -> Caller:
    """The token's caller, or AuthError for a missing, unknown or revoked token."""
    token = credentials(header, "Bearer")
    if token is None:
        raise AuthError("an API token is required: Authorization: Bearer <token>")
    caller = caller_for_token(container().engine, token)
    if caller is None:
        raise AuthError("the API token is unknown or revoked")
    return caller


F = TypeVar("F", bound=Callable[..., Any])


def require_role(role: Role) -> Callable[[F], F]:
    """Decorator: the request needs a campaigner token of at least `role`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            caller = caller_from_bearer(request.headers.get("Authorization"))
            if ROLES.index(caller.role or "viewer") < ROLES.index(role):
                raise Forbidden(f"this needs the {role} role")
            g.caller = caller
            return view(*args, **kwargs)

        return documented(guarded, view, {
            "security": [{"campaignerToken": []}], "x-required-role": role,
            "responses": {"401": "UNAUTHORIZED", "403": "FORBIDDEN"},
        })

    return decorate


def manage_link_required(view: F) -> F:
    """Decorator: the request needs the token of a "manage my data" link, still valid."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        g.caller = supporter_from_request("manage")
        return view(*args, **kwargs)

    return documented(guarded, view, {
        "security": [{"supporterToken": []}], "responses": {"401": "UNAUTHORIZED"},
    })


def action_link_required(view: F) -> F:
    """Decorator: the request needs the token of an action e-mail's link.

    Sets `g.caller` and `g.action_link`; the view refuses (403) a link for another action.
    """

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        g.action_link = action_link_from_request()
        g.caller = Caller("supporter", g.action_link.supporter_id)
        return view(*args, **kwargs)

    return documented(guarded, view, {
        "security": [{"supporterToken": []}],
        "responses": {"401": "UNAUTHORIZED", "403": "FORBIDDEN"},
    })


def action_link_checked_by_write(view: F) -> F:
    """Decorator: as `action_link_required`, but only the token's signature, age and
    purpose are checked here. For the writes whose own first read, in their transaction,
    also refuses (AuthError) a supporter no longer on file: one connection and one round
    trip less per request. The view must hand `g.action_link` to such a write.
    """

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        g.action_link = container().links.verify_action(_supporter_token())
        g.caller = Caller("supporter", g.action_link.supporter_id)
        return view(*args, **kwargs)

    return documented(guarded, view, {
        "security": [{"supporterToken": []}],
        "responses": {"401": "UNAUTHORIZED", "403": "FORBIDDEN"},
    })


def supporter_from_request(purpose: Purpose) -> Caller:
    """The supporter whose `purpose` link token is in `Authorization: Supporter <token>`."""
    token = _supporter_token()
    with container().engine.connect() as conn:
        return Caller("supporter", container().links.holder(conn, purpose, token))


def action_link_from_request() -> ActionLink:
    """The supporter and the one action of the action link in `Authorization`."""
    token = _supporter_token()
    with container().engine.connect() as conn:
        # One read needs no transaction: no BEGIN and ROLLBACK around it.
        conn.execution_options(isolation_level="AUTOCOMMIT")
        return container().links.action_holder(conn, token)


def _supporter_token() -> str:
    token = credentials(request.headers.get("Authorization"), "Supporter")
    if token is None:
        raise AuthError("a supporter token is required: Authorization: Supporter <token>")
    return token


def authenticate_partner() -> PartnerRecord:
    """The partner whose API key the request carries; AuthError for a missing or unknown key.

    Sets `g.caller`, so events the request appends record `partner:<id>` as their actor.
    """
    key = credentials(request.headers.get("Authorization"), "Bearer")
    if key is None:
        raise AuthError("a partner API key is required: Authorization: Bearer <key>")
    with container().engine.connect() as conn:
        partner = partner_for_api_key(conn, key)
    if partner is None:
        raise AuthError("the partner API key is unknown")
    g.caller = Caller("partner", partner.partner_id)
    return partner

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
from copy import deepcopy
from functools import wraps
from typing import Any, TypeVar, cast

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
from campaign.web.context import container

PARTNER_KEY: list[dict[str, list[str]]] = [{"partnerKey": []}]
PARTNER_SIGNED: list[dict[str, list[str]]] = [{"partnerKey": [], "partnerSignature": []}]
UNAUTHORIZED = {"401": "UNAUTHORIZED"}


def caller_from_bearer(header: str | None) -> Caller:
    """The token's caller, or AuthError for a missing, unknown or revoked token."""
    if not header or not header.startswith("Bearer "):
        raise AuthError("an API token is required: Authorization: Bearer <token>")
    caller = caller_for_token(container().engine, header.removeprefix("Bearer ").strip())
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

        return _documented(guarded, view, {
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

    return _documented(guarded, view, {
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

    return _documented(guarded, view, {
        "security": [{"supporterToken": []}],
        "responses": {"401": "UNAUTHORIZED", "403": "FORBIDDEN"},
    })


def _documented(guarded: Callable[..., Any], view: F, doc: dict[str, Any]) -> F:
    """Put what a guard demands into the view's OpenAPI operation (flask-smorest's `_apidoc`).

    The copy keeps the wrapped view's own documentation untouched.
    """
    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    manual = apidoc.setdefault("manual_doc", {})
    for key, value in doc.items():
        if isinstance(value, dict):
            manual[key] = {**value, **manual.get(key, {})}
        else:
            manual.setdefault(key, value)
    guarded._apidoc = apidoc  # type: ignore[attr-defined]
    return cast(F, guarded)


def supporter_from_request(purpose: Purpose) -> Caller:
    """The supporter whose `purpose` link token is in `Authorization: Supporter <token>`."""
    token = _supporter_token()
    with container().engine.connect() as conn:
        return Caller("supporter", container().links.holder(conn, purpose, token))


def action_link_from_request() -> ActionLink:
    """The supporter and the one action of the action link in `Authorization`."""
    token = _supporter_token()
    with container().engine.connect() as conn:
        return container().links.action_holder(conn, token)


def _supporter_token() -> str:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Supporter "):
        raise AuthError("a supporter token is required: Authorization: Supporter <token>")
    return header.removeprefix("Supporter ").strip()


def authenticate_partner() -> PartnerRecord:
    """The partner whose API key the request carries; AuthError for a missing or unknown key.

    Sets `g.caller`, so events the request appends record `partner:<id>` as their actor.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise AuthError("a partner API key is required: Authorization: Bearer <key>")
    with container().engine.connect() as conn:
        partner = partner_for_api_key(conn, header.removeprefix("Bearer ").strip())
    if partner is None:
        raise AuthError("the partner API key is unknown")
    g.caller = Caller("partner", partner.partner_id)
    return partner

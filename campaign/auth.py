"""Who is calling: campaigner API tokens (stored hashed) and signed supporter links."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal, TypeVar, cast

from flask import current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection, Engine, insert, select, update

from campaign.tables import api_tokens

Role = Literal["viewer", "campaigner", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "campaigner", "admin")
TOKEN_PREFIX = "uat_"

Purpose = Literal["confirm", "supporter", "unsubscribe", "erase"]
# How long a signed supporter link stays valid, per purpose.
LINK_LIFETIME_SECONDS: dict[Purpose, int] = {
    "confirm": 7 * 86400,
    "supporter": 365 * 86400,
    "unsubscribe": 5 * 365 * 86400,
    "erase": 7 * 86400,
}


class AuthError(Exception):
    """Raised when a request carries no usable credentials (HTTP 401)."""


class Forbidden(Exception):
    """Raised when the credentials are valid but their role is too low (HTTP 403)."""


@dataclass(frozen=True)
class Caller:
    """An authenticated campaigner token or supporter."""

    kind: Literal["token", "supporter", "partner"]
    id: str
    role: Role | None = None

    @property
    def actor(self) -> str:
        """How events record who acted: `token:<id>`, `supporter:<id>`, `partner:<id>`."""
        return f"{self.kind}:{self.id}"


def hash_token(token: str) -> str:
    """SHA-256 of a high-entropy token: enough, since it cannot be guessed or brute-forced."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(engine: Engine, name: str, role: Role) -> tuple[str, str]:
    """Create an API token; returns (token id, the token itself — shown once, never stored)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(insert(api_tokens).values(
            token_id=token_id, name=name, role=role, token_hash=hash_token(token),
        ))
    return token_id, token


def revoke_token(conn: Connection, token_id: str) -> bool:
    """Revoke a token; True if it existed and was active."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked.is_(False))
        .values(revoked=True)
    )
    return bool(result.rowcount)


def caller_from_bearer(engine: Engine, header: str | None) -> Caller:
    """The token's caller, or AuthError for a missing, unknown or revoked token."""
    if not header or not header.startswith("Bearer "):
        raise AuthError("an API token is required: Authorization: Bearer <token>")
    token = header.removeprefix("Bearer ").strip()
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.token_id, api_tokens.c.role)
            .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked.is_(False))
        ).one_or_none()
    if row is None:
        raise AuthError("the API token is unknown or revoked")
    return Caller("token", row.token_id, cast(Role, row.role))


F = TypeVar("F", bound=Callable[..., Any])


def require_role(role: Role) -> Callable[[F], F]:
    """Decorator: the request needs a campaigner token of at least `role`."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            engine = current_app.extensions["campaign"].engine
            caller = caller_from_bearer(engine, request.headers.get("Authorization"))
            if ROLES.index(caller.role or "viewer") < ROLES.index(role):
                raise Forbidden(f"this needs the {role} role")
            g.caller = caller
            return view(*args, **kwargs)

        return _documented(guarded, view, {
            "security": [{"campaignerToken": []}], "x-required-role": role,
            "responses": {"401": "UNAUTHORIZED", "403": "FORBIDDEN"},
        })

    return decorate


def supporter_required(view: F) -> F:
    """Decorator: the request needs `Authorization: Supporter <token>` (purpose "supporter")."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        g.caller = supporter_from_request("supporter")
        return view(*args, **kwargs)

    return _documented(guarded, view, {
        "security": [{"supporterToken": []}], "responses": {"401": "UNAUTHORIZED"},
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


class SupporterLinks:
    """Signed, expiring, purpose-bound tokens for supporters' links (itsdangerous)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def sign(self, purpose: Purpose, supporter_id: str) -> str:
        """A token that proves, for `purpose` only, that the holder got our link."""
        return self._serializer(purpose).dumps(supporter_id)

    def verify(self, purpose: Purpose, token: str) -> str:
        """The supporter id inside a valid token; AuthError when forged, expired or misused."""
        try:
            value = self._serializer(purpose).loads(token, max_age=LINK_LIFETIME_SECONDS[purpose])
        except SignatureExpired:
            raise AuthError("this link has expired") from None
        except BadSignature:
            raise AuthError("this link is not valid") from None
        return str(value)

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret, salt=f"supporter-link/{purpose}")


def supporter_from_request(purpose: Purpose = "supporter") -> Caller:
    """The supporter whose signed token is in `Authorization: Supporter <token>`."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Supporter "):
        raise AuthError("a supporter token is required: Authorization: Supporter <token>")
    links: SupporterLinks = current_app.extensions["campaign"].links
    return Caller("supporter", links.verify(purpose, header.removeprefix("Supporter ").strip()))

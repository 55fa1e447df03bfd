"""Who may act: campaigner API tokens (stored hashed), roles, and signed supporter links."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Literal, cast

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection, Engine, insert, select, update

from campaign.application.errors import AuthError
from campaign.infra.tables import api_tokens

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


def caller_for_token(engine: Engine, token: str) -> Caller | None:
    """The campaigner holding `token`, or None for an unknown or revoked one."""
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.token_id, api_tokens.c.role)
            .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked.is_(False))
        ).one_or_none()
    return None if row is None else Caller("token", row.token_id, cast(Role, row.role))


def revoke_token(conn: Connection, token_id: str) -> bool:
    """Revoke a token; True if it existed and was active."""
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked.is_(False))
        .values(revoked=True)
    )
    return bool(result.rowcount)


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

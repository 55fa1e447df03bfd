"""Who may act: campaigner API tokens (stored hashed), roles, and signed supporter links."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import int_to_bytes
from sqlalchemy import Connection, Engine, bindparam, insert, or_, select, update

from campaign.application.errors import AuthError
from campaign.domain.values import validate_email
from campaign.infra.clock import utc_now
from campaign.infra.tables import api_tokens, console_sessions, supporters
from events import as_utc
from events.keyring import KeyRing
from events.sql import DriverRead

Role = Literal["viewer", "campaigner", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "campaigner", "admin")
TOKEN_PREFIX = "uat_"
LAST_USED_GRANULARITY = timedelta(minutes=5)
"""`last_used_at` moves at most this often per token: enough to tell a live token from a
forgotten one."""

Purpose = Literal["confirm", "manage", "unsubscribe", "erase"]
# How long a signed supporter link stays valid, per purpose. A "manage" link opens the
# person's data (export, preferences, erasure), so it lives an hour and is only ever sent
# to the address on file, when asked for.
LINK_LIFETIME_SECONDS: dict[Purpose, int] = {
    "confirm": 7 * 86400,
    "manage": 3600,
    "unsubscribe": 5 * 365 * 86400,
    "erase": 7 * 86400,
}
ACTION_LINK_LIFETIME_SECONDS = 180 * 86400
"""The link in an action e-mail: past the deadline and its extensions; every later e-mail
about the action (update, reminder) carries a fresh one. It opens only that action."""


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


def create_token(engine: Engine, name: str, role: Role, email: str | None = None,
                 created_by: str | None = None) -> tuple[str, str]:
    """Create an API token; returns (token id, the token itself — shown once, never stored).

    `email` is the campaigner's own address (test sends go there and nowhere else);
    `created_by` the actor who made it.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if email is not None:
        validate_email(email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(insert(api_tokens).values(
            token_id=token_id, name=name, role=role, token_hash=hash_token(token),
            email=email, created_by=created_by,
        ))
    return token_id, token


def caller_for_token(engine: Engine, token: str, now: datetime | None = None) -> Caller | None:
    """The campaigner holding `token`, or None for an unknown or revoked one.

    Notes when the token was last used, at most once per LAST_USED_GRANULARITY: a busy
    integration's requests read the row, they do not write it each time.
    """
    now = now or utc_now()
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.token_id, api_tokens.c.role, api_tokens.c.last_used_at)
            .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked.is_(False))
        ).one_or_none()
    if row is None:
        return None
    if row.last_used_at is None or now - as_utc(row.last_used_at) >= LAST_USED_GRANULARITY:
        note_use(engine, row.token_id, now)
    return Caller("token", row.token_id, cast(Role, row.role))


def note_use(engine: Engine, token_id: str, now: datetime) -> None:
    """Set `last_used_at`, unless a concurrent request of the same token just did."""
    with engine.begin() as conn:
        conn.execute(update(api_tokens).where(
            api_tokens.c.token_id == token_id,
            or_(api_tokens.c.last_used_at.is_(None),
                api_tokens.c.last_used_at <= now - LAST_USED_GRANULARITY),
        ).values(last_used_at=now))


@dataclass(frozen=True)
class TokenRecord:
    """What anyone may know about a token: never the token itself, nor its hash."""

    token_id: str
    name: str
    role: Role
    email: str | None
    created_at: datetime
    created_by: str | None
    last_used_at: datetime | None
    revoked: bool
    revoked_at: datetime | None


def list_tokens(conn: Connection) -> list[TokenRecord]:
    """Every token, oldest first (revoked ones too: they are part of the record)."""
    rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at,
                                                    api_tokens.c.token_id))
    return [_record(row) for row in rows]


def find_token(conn: Connection, token_id: str) -> TokenRecord | None:
    """One token's record, or None."""
    row = conn.execute(select(api_tokens).where(api_tokens.c.token_id == token_id)).one_or_none()
    return None if row is None else _record(row)


def _record(row: Any) -> TokenRecord:
    def moment(value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    return TokenRecord(
        token_id=row.token_id, name=row.name, role=cast(Role, row.role), email=row.email,
        created_at=as_utc(row.created_at), created_by=row.created_by,
        last_used_at=moment(row.last_used_at), revoked=row.revoked,
        revoked_at=moment(row.revoked_at))


def change_role(conn: Connection, token_id: str, role: Role, now: datetime | None = None
                ) -> bool:
    """Give an active token another role; True if it existed and was active.

    Its console sessions end: whoever holds it signs in again and meets the new role in
    every page, rather than a page rendered for the old one. API calls get the new role
    from their next request on.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked.is_(False))
        .values(role=role))
    if not result.rowcount:
        return False
    end_sessions_of(conn, token_id, now or utc_now(), "role changed")
    return True


def revoke_token(conn: Connection, token_id: str, now: datetime | None = None) -> bool:
    """Revoke a token, ending its console sessions; True if it existed and was active."""
    now = now or utc_now()
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.token_id == token_id, api_tokens.c.revoked.is_(False))
        .values(revoked=True, revoked_at=now)
    )
    end_sessions_of(conn, token_id, now, "token revoked")
    return bool(result.rowcount)


def end_sessions_of(conn: Connection, token_id: str, now: datetime, reason: str) -> int:
    """End every live console session of a token (revoked, or its role changed)."""
    result = conn.execute(
        update(console_sessions)
        .where(console_sessions.c.token_id == token_id, console_sessions.c.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason))
    return int(result.rowcount or 0)


@dataclass(frozen=True)
class ActionLink:
    """Who an action e-mail's link was sent to, and the one action it opens."""

    supporter_id: str
    action_id: str


class _LinkSigner(TimestampSigner):
    """itsdangerous' signer, deriving each secret's key once rather than per signature."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        derived: dict[Any, bytes] = self.__dict__.setdefault("_derived", {})
        if secret_key not in derived:
            derived[secret_key] = super().derive_key(secret_key)
        return derived[secret_key]


class _LinkSerializer(URLSafeTimedSerializer):
    """itsdangerous' serializer, signing with one signer made once: a mail batch signs two
    links per recipient, and the library would make a signer and derive its key for each.
    The tokens are the library's, byte for byte."""

    default_signer = _LinkSigner

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        signers: dict[Any, TimestampSigner] = self.__dict__.setdefault("_signers", {})
        if salt not in signers:
            signers[salt] = cast(TimestampSigner, super().make_signer(salt))
        return signers[salt]


class SupporterLinks:
    """Signed, expiring, purpose-bound tokens for supporters' links (itsdangerous).

    `verify` checks the signature and the age only; `holder` and `action_holder` also
    check that the supporter is still on file, so every link dies with erasure. Links are
    signed with the ring's newest secret and verified with any of them, so a link sent
    before SECRET_KEY was replaced works until it expires.
    """

    def __init__(self, secret: str | KeyRing) -> None:
        # itsdangerous signs with the last key of the list and verifies with every one.
        self._secrets = list(reversed(KeyRing.of(secret).secrets))
        self._serializers: dict[str, _LinkSerializer] = {}
        self._minters: dict[str, _LinkMinter] = {}

    def sign(self, purpose: Purpose, supporter_id: str) -> str:
        """A token that proves, for `purpose` only, that the holder got our link."""
        return self._minter(purpose).dumps(supporter_id)

    def sign_action(self, supporter_id: str, action_id: str) -> str:
        """The token of an action e-mail's link: pledge and confirm letters, that action only."""
        return self._minter("act").dumps([supporter_id, action_id])

    def verify(self, purpose: Purpose, token: str) -> str:
        """The supporter id inside a valid token; AuthError when forged, expired or misused."""
        value = self._load(purpose, token, LINK_LIFETIME_SECONDS[purpose])
        if not isinstance(value, str):
            raise AuthError("this link is not valid")
        return value

    def verify_action(self, token: str) -> ActionLink:
        """The supporter and action a valid action link names; AuthError otherwise."""
        value = self._load("act", token, ACTION_LINK_LIFETIME_SECONDS)
        if not (isinstance(value, list) and len(value) == 2
                and all(isinstance(part, str) for part in value)):
            raise AuthError("this link is not valid")
        return ActionLink(*value)

    def holder(self, conn: Connection, purpose: Purpose, token: str) -> str:
        """The supporter a valid link names, if still on file and not erased."""
        return supporter_on_file(conn, self.verify(purpose, token))

    def action_holder(self, conn: Connection, token: str) -> ActionLink:
        """The action link's supporter and action, if the supporter is still on file."""
        link = self.verify_action(token)
        supporter_on_file(conn, link.supporter_id)
        return link

    def _load(self, salt: str, token: str, max_age: int) -> object:
        try:
            return self._serializer(salt).loads(token, max_age=max_age)
        except SignatureExpired:
            raise AuthError("this link has expired") from None
        except BadSignature:
            raise AuthError("this link is not valid") from None

    def _minter(self, salt: str) -> _LinkMinter:
        found = self._minters.get(salt)
        if found is None:  # two threads may both build one: either is as good
            found = _LinkMinter(cast(TimestampSigner, self._serializer(salt).make_signer()))
            self._minters[salt] = found
        return found

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        """One per purpose, built once: a mail batch signs two links per recipient, and a
        token check then builds no signer."""
        found = self._serializers.get(salt)
        if found is None:  # two threads may both build one: either is as good
            found = _LinkSerializer(self._secrets, salt=f"supporter-link/{salt}")
            self._serializers[salt] = found
        return found


class _LinkMinter:
    """Signs what `URLSafeTimedSerializer.dumps` signs, the same way, at a fraction of the
    cost: a mail batch signs two links per recipient, a launch millions.

    The token is the library's format (compact JSON, URL-safe base64, timestamp, HMAC under
    the library's derived key and digest), so the library's `loads` verifies it with its
    purpose, age and key ring. Two things the library does per token are left out: trying zlib on
    a payload of an id or two (it never comes out shorter; an uncompressed payload is as
    valid), and keying a pure-Python HMAC for every token (its SHA-1 is wrapped in a Python
    function, which keeps `hmac` off OpenSSL); one OpenSSL HMAC keyed once, copied per
    token, gives the same bytes.
    """

    def __init__(self, signer: TimestampSigner) -> None:
        self._signer = signer
        self._sep = signer.sep
        # Keyed once with the newest secret's derived key (salted with the purpose) and the
        # library's digest; each token copies it.
        self._mac = hmac.new(signer.derive_key(), digestmod=signer.digest_method().name)
        self._stamp = (-1, b"")  # the last second's timestamp, encoded: a batch shares it

    def dumps(self, value: object) -> str:
        signed = _b64(_COMPACT_JSON.encode(value).encode()) + self._sep + self._timestamp()
        mac = self._mac.copy()
        mac.update(signed)
        return (signed + self._sep + _b64(mac.digest())).decode()

    def _timestamp(self) -> bytes:
        now = self._signer.get_timestamp()
        second, encoded = self._stamp
        if now != second:
            encoded = _b64(int_to_bytes(now))
            self._stamp = (now, encoded)
        return encoded


_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""itsdangerous' compact JSON, built once (`json.dumps` with options builds one per call)."""


def _b64(data: bytes) -> bytes:
    """itsdangerous' `base64_encode` for bytes: URL-safe, unpadded."""
    return urlsafe_b64encode(data).rstrip(b"=")


_ERASED = DriverRead(select(supporters.c.erased).where(
    supporters.c.supporter_id == bindparam("supporter_id")))


def supporter_on_file(conn: Connection, supporter_id: str) -> str:
    """`supporter_id` if that supporter is registered and not erased; AuthError otherwise.

    Erasure (by the person, a campaigner or the retention rule) ends every link at once,
    however long its signature would still be valid.
    """
    found = _ERASED.rows(conn, {"supporter_id": supporter_id})
    if not found or found[0].erased:
        raise AuthError("this link is no longer valid")
    return supporter_id

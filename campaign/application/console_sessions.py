"""Console sessions: a campaigner trades an API token for a session the browser holds.

The token itself never reaches the browser's storage or JavaScript: the cookie carries a
random session id, and only that id's hash is stored here, so a copy of the table opens no
session. A session ends when it has been idle too long, when it reaches its absolute age,
at logout, and at once when its token is revoked (`access.end_sessions_of`).
Ended rows are kept: they are the record of who signed in to the console, and when.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Connection, Engine, insert, select, update

from campaign.application.access import Role, hash_token
from campaign.infra.tables import api_tokens, console_sessions
from events import as_utc

IDLE_LIMIT = timedelta(hours=8)
"""A session unused this long ends: a console left open overnight asks for the token again."""
ABSOLUTE_LIMIT = timedelta(days=7)
"""No session outlives this, however busy."""
SEEN_GRANULARITY = timedelta(minutes=1)
"""`last_seen_at` is written at most this often per session, not on every page load."""


@dataclass(frozen=True)
class ConsoleSession:
    """A live console session and the token it stands for."""

    session_id: str
    token_id: str
    token_name: str
    role: Role
    email: str | None

    @property
    def actor(self) -> str:
        """How events record what this session did: as its token, `token:<id>`."""
        return f"token:{self.token_id}"


def session_hash(session_id: str) -> str:
    """What the table stores of a session id (256 random bits: SHA-256 is enough)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def open_session(engine: Engine, token: str, now: datetime) -> ConsoleSession | None:
    """A new session for an active API token, or None for an unknown or revoked one."""
    with engine.begin() as conn:
        row = conn.execute(
            select(api_tokens.c.token_id, api_tokens.c.name, api_tokens.c.role,
                   api_tokens.c.email)
            .where(api_tokens.c.token_hash == hash_token(token), api_tokens.c.revoked.is_(False))
        ).one_or_none()
        if row is None:
            return None
        session_id = secrets.token_urlsafe(32)
        conn.execute(insert(console_sessions).values(
            session_hash=session_hash(session_id), token_id=row.token_id, created_at=now,
            last_seen_at=now, expires_at=now + ABSOLUTE_LIMIT,
        ))
        conn.execute(update(api_tokens).where(api_tokens.c.token_id == row.token_id)
                     .values(last_used_at=now))
    return ConsoleSession(session_id, row.token_id, row.name, cast(Role, row.role), row.email)


def live_session(engine: Engine, session_id: str, now: datetime) -> ConsoleSession | None:
    """The session `session_id` names if it is still live; None (and ended) otherwise."""
    key = session_hash(session_id)
    with engine.connect() as conn:
        row = conn.execute(
            select(console_sessions.c.last_seen_at, console_sessions.c.expires_at,
                   console_sessions.c.ended_at, api_tokens.c.token_id, api_tokens.c.name,
                   api_tokens.c.role, api_tokens.c.email, api_tokens.c.revoked)
            .join(api_tokens, api_tokens.c.token_id == console_sessions.c.token_id)
            .where(console_sessions.c.session_hash == key)
        ).one_or_none()
    if row is None or row.ended_at is not None:
        return None
    ending = _why_ended(row.revoked, _aware(row.last_seen_at), _aware(row.expires_at), now)
    with engine.begin() as conn:
        if ending is not None:
            _end(conn, [key], now, ending)
            return None
        if now - _aware(row.last_seen_at) >= SEEN_GRANULARITY:
            conn.execute(update(console_sessions).where(console_sessions.c.session_hash == key)
                         .values(last_seen_at=now))
    return ConsoleSession(session_id, row.token_id, row.name, cast(Role, row.role), row.email)


def end_session(engine: Engine, session_id: str, now: datetime, reason: str = "logout") -> None:
    """End one session (logout)."""
    with engine.begin() as conn:
        _end(conn, [session_hash(session_id)], now, reason)


def _why_ended(revoked: bool, last_seen: datetime, expires: datetime,
               now: datetime) -> str | None:
    if revoked:
        return "token revoked"
    if now >= expires:
        return "expired"
    if now - last_seen >= IDLE_LIMIT:
        return "idle"
    return None


def _end(conn: Connection, keys: list[str], now: datetime, reason: str) -> None:
    conn.execute(update(console_sessions)
                 .where(console_sessions.c.session_hash.in_(keys),
                        console_sessions.c.ended_at.is_(None))
                 .values(ended_at=now, ended_reason=reason))


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for what was stored in UTC."""
    return as_utc(moment)

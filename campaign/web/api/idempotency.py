"""Idempotency-Key on POST: a retry with the same key returns the first response."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, g, make_response, request
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import UnprocessableEntity

from campaign.infra.tables import idempotency_records as records
from campaign.web.context import container

HEADER = "Idempotency-Key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")

F = TypeVar("F", bound=Callable[..., Any])

HEADER_PARAMETER = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "pattern": _VALID_KEY.pattern},
    "description": "Retry-safe POST: the same key returns the first response, appends nothing.",
}


def idempotent(view: F) -> F:
    """Run the view in a transaction that also stores its 2xx response under the key."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _VALID_KEY.match(key):
            raise UnprocessableEntity(f"{HEADER} must be 1–255 visible ASCII characters")
        scope = g.caller.actor if "caller" in g else "public"
        fingerprints = _fingerprints()
        fingerprint = fingerprints[0]
        engine = container().engine
        try:
            with engine.begin() as conn:
                stored = _lookup(conn, scope, key)
                if stored is not None:
                    return _replay(stored, fingerprints)
                g.conn = conn
                try:
                    response = make_response(view(*args, **kwargs))
                finally:
                    g.pop("conn", None)
                if 200 <= response.status_code < 300:
                    _store(conn, scope, key, fingerprint, response)
                return response
        except IntegrityError:
            # A concurrent request with this key won: ours rolled back, answer with theirs.
            with engine.connect() as conn:
                stored = _lookup(conn, scope, key)
            if stored is None:
                raise
            return _replay(stored, fingerprints)

    return cast(F, guarded)


def _fingerprints() -> list[str]:
    """The request's fingerprint under each secret of the key ring, newest first: a
    request stored before SECRET_KEY was replaced is still recognised when retried."""
    return [_fingerprint(secret) for secret in container().settings.secret_keys]


def _fingerprint(secret: str) -> str:
    """A keyed hash of the request (method, path, query, If-Match, body): a plain hash of
    a sign-up body would let anyone who guesses the address and name confirm that the
    person signed up."""
    digest = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    # If-Match is part of what was asked: the same key with another version, or with an
    # empty If-Match instead of none, is another request (not a replay of the first).
    if_match = request.headers.get("If-Match")
    for part in (request.method, request.path, request.query_string.decode(),
                 "none" if if_match is None else f"If-Match: {if_match}"):
        digest.update(part.encode() + b"\0")
    digest.update(request.get_data())
    return digest.hexdigest()


def _lookup(conn: Connection, scope: str, key: str) -> Any:
    return conn.execute(
        select(records).where(records.c.scope == scope, records.c.key == key)
    ).one_or_none()


def _replay(stored: Any, fingerprints: list[str]) -> Response:
    if not any(hmac.compare_digest(stored.request_hash, f) for f in fingerprints):
        raise UnprocessableEntity(f"this {HEADER} was already used for a different request")
    response = Response(stored.body, status=stored.status, headers=stored.headers)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _store(conn: Connection, scope: str, key: str, fingerprint: str, response: Response) -> None:
    headers = {h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers}
    conn.execute(insert(records).values(
        scope=scope, key=key, request_hash=fingerprint, status=response.status_code,
        body=response.get_data(as_text=True), headers=headers,
    ))

"""What every API module shares: event metadata, ETags, cursors, field checks."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from functools import wraps
from typing import Any, TypeVar

import marshmallow as ma
from flask import g, request
from flask_smorest import abort
from sqlalchemy import Column, Connection, select
from werkzeug.exceptions import BadRequest

from campaign.application.commands import Meta, Outcome
from campaign.application.errors import NotFound
from campaign.domain.base import DomainError
from campaign.domain.values import (
    require_in_range,
    require_plain_text,
    require_single_line,
    validate_country,
    validate_language,
    validate_timezone,
)
from campaign.web.api import json_body
from campaign.web.apidoc import documented
from campaign.web.context import container, correlation_id
from events import as_utc

V = TypeVar("V")

CAMPAIGNER: list[dict[str, list[str]]] = [{"campaignerToken": []}]
SUPPORTER: list[dict[str, list[str]]] = [{"supporterToken": []}]
PUBLIC: list[dict[str, list[str]]] = []

IF_MATCH = {
    "in": "header", "name": "If-Match", "required": False,
    "schema": {"type": "string", "pattern": r'^(\*|(W/)?"[0-9]{1,18}")$'},
    "description": 'The ETag last read, like "3"; a stale one gets 412 and changes nothing.',
}
IF_MATCH_REQUIRED = {
    **IF_MATCH, "required": True,
    "description": 'The ETag last read, like "3": without it 428, a stale one 412, a malformed '
                   "one 400; in each case nothing changes. `*` skips the check.",
}
# Our ETags are "<stream version>": ASCII digits only (isdigit() also takes "²" and "١").
_ETAG = re.compile(r'(?:W/)?"([0-9]{1,18})"')
F = TypeVar("F", bound=Callable[..., Any])


def meta() -> Meta:
    """Event metadata for this request: who, which request, which idempotency key."""
    return Meta(actor=g.caller.actor, correlation_id=correlation_id(),
                idempotency_key=request.headers.get("Idempotency-Key"))


def expected_version() -> int | None:
    """The version named by If-Match (our ETags are `"<version>"`), or None for none or `*`."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    found = _ETAG.fullmatch(header.strip())
    if found is None:
        raise BadRequest('If-Match must be one ETag from this API, like "3", or *')
    return int(found[1])


def if_match_required(view: F) -> F:
    """Decorator: a write to an existing action or case must say which version it read.

    Two campaigners editing one action is the common conflict; a write without If-Match
    would silently undo the other's, so it is refused with 428 before anything is read.
    """

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if request.headers.get("If-Match") is None:
            abort(428, message='this write needs If-Match with the ETag last read, like "3" '
                               "(GET the resource for its ETag)", code="if_match_required")
        return view(*args, **kwargs)

    return documented(guarded, view, {"parameters": [IF_MATCH_REQUIRED], "responses": {
        "400": "BAD_REQUEST", "412": "PRECONDITION_FAILED", "428": "PRECONDITION_REQUIRED"}})


def etag(version: int) -> dict[str, str]:
    """The ETag header for a stream version."""
    return {"ETag": f'"{version}"'}


def dispatch(command: Any, with_if_match: bool = False) -> Outcome:
    """Handle a command for this request, inside the idempotency transaction if there is one."""
    return container().commands.handle(
        command, meta(), expected_version=expected_version() if with_if_match else None,
        conn=g.get("conn"),
    )


def domain_value(build: Callable[[], Any], field: str) -> Any:
    """Build a domain value object; its rule violations become a 422 on `field`."""
    try:
        return build()
    except DomainError as exc:
        raise ma.ValidationError(exc.message, field) from None


def checked(validate: Callable[[V], object]) -> Callable[[V], None]:
    """A marshmallow validator from a domain validator that raises DomainError."""

    def check(value: V) -> None:
        try:
            validate(value)
        except DomainError as exc:
            raise ma.ValidationError(exc.message) from None

    return check


Validators = list[Callable[[Any], Any]]

IN_RANGE: Callable[[date], None] = checked(lambda moment: require_in_range(moment, "the date"))
"""A date or date-time in the domain's sane years (1900 to 2200)."""


COUNTRY: Validators = [ma.validate.Length(equal=2), checked(validate_country)]
"""An ISO 3166-1 alpha-2 code."""
LANGUAGE: Validators = [ma.validate.Length(min=2, max=35), checked(validate_language)]
"""A BCP 47 language[-script][-region] tag in canonical case."""
TIMEZONE: Validators = [ma.validate.Length(min=1, max=64), checked(validate_timezone)]
"""An IANA zone name."""


def single_line(max_length: int, min_length: int = 1) -> Validators:
    """Text that may become a header or a subject: one line, no control characters."""
    return [ma.validate.Length(min=min_length, max=max_length),
            checked(lambda text: require_single_line(text, "the text"))]


def plain_text(max_length: int, min_length: int = 0) -> Validators:
    """Text of several lines: line breaks and tabs, but no other control characters."""
    return [ma.validate.Length(min=min_length, max=max_length),
            checked(lambda text: require_plain_text(text, "the text"))]


@contextmanager
def rules_on_fields(fields: Mapping[str, str]) -> Iterator[None]:
    """Domain rules that judge one field of the request: 422 naming it, not a 409.

    `fields` maps a DomainError code to the field it is about (a letter's `sent_on`, a
    draft's `case_id`); other codes pass through as conflicts with the resource's state.
    """
    try:
        yield
    except DomainError as exc:
        field = fields.get(exc.code)
        if field is None:
            raise
        abort(422, messages={"json": {field: [exc.message]}})


def encode_cursor(key: str) -> str:
    """An opaque cursor after `key`."""
    return base64.urlsafe_b64encode(json.dumps([key]).encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    """The key a cursor points after; 400 when it was not made by this API."""
    if cursor is None:
        return None
    try:
        (key,) = json_body.parse(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error, TypeError, json_body.TooDeep):
        raise BadRequest("cursor is not one this API returned") from None
    if not isinstance(key, str):
        raise BadRequest("cursor is not one this API returned")
    return key


def list_page(
    key: Column[str], query: dict[str, Any], filters: dict[str, str],
    represent: Callable[[Connection, str], dict[str, Any]],
) -> dict[str, Any]:
    """One page of a table's rows in key order, after the cursor, matching `filters`."""
    table = key.table
    statement = select(key).order_by(key)
    after = decode_cursor(query["cursor"])
    if after is not None:
        statement = statement.where(key > after)
    for name, value in filters.items():
        statement = statement.where(table.c[name] == value)
    limit = query["limit"]
    with reading() as conn:
        ids = conn.execute(statement.limit(limit + 1)).scalars().all()
        items = [represent(conn, found) for found in ids[:limit]]
    next_cursor = encode_cursor(ids[limit - 1]) if len(ids) > limit else None
    return {"items": items, "next_cursor": next_cursor}


def require_row(key: Column[str], value: str, what: str) -> None:
    """NotFound unless a row with this key exists."""
    with reading() as conn:
        if conn.execute(select(key).where(key == value)).first() is None:
            raise NotFound(f"no {what} {value}")


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection that sees this request's own writes (the idempotency transaction's)."""
    conn = g.get("conn")
    if conn is not None:
        yield conn
        return
    with container().engine.connect() as own:
        yield own


def maybe_utc(moment: datetime | None) -> datetime | None:
    """`events.as_utc` for a nullable column."""
    return None if moment is None else as_utc(moment)


class ApiSchema(ma.Schema):
    """Base of every API schema: text must be storable (no NUL, no lone surrogates)."""

    @ma.pre_load
    def storable_text(self, data: Any, **_: Any) -> Any:
        bad = sorted({path for path, text in _strings(data, "") if not _storable(text)})
        if bad:
            raise ma.ValidationError(
                {path or "(body)": ["contains a NUL character or invalid Unicode"]
                 for path in bad})
        return data


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, path)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class PageQuerySchema(ApiSchema):
    """Cursor pagination: pass `next_cursor` from the previous page as `cursor`."""

    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=1_000))

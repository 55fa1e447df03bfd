"""What every API module shares: event metadata, ETags, cursors, field checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
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
from campaign.domain.values import validate_email
from campaign.web.api import formats
from campaign.web.apidoc import documented
from campaign.web.context import container, correlation_id
from events import as_utc

V = TypeVar("V")

CAMPAIGNER: list[dict[str, list[str]]] = [{"campaignerToken": []}]
SUPPORTER: list[dict[str, list[str]]] = [{"supporterToken": []}]
PUBLIC: list[dict[str, list[str]]] = []

ETAG_FORMAT = "etag"
"""If-Match's format: `*`, or one of our ETags (`"3"`, `W/"3"`), as its pattern says."""
IF_MATCH = {
    "in": "header", "name": "If-Match", "required": False,
    "schema": {"type": "string", "format": ETAG_FORMAT, "pattern": r'^(\*|(W/)?"[0-9]{1,18}")$'},
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
        expected_version()  # a malformed one is 400 before anything else, a replay included
        return view(*args, **kwargs)

    return documented(guarded, view, {"parameters": [IF_MATCH_REQUIRED]})


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


def _plausible_email(value: str) -> None:
    """The domain's own e-mail rule, with a message that does not echo the address."""
    try:
        validate_email(value)
    except DomainError:
        raise ma.ValidationError("Not a valid email address.") from None


EMAIL: Validators = [ma.validate.Length(max=254), _plausible_email]
"""With `fields.Email` (the spec's `format: email`): the domain's rule as well."""

COUNTRY: Validators = [formats.COUNTRY]
"""An ISO 3166-1 alpha-2 code (the spec lists them)."""
LANGUAGE: Validators = [ma.validate.Length(min=2, max=35), formats.LANGUAGE]
"""A BCP 47 language[-script][-region] tag in canonical case."""
LOCALE: Validators = [formats.LOCALE]
"""A locale the product ships (the spec lists them)."""
TIMEZONE: Validators = [formats.TIMEZONE]
"""An IANA zone name (the spec lists them)."""


def single_line(max_length: int, min_length: int = 1, visible: bool = False) -> Validators:
    """Text that may become a header or a subject: one line, no control characters;
    `visible`: not blank either (names and titles the domain refuses blank)."""
    return [ma.validate.Length(min=min_length, max=max_length),
            formats.single_line_text(visible)]


def plain_text(max_length: int, min_length: int = 0, visible: bool = False) -> Validators:
    """Text of several lines: line breaks and tabs, but no other control characters."""
    return [ma.validate.Length(min=min_length, max=max_length), formats.plain_text(visible)]


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


def list_page(
    key: Column[str], query: dict[str, Any], filters: dict[str, str],
    represent: Callable[[Connection, str], dict[str, Any]],
) -> dict[str, Any]:
    """One page of a table's rows in key order, after the cursor, matching `filters`.

    The cursor is the last key of the previous page, in plain text: any text is a place to
    start after, so the spec can say which cursors the server takes (all of them).
    """
    table = key.table
    statement = select(key).order_by(key)
    after = query["cursor"]
    if after is not None:
        statement = statement.where(key > after)
    for name, value in filters.items():
        statement = statement.where(table.c[name] == value)
    limit = query["limit"]
    with reading() as conn:
        ids = conn.execute(statement.limit(limit + 1)).scalars().all()
        items = [represent(conn, found) for found in ids[:limit]]
    next_cursor = ids[limit - 1] if len(ids) > limit else None
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
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=1_000),
                              metadata={"description": "`next_cursor` of the previous page "
                                                       "(its last id): the page starts after it"})

"""Domain events to JSON-ready dicts and back, driven by the events' own type hints.

Standard library only, so the event store (which knows no campaign) stores plain
dicts while the domain keeps its dataclasses. Encoding is type-directed, not
value-directed: the declared type decides the JSON form, so a value of the wrong
type fails here, before it reaches the log. Forms:

- str, int, bool, None and Literal strings as themselves; tuples as lists;
- date as "2010-10-27"; a local wall time (`time`, never with an offset) as "17:00:00";
  an instant (datetime) as ISO 8601 in UTC with its offset
  ("2010-10-27T18:00:00+00:00"), naive instants refused; a wall-clock reading
  (`values.WallTime`) as ISO 8601 without offset;
- nested dataclasses (value objects) as objects; when a field may hold one of several
  dataclasses (`Occurrence`), the object gets a "type" key naming the class.

A field added to an event later gets a default that says what events written before it
meant (an action's `language` is "en", a deadline's `time` None); stored data without
it decodes to that default, so such an addition needs no upcaster.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, is_dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from campaign.domain import (
    action,
    case,
    letter_reports,
    mailing,
    operations,
    pledge,
    supporter,
)
from campaign.domain import partner as partner_events
from campaign.domain.base import DomainError, DomainEvent
from campaign.domain.values import WALL_TIME

T = TypeVar("T")

TAG: Final = "type"
"""Key naming the dataclass chosen for a field typed as a union of dataclasses."""


class CodecError(ValueError):
    """Raised when an event cannot be encoded, or stored data does not fit its event type."""


def _registry() -> dict[str, type[DomainEvent]]:
    all_types = [*case.EVENTS, *action.EVENTS, *supporter.EVENTS, *pledge.EVENTS,
                 *mailing.EVENTS, *partner_events.EVENTS, *letter_reports.EVENTS,
                 *operations.EVENTS]
    registry = {t.type_name: t for t in all_types}
    if len(registry) != len(all_types):
        raise CodecError("two event classes share a type_name")
    return registry


EVENT_TYPES: Final[dict[str, type[DomainEvent]]] = _registry()
"""Every domain event class, by its stable `type_name`."""


def to_data(event: DomainEvent) -> dict[str, Any]:
    """The event's fields as a JSON-ready dict (its type name and version travel apart)."""
    return _encode_dataclass(event, type(event), event.type_name)


def to_plain(value: Any) -> dict[str, Any]:
    """Any domain dataclass (event, value object, content) as a JSON-ready dict."""
    _expect(is_dataclass(value) and not isinstance(value, type), "value", "a dataclass instance")
    return _encode_dataclass(value, type(value), type(value).__name__)


def from_plain(cls: type[T], data: Mapping[str, Any]) -> T:
    """The instance of dataclass `cls` that `to_plain` turned into `data`."""
    value: T = _decode_dataclass(data, cls, cls.__name__)
    return value


def from_data(type_name: str, data: Mapping[str, Any]) -> DomainEvent:
    """The event of type `type_name` holding `data`, as produced by `to_data`."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise CodecError(f"unknown event type {type_name!r}")
    event: DomainEvent = _decode_dataclass(data, cls, type_name)
    return event


@cache
def _field_hints(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, type hint, required) for each field of dataclass `cls`."""
    hints = get_type_hints(cls, include_extras=True)
    return tuple(
        (f.name, hints[f.name], f.default is MISSING and f.default_factory is MISSING)
        for f in fields(cls)
    )


# Encoding


def _encode(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is Annotated:
        return _encode_annotated(value, hint, where)
    if origin is Literal:
        return _literal(value, hint, where)
    if origin in (Union, types.UnionType):
        return _encode_union(value, hint, where)
    if origin is tuple:
        _expect(isinstance(value, tuple), where, "a tuple")
        return [_encode(item, get_args(hint)[0], f"{where}[]") for item in value]
    if isinstance(hint, type) and is_dataclass(hint):
        _expect(type(value) is hint, where, hint.__name__)
        return _encode_dataclass(value, hint, where)
    if hint is datetime:
        _expect(isinstance(value, datetime) and value.utcoffset() is not None, where, "aware")
        return value.astimezone(UTC).isoformat()
    return _scalar(value, hint, where)


def _encode_dataclass(value: Any, cls: type, where: str) -> dict[str, Any]:
    return {
        name: _encode(getattr(value, name), hint, f"{where}.{name}")
        for name, hint, _ in _field_hints(cls)
    }


def _encode_annotated(value: Any, hint: Any, where: str) -> Any:
    inner, *metadata = get_args(hint)
    if WALL_TIME not in metadata:
        return _encode(value, inner, where)
    _expect(isinstance(value, datetime) and value.tzinfo is None, where, "a naive datetime")
    return value.isoformat()


def _encode_union(value: Any, hint: Any, where: str) -> Any:
    members = _union_members(hint, where)
    if value is None:
        _expect(type(None) in get_args(hint), where, "not None")
        return None
    if len(members) == 1:
        return _encode(value, members[0], where)
    chosen = next((m for m in members if type(value) is m), None)
    if chosen is None:
        raise CodecError(f"{where}: expected one of {[m.__name__ for m in members]}")
    return {TAG: chosen.__name__, **_encode_dataclass(value, chosen, where)}


# Decoding


def _decode(raw: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin is Annotated:
        return _decode_annotated(raw, hint, where)
    if origin is Literal:
        return _literal(raw, hint, where)
    if origin in (Union, types.UnionType):
        return _decode_union(raw, hint, where)
    if origin is tuple:
        _expect(isinstance(raw, list), where, "a list")
        return tuple(_decode(item, get_args(hint)[0], f"{where}[]") for item in raw)
    if isinstance(hint, type) and is_dataclass(hint):
        return _decode_dataclass(raw, hint, where)
    if hint is datetime:
        parsed = _parse(datetime.fromisoformat, raw, where)
        _expect(parsed.utcoffset() is not None, where, "an instant with an offset")
        return parsed
    if hint is date:
        return _parse(date.fromisoformat, raw, where)
    if hint is time:
        wall = _parse(time.fromisoformat, raw, where)
        _expect(wall.tzinfo is None, where, "a local time without offset")
        return wall
    return _scalar(raw, hint, where)


def _decode_dataclass(raw: Any, cls: type, where: str) -> Any:
    _expect(isinstance(raw, Mapping), where, "an object")
    known = {name for name, _, _ in _field_hints(cls)}
    unknown = sorted(set(raw) - known)
    _expect(not unknown, where, f"no unknown fields (got {unknown})")
    values: dict[str, Any] = {}
    for name, hint, required in _field_hints(cls):
        _expect(name in raw or not required, where, f"field {name!r}")
        if name in raw:
            values[name] = _decode(raw[name], hint, f"{where}.{name}")
    try:
        return cls(**values)
    except DomainError as error:
        raise CodecError(f"{where}: {error.message}") from error


def _decode_annotated(raw: Any, hint: Any, where: str) -> Any:
    inner, *metadata = get_args(hint)
    if WALL_TIME not in metadata:
        return _decode(raw, inner, where)
    parsed = _parse(datetime.fromisoformat, raw, where)
    _expect(parsed.tzinfo is None, where, "a local date-time without offset")
    return parsed


def _decode_union(raw: Any, hint: Any, where: str) -> Any:
    members = _union_members(hint, where)
    if raw is None:
        _expect(type(None) in get_args(hint), where, "not null")
        return None
    if len(members) == 1:
        return _decode(raw, members[0], where)
    _expect(isinstance(raw, Mapping) and TAG in raw, where, f"an object with {TAG!r}")
    chosen = next((m for m in members if m.__name__ == raw[TAG]), None)
    if chosen is None:
        raise CodecError(f"{where}: expected a known {TAG}, not {raw[TAG]!r}")
    rest = {k: v for k, v in raw.items() if k != TAG}
    return _decode_dataclass(rest, chosen, where)


# Shared


def _union_members(hint: Any, where: str) -> list[Any]:
    members = [m for m in get_args(hint) if m is not type(None)]
    several = len(members) > 1
    _expect(not several or all(is_dataclass(m) for m in members), where, "a supported union")
    return members


def _literal(value: Any, hint: Any, where: str) -> Any:
    _expect(value in get_args(hint), where, f"one of {get_args(hint)}")
    return value


def _scalar(value: Any, hint: Any, where: str) -> Any:
    _expect(hint in (str, int, bool, date, time), where, "a supported type")
    if hint is date:
        _expect(type(value) is date, where, "a date")
        return value.isoformat()
    if hint is time:
        _expect(type(value) is time and value.tzinfo is None, where, "a local time")
        return value.isoformat()
    _expect(type(value) is hint, where, hint.__name__)
    return value


def _parse(parse: Callable[[str], T], raw: Any, where: str) -> T:
    _expect(isinstance(raw, str), where, "an ISO 8601 string")
    try:
        return parse(raw)
    except ValueError:
        raise CodecError(f"{where}: not ISO 8601: {raw!r}") from None


def _expect(condition: bool, where: str, expected: str) -> None:
    if not condition:
        raise CodecError(f"{where}: expected {expected}")

"""Building blocks every aggregate shares: errors, the event base, event building, folding.

Pure: standard library only, no clock (time arrives inside commands).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from functools import reduce
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """Raised by `decide` when a command breaks a rule; `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class DomainEvent:
    """Base of all domain events: a stable type name, a schema version, personal fields.

    `personal_fields` name the fields holding a person's data (a supporter's e-mail and
    name, a partner's contact address); they are stored encrypted with the key of the
    event's stream (crypto-shredding) and masked once that key is destroyed.
    """

    type_name: ClassVar[str]
    schema_version: ClassVar[int] = 1
    personal_fields: ClassVar[frozenset[str]] = frozenset()


E = TypeVar("E", bound=DomainEvent)


@dataclass(frozen=True)
class Aggregate:
    """The pure functions of one aggregate type; each aggregate module exposes its AGGREGATE."""

    initial: Callable[[], Any]
    decide: Callable[[Any, Any], list[DomainEvent]]
    evolve: Callable[[Any, DomainEvent], Any]


def fold(aggregate: Aggregate, events: Iterable[DomainEvent]) -> Any:
    """The state `events` lead to, from the aggregate's initial state."""
    return reduce(aggregate.evolve, events, aggregate.initial())


def carry(make: Callable[..., T], source: object, **extra: Any) -> T:
    """Build `make` from the same-named fields of dataclass `source`, plus `extra`.

    Events mostly repeat their command's facts; copying by field name keeps that
    repetition out of every decide function, and `make` rejects any field left out.
    """
    names = {f.name for f in fields(make)} if isinstance(make, type) else set()
    copied = {n: getattr(source, n) for n in names - extra.keys() if hasattr(source, n)}
    return make(**copied, **extra)


def emit(make: Callable[..., E], source: object, **extra: Any) -> E:
    """`carry` into an event, refusing naive instants: the log holds only aware ones."""
    event = carry(make, source, **extra)
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise DomainError("naive_datetime", f"{f.name} must be timezone-aware")
    return event

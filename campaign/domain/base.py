"""Building blocks every aggregate shares: errors, the event base, event building, folding.

Pure: standard library only, no clock (time arrives inside commands).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import reduce
from typing import Any, ClassVar, Final, TypeVar

T = TypeVar("T")
D = TypeVar("D", bound=date)

EARLIEST_YEAR: Final = 1900
LATEST_YEAR: Final = 2200
"""The years every date and instant in the domain lies in: far from `datetime`'s own
limits (years 1 and 9999), so converting one to any zone (UTC−12 to UTC+14) cannot
overflow, and wide enough for any case history or deadline."""


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


def decide_all(aggregate: Aggregate, commands: Iterable[Any]) -> list[DomainEvent]:
    """The events a new stream gets from `commands`, each decided on the state the ones
    before it left: what the command handler does one transaction per command, at once
    (seeding many streams in bulk)."""
    state, decided = aggregate.initial(), []
    for command in commands:
        for event in aggregate.decide(state, command):
            state = aggregate.evolve(state, event)
            decided.append(event)
    return decided


def carry(make: Callable[..., T], source: object, **extra: Any) -> T:
    """Build `make` from the same-named fields of dataclass `source`, plus `extra`.

    Events mostly repeat their command's facts; copying by field name keeps that
    repetition out of every decide function, and `make` rejects any field left out.
    """
    names = {f.name for f in fields(make)} if isinstance(make, type) else set()
    copied = {n: getattr(source, n) for n in names - extra.keys() if hasattr(source, n)}
    return make(**copied, **extra)


def require_in_range(moment: D, what: str) -> D:
    """Return `moment` (a date, or a datetime read in its own offset) if its year is sane.

    DomainError("date_out_of_range") otherwise: such a value overflows when some zone
    converts it, and is a slip (year 201, year 9999) nobody means.
    """
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        message = f"{what} must lie in the years {EARLIEST_YEAR} to {LATEST_YEAR}"
        raise DomainError("date_out_of_range", message)
    return moment


def emit(make: Callable[..., E], source: object, **extra: Any) -> E:
    """`carry` into an event, refusing naive instants and dates outside the sane years.

    The log holds only aware instants, and only ones every reader can convert.
    """
    event = carry(make, source, **extra)
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime) and value.utcoffset() is None:
            raise DomainError("naive_datetime", f"{f.name} must be timezone-aware")
        if isinstance(value, date):
            require_in_range(value, f.name)
    return event

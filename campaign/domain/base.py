"""Building blocks every aggregate shares: domain errors and the event base class.

Pure: standard library only, no clock (time arrives inside commands).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
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

    `personal_fields` name the fields holding a supporter's personal data; they are
    stored encrypted with that supporter's key (crypto-shredding) and masked after erasure.
    """

    type_name: ClassVar[str]
    schema_version: ClassVar[int] = 1
    personal_fields: ClassVar[frozenset[str]] = frozenset()


def carry(make: Callable[..., T], source: object, **extra: Any) -> T:
    """Build `make` from the same-named fields of dataclass `source`, plus `extra`.

    Events mostly repeat their command's facts; copying by field name keeps that
    repetition out of every decide function, and `make` rejects any field left out.
    """
    names = {f.name for f in fields(make)} if isinstance(make, type) else set()
    copied = {n: getattr(source, n) for n in names - extra.keys() if hasattr(source, n)}
    return make(**copied, **extra)

"""Upcasters turn stored payloads of old schema versions into the current shape on read."""

from __future__ import annotations

from collections.abc import Callable

from events.errors import UpcastError
from events.records import JSON

Upcaster = Callable[[JSON], JSON]


class Upcasters:
    """A registry of one-step upgrades, keyed by (event type, version they upgrade from)."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}
        self._current: dict[str, int] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: `fn` turns a `from_version` payload into a `from_version + 1` one."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._steps[(event_type, from_version)] = fn
            self._current[event_type] = max(self._current.get(event_type, 1), from_version + 1)
            return fn

        return decorate

    def current_version(self, event_type: str) -> int:
        """The schema version new events of this type are written with."""
        return self._current.get(event_type, 1)

    def upcast(self, event_type: str, version: int, data: JSON) -> tuple[int, JSON]:
        """The payload raised step by step to the current version (stored data is never touched)."""
        target = self.current_version(event_type)
        while version < target:
            step = self._steps.get((event_type, version))
            if step is None:
                raise UpcastError(f"no upcaster for {event_type} v{version}")
            data = step(dict(data))
            version += 1
        return version, data

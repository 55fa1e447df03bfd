"""Given-when-then helpers shared by the aggregate tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import pytest

from campaign.domain.base import DomainError, DomainEvent

S = TypeVar("S")
C = TypeVar("C")


def refusal(attempt: Callable[[], object]) -> str:
    """The code of the DomainError that `attempt` raises (failing the test if none)."""
    with pytest.raises(DomainError) as caught:
        attempt()
    return caught.value.code


def run_all(
    decide: Callable[[S, C], list[DomainEvent]],
    evolve: Callable[[S, DomainEvent], S],
    state: S,
    commands: Iterable[C],
) -> tuple[S, list[DomainEvent]]:
    """Decide and evolve each command in turn, as a handler would; the end state and log."""
    log: list[DomainEvent] = []
    for command in commands:
        for event in decide(state, command):
            log.append(event)
            state = evolve(state, event)
    return state, log

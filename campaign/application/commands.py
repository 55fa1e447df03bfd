"""Command handling: load a stream, decide, append with the expected version, retry on races.

Also the one table of routes (which aggregate and stream each command goes to) and the
metadata of commands that policies issue on behalf of the event that caused them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar, get_args

from sqlalchemy import Connection, Engine

from campaign.application.errors import PreconditionFailed
from campaign.domain import (
    action,
    case,
    letter_reports,
    mailing,
    operations,
    pledge,
    supporter,
)
from campaign.domain import partner as partner_aggregate
from campaign.domain.base import Aggregate, DomainEvent
from campaign.infra.event_mapping import EventMapper, replay
from events import ConcurrencyError, EventStore, StoredEvent
from events.records import JSON

T = TypeVar("T")


@dataclass(frozen=True)
class Route:
    """Where a command goes: its aggregate and the stream it addresses."""

    aggregate: Aggregate
    stream_id: Callable[[Any], str]


@dataclass(frozen=True)
class Meta:
    """Who asked and why: recorded in every event's metadata."""

    actor: str
    correlation_id: str
    causation_id: str | None = None
    idempotency_key: str | None = None

    def as_metadata(self) -> JSON:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass(frozen=True)
class Outcome:
    """What handling a command did: the stream's new version and state, the new events."""

    stream_id: str
    version: int
    state: Any
    events: Sequence[DomainEvent]


class CommandHandler:
    """Runs commands against their aggregates with optimistic concurrency."""

    def __init__(
        self, store: EventStore, mapper: EventMapper, routes: Mapping[type, Route],
        max_attempts: int = 5,
    ) -> None:
        self.store = store
        self.mapper = mapper
        self.routes = routes
        self.max_attempts = max_attempts

    @property
    def engine(self) -> Engine:
        """The database the store is in: use cases read their tables through it."""
        return self.store.engine

    def transaction(self, conn: Connection | None = None) -> AbstractContextManager[Connection]:
        """The caller's connection as is, or a new transaction committed on success."""
        return self.store.transaction(conn)

    def handle(
        self, command: Any, meta: Meta, *, expected_version: int | None = None,
        conn: Connection | None = None,
    ) -> Outcome:
        """Decide and append in one transaction (the caller's, if given, in a savepoint).

        With `expected_version` (from If-Match) a stale version raises PreconditionFailed
        and a race is not retried; without it, a lost race is retried a few times.
        """
        route = self.routes[type(command)]
        stream_id = route.stream_id(command)
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self._unit(conn) as tx:
                    return self._attempt(tx, route.aggregate, stream_id, command, meta,
                                         expected_version)
            except ConcurrencyError:
                if expected_version is not None or attempt == self.max_attempts:
                    raise
        raise AssertionError("unreachable")

    def run(self, work: Callable[[Connection], T], conn: Connection | None = None, *,
            retry: bool = True) -> T:
        """`work` in a transaction of its own, or in a savepoint of the caller's `conn`.

        A lost race (ConcurrencyError) runs `work` again from the start, so whatever it read
        is read again, a few times at most, unless `retry` is False. In its own transaction
        `work` needs no savepoint: the whole transaction is rolled back and begun again.
        """
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self._unit(conn) as tx:
                    return work(tx)
            except ConcurrencyError:
                if not retry or attempt == self.max_attempts:
                    raise
        raise AssertionError("unreachable")

    def attempt(
        self, conn: Connection, command: Any, meta: Meta, *,
        expected_version: int | None = None, known: tuple[Any, int] | None = None,
    ) -> Outcome:
        """Decide and append once in `conn`'s transaction; ConcurrencyError on a lost race.

        `known` is the stream's state and version when the caller knows them already (a
        stream the read models say does not exist yet: no read for it).
        """
        route = self.routes[type(command)]
        return self._attempt(conn, route.aggregate, route.stream_id(command), command, meta,
                             expected_version, known)

    def load(self, conn: Connection, stream_id: str, aggregate: Aggregate) -> tuple[Any, int]:
        """The aggregate's current state and version, personal fields opened."""
        return replay(self.store, conn, stream_id, aggregate, mapper=self.mapper)

    def _attempt(
        self, conn: Connection, aggregate: Aggregate, stream_id: str, command: Any, meta: Meta,
        expected_version: int | None, known: tuple[Any, int] | None = None,
    ) -> Outcome:
        state, version = known or self.load(conn, stream_id, aggregate)
        if expected_version is not None and expected_version != version:
            raise PreconditionFailed(version)
        new_events = aggregate.decide(state, command)
        if new_events:
            stored = self.mapper.to_new_events(conn, stream_id, new_events, meta.as_metadata())
            version = self.store.append(stream_id, stored, version, conn=conn).stream_version
            for event in new_events:
                state = aggregate.evolve(state, event)
        return Outcome(stream_id, version, state, new_events)

    @contextmanager
    def _unit(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is None:
            with self.store.engine.begin() as own:
                yield own
        else:
            with conn.begin_nested():
                yield conn


def policy_meta(name: str, cause: StoredEvent) -> Meta:
    """Metadata for a command a policy issues: it acts for the event that caused it."""
    return Meta(actor=f"policy:{name}",
                correlation_id=str(cause.metadata.get("correlation_id") or cause.event_id),
                causation_id=str(cause.event_id))


# Routing: which aggregate and stream each command goes to, the one table to read.

STREAM_OF_COMMAND: dict[ModuleType, Callable[[Any], str]] = {
    case: lambda command: case.case_stream(command.case_id),
    action: lambda command: action.action_stream(command.action_id),
    supporter: lambda command: supporter.supporter_stream(command.supporter_id),
    pledge: lambda command: pledge.pledge_stream(command.action_id, command.supporter_id),
    mailing: lambda command: mailing.mailing_stream(command.mailing_id),
    partner_aggregate: lambda command: partner_aggregate.partner_stream(command.partner_id),
    letter_reports: lambda command: letter_reports.letters_stream(command.action_id),
    operations: lambda command: operations.operations_stream(command.subscription),
}


def command_routes() -> dict[type, Route]:
    """Every command class of every aggregate, routed to its stream."""
    routes: dict[type, Route] = {}
    for module, stream_id in STREAM_OF_COMMAND.items():
        route = Route(module.AGGREGATE, stream_id)
        for command_type in get_args(module.Command) or (module.Command,):
            routes[command_type] = route
    return routes

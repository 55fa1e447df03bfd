"""A realistic campaign's log for benchmarks: cases, actions with updates, supporters, pledges.

Every event is decided by the product's own aggregates (`decide`, as the command handler
would, one command at a time on the state the stream's earlier events left), in the order a
live campaign writes them: supporters sign up and confirm, pledge to the actions open at the
time, and confirm their letters a few hours later (in the next round), while actions are
drafted, translated, launched, updated (some with a later deadline) and stopped, and their
cases gain developments, one of them approved after review.

`campaign_log(events)` yields `Unit`s, each what one command appends to one stream, in log
order, until about `events` events were decided.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from campaign.application.commands import Meta
from campaign.demo import ua_135_10 as seed
from campaign.domain import action, case, pledge, preferences, supporter
from campaign.domain.base import Aggregate, DomainEvent
from campaign.domain.values import Deadline

NAMESPACE = uuid.UUID("0b9c7f4e-52d1-4c1e-8a57-3c4e1f2a9d61")
START = datetime(2024, 1, 1, tzinfo=UTC)
ROUND = timedelta(hours=6)
SUPPORTERS_PER_ROUND = 500
ROUNDS_PER_ACTION = 5  # a new action every 5 rounds; each stays open for OPEN_ROUNDS
OPEN_ROUNDS = 40
EVENTS_PER_SUPPORTER = 5.2  # the mix below, on average: to size the log
CHANNELS: tuple[pledge.Channel, ...] = ("post", "email", "fax", "online")
COUNTRIES = ("GB DE FR ES IT NL BE AT CH SE NO DK FI IE PT PL CZ SK HU RO US CA AU NZ AR BR "
             "MX KG KZ RU").split()
LANGUAGES = [("en", "Europe/London"), ("ru", "Europe/Moscow"),
             ("es", "America/Argentina/Buenos_Aires"), ("fr", "Europe/Paris"),
             ("ar", "Africa/Cairo"), ("ky", "Asia/Bishkek")]
CAMPAIGNER = Meta(actor="token:bench-campaigner", correlation_id="bench-rebuild")


@dataclass(frozen=True)
class Unit:
    """What one command appended: events for one stream, who asked, when."""

    stream_id: str
    aggregate: Aggregate
    events: list[DomainEvent]
    expected_version: int  # the stream's version before these events
    metadata: dict[str, Any]
    at: datetime


class Streams:
    """Each stream's state and version, as the command handler would load them."""

    def __init__(self) -> None:
        self.states: dict[str, Any] = {}
        self.versions: dict[str, int] = {}

    def handle(self, stream_id: str, aggregate: Aggregate, command: Any, meta: Meta,
               at: datetime) -> Unit | None:
        """Decide `command` on the stream's state; the unit it appends (None: nothing new)."""
        state = self.states.get(stream_id) or aggregate.initial()
        decided = aggregate.decide(state, command)
        if not decided:
            return None
        for event in decided:
            state = aggregate.evolve(state, event)
        version = self.versions.get(stream_id, 0)
        self.states[stream_id] = state
        self.versions[stream_id] = version + len(decided)
        return Unit(stream_id, aggregate, decided, version, meta.as_metadata(), at)


@dataclass
class OpenAction:
    action_id: str
    case_id: str
    launched: datetime
    closes_in_round: int
    updated: bool = False


def campaign_log(events: int) -> Iterator[Unit]:
    """Units in log order until about `events` events."""
    streams = Streams()
    rounds = max(1, round(events / EVENTS_PER_SUPPORTER / SUPPORTERS_PER_ROUND))
    open_actions: list[OpenAction] = []
    letters_due: list[tuple[str, pledge.ConfirmLetter, Meta]] = []
    written = 0
    supporter_n = 0
    for n in range(rounds + 1):
        now = START + n * ROUND
        units: list[Unit | None] = []
        if n % ROUNDS_PER_ACTION == 0 and n < rounds:
            opened = OpenAction(f"action-{n}", f"case-{n}", now, n + OPEN_ROUNDS)
            units += _launch(streams, opened, now)
            open_actions.append(opened)
        for opened in open_actions:
            units += _follow_up(streams, opened, n, now)
        open_actions = [a for a in open_actions if a.closes_in_round > n]
        # Letters promised last round are confirmed now.
        for k, (stream, command, meta) in enumerate(letters_due):
            at = now + timedelta(seconds=k)
            units.append(streams.handle(stream, pledge.AGGREGATE,
                                        replace(command, confirmed_at=at, sent_on=at.date()),
                                        meta, at))
        letters_due = []
        if n < rounds:
            for k in range(SUPPORTERS_PER_ROUND):
                at = now + timedelta(seconds=k)
                supporter_n += 1
                units += _supporter(streams, supporter_n, open_actions, at, letters_due)
        for unit in units:
            if unit is not None:
                written += len(unit.events)
                yield unit


def _launch(streams: Streams, opened: OpenAction, now: datetime) -> list[Unit | None]:
    """A case with its history, then an action about it: drafted, translated, launched."""
    case_stream, action_stream = case.case_stream(opened.case_id), action.action_stream(
        opened.action_id)
    units = [streams.handle(case_stream, case.AGGREGATE,
                            replace(seed.OPEN_CASE, case_id=opened.case_id), CAMPAIGNER, now)]
    for development in seed.CASE_COMMANDS[1:]:
        units.append(streams.handle(case_stream, case.AGGREGATE,
                                    replace(development, case_id=opened.case_id),
                                    CAMPAIGNER, now))
    deadline = Deadline(on=(now + OPEN_ROUNDS * ROUND).date(), timezone=seed.TIMEZONE)
    draft = replace(seed.DRAFT, action_id=opened.action_id, case_id=opened.case_id,
                    issued_on=now.date(), deadline=deadline, drafted_at=now,
                    ua_number=f"{opened.action_id.removeprefix('action-')}/24")
    for command in (draft, replace(seed.IN_RUSSIAN, action_id=opened.action_id,
                                   translated_at=now),
                    action.LaunchAction(opened.action_id, launched_at=now)):
        units.append(streams.handle(action_stream, action.AGGREGATE, command, CAMPAIGNER, now))
    return units


def _follow_up(streams: Streams, opened: OpenAction, n: int, now: datetime
               ) -> list[Unit | None]:
    """Halfway: the review of the case's pending development and an update (every other one
    extends the deadline); at the end, the action is stopped."""
    action_stream = action.action_stream(opened.action_id)
    state: action.State = streams.states[action_stream]
    units: list[Unit | None] = []
    if not opened.updated and n >= opened.closes_in_round - OPEN_ROUNDS // 2:
        opened.updated = True
        units.append(streams.handle(
            case.case_stream(opened.case_id), case.AGGREGATE,
            case.ApproveDevelopment(case_id=opened.case_id,
                                    development_id=seed.SUPREME_COURT_HEARING.development_id,
                                    approved_at=now),
            CAMPAIGNER, now))
        assert state.content is not None
        later = (Deadline(on=state.content.deadline.on + timedelta(days=7),
                          timezone=seed.TIMEZONE) if n % 2 else None)
        units.append(streams.handle(action_stream, action.AGGREGATE, action.PublishUpdate(
            action_id=opened.action_id, number=state.update_number + 1, published_at=now,
            summary=f"Update {state.update_number + 1}: " + seed.SUMMARY, deadline=later),
            CAMPAIGNER, now))
    if n == opened.closes_in_round:
        units.append(streams.handle(action_stream, action.AGGREGATE, action.CloseAction(
            opened.action_id, reason="released", note="Released on bail.", closed_at=now),
            CAMPAIGNER, now))
    return units


def _supporter(streams: Streams, n: int, open_actions: list[OpenAction], at: datetime,
               letters_due: list[tuple[str, pledge.ConfirmLetter, Meta]]
               ) -> list[Unit | None]:
    """Supporter `n` signs up; most confirm; some change their preferences or leave; most
    pledge to one or two open actions, and confirm some of their letters next round."""
    supporter_id = str(uuid.uuid5(NAMESPACE, f"supporter-{n}"))
    stream = supporter.supporter_stream(supporter_id)
    meta = Meta(actor=f"supporter:{supporter_id}", correlation_id=f"bench-{n}")
    language, timezone = LANGUAGES[n % len(LANGUAGES)]
    country = COUNTRIES[(n * 7) % len(COUNTRIES)]
    units = [streams.handle(stream, supporter.AGGREGATE, supporter.RegisterSupporter(
        supporter_id=supporter_id, email=f"supporter-{n}@bench.example.org",
        name=f"Supporter Nº{n}", locale=language, country=country, timezone=timezone,
        registered_at=at), meta, at)]
    if n % 10:
        units.append(streams.handle(stream, supporter.AGGREGATE,
                                    supporter.ConfirmConsent(supporter_id, confirmed_at=at),
                                    meta, at))
    if n % 20 == 3:
        other, zone = LANGUAGES[(n + 1) % len(LANGUAGES)]
        units.append(streams.handle(stream, supporter.AGGREGATE, preferences.ChangePreferences(
            supporter_id=supporter_id, locale=other, country=COUNTRIES[n % len(COUNTRIES)],
            timezone=zone, changed_at=at), meta, at))
    if n % 33 == 5:
        units.append(streams.handle(stream, supporter.AGGREGATE, supporter.Unsubscribe(
            supporter_id, at=at, via="link"), meta, at))
    if not open_actions or n % 10 == 0:
        return units
    for opened in open_actions[n % len(open_actions):][:1 + n % 2]:
        state: action.State = streams.states[action.action_stream(opened.action_id)]
        assert state.content is not None
        targets = state.target_ids
        pledge_stream = pledge.pledge_stream(opened.action_id, supporter_id)
        units.append(streams.handle(pledge_stream, pledge.AGGREGATE, pledge.MakePledge(
            action_id=opened.action_id, supporter_id=supporter_id, target_ids=targets,
            letters_promised=len(targets), pledged_at=at, action_open=True,
            action_target_ids=targets, due_at=state.content.deadline.ends_at()), meta, at))
        for k, target_id in enumerate(targets[:n % 4]):
            letters_due.append((pledge_stream, pledge.ConfirmLetter(
                action_id=opened.action_id, supporter_id=supporter_id,
                letter_id=f"letter-{k}", target_id=target_id,
                channel=CHANNELS[(n + k) % len(CHANNELS)], sent_on=at.date(),
                confirmed_at=at, action_issued_on=opened.launched.date()), meta))
    return units

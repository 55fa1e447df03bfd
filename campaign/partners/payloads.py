"""The partner-visible view of the log: what webhooks send and the feed returns, one schema.

Only case and action content and aggregate counts ever reach a partner: builders read the
case and action streams, never a supporter's. A development waiting for a campaigner's
approval is invisible until approved, and is then sent as `case.development_recorded`.
Payloads describe the aggregate *as of the event*, so a replay or a feed read a year later
says what was true then. That state comes from `states.StreamStates`: the state the last
payload of the stream needed, with the events since folded on, not a replay of the stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Connection

from campaign.domain import action, case, letter_reports
from campaign.domain.base import DomainEvent
from campaign.domain.codec import from_data
from campaign.domain.values import AtLocalTime, Deadline, Occurrence, OnDate
from campaign.partners.states import states_of
from events import EventStore, StoredEvent

MAX_BODY_BYTES: Final = 20_000
"""A body stays under 20 KB: long texts are shortened (marked with an ellipsis) to fit."""

ELLIPSIS: Final = "…"


@dataclass(frozen=True)
class PartnerEvent:
    """One event as a partner sees it; `position` orders the feed and is its cursor."""

    event_id: str
    position: int
    type: str
    timestamp: datetime
    data: dict[str, Any]
    case_id: str | None
    action_id: str | None
    country: str | None


PayloadBuilder = Callable[[EventStore, Connection, StoredEvent], "PartnerEvent | None"]


def partner_event(store: EventStore, conn: Connection, stored: StoredEvent) -> PartnerEvent | None:
    """The partner-visible form of `stored`, or None when partners never see it.

    Pass every event of `READ_TYPES` in log order (not only the partner-visible ones): the
    case and action events among them move the remembered states on, so the payloads that
    follow read nothing more from their streams.
    """
    remember(store, stored)
    builder = PARTNER_TYPES.get(stored.type)
    if builder is None:
        return None
    built = builder(store, conn, stored)
    if built is None:
        return None
    return PartnerEvent(built.event_id, built.position, built.type, built.timestamp,
                        fit(built.event_id, built.type, built.timestamp, built.data),
                        built.case_id, built.action_id, built.country)


def remember(store: EventStore, stored: StoredEvent) -> None:
    """Fold a case or action event into the remembered state of its stream, if next."""
    aggregate = _AGGREGATES.get(stored.type)
    if aggregate is not None:
        states_of(store, aggregate).offer(stored)


def body(event: PartnerEvent) -> bytes:
    """The webhook body: compact JSON `{"event_id", "type", "timestamp", "data"}`, < 20 KB.

    `event_id` is the feed item's `event_id`, the same for every partner: a partner catching
    up from the feed skips the events whose id it already took from a webhook.
    """
    return _encode(event.event_id, event.type, event.timestamp, event.data)


def envelope(event: PartnerEvent) -> dict[str, Any]:
    """The body as a JSON-ready dict (what a feed item carries besides its position)."""
    return _document(event.event_id, event.type, event.timestamp, event.data)


def _document(event_id: str, type_: str, timestamp: datetime, data: dict[str, Any]
              ) -> dict[str, Any]:
    return {"event_id": event_id, "type": type_, "timestamp": _iso(timestamp), "data": data}


def _encode(event_id: str, type_: str, timestamp: datetime, data: dict[str, Any]) -> bytes:
    document = _document(event_id, type_, timestamp, data)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def fit(event_id: str, type_: str, timestamp: datetime, data: dict[str, Any]
        ) -> dict[str, Any]:
    """`data`, its longest texts (or longest lists) shortened until the body fits."""
    while len(_encode(event_id, type_, timestamp, data)) > MAX_BODY_BYTES:
        data = _shortened(data)
    return data


def _shortened(data: dict[str, Any]) -> dict[str, Any]:
    paths = list(_leaves(data, ()))
    texts = [(len(v), p) for p, v in paths if isinstance(v, str) and len(v) > 200]
    if texts:
        size, path = max(texts, key=lambda t: t[0])
        shortened: dict[str, Any] = _replace(data, path, lambda v: v[: size // 2] + ELLIPSIS)
        return shortened
    lists = [(len(v), p) for p, v in paths if isinstance(v, list) and v]
    if not lists:
        raise ValueError("a partner payload cannot be made to fit")
    size, path = max(lists, key=lambda t: t[0])
    fewer: dict[str, Any] = _replace(data, path, lambda v: v[: size // 2])
    return fewer


def _leaves(value: Any, path: tuple[Any, ...]) -> Any:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _replace(value: Any, path: tuple[Any, ...], change: Callable[[Any], Any]) -> Any:
    if not path:
        return change(value)
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: _replace(v, rest, change) if k == head else v for k, v in value.items()}
    return [_replace(v, rest, change) if i == head else v for i, v in enumerate(value)]


# Actions


def _action_builder(partner_type: str) -> PayloadBuilder:
    def build(store: EventStore, conn: Connection, stored: StoredEvent) -> PartnerEvent | None:
        event = from_data(stored.type, stored.data)
        state, after = states_of(store, action.AGGREGATE).at_version(
            conn, stored.stream_id, stored.stream_version,
            peek=1 if isinstance(event, action.ActionUpdated) else 0)
        # An update that moves the deadline is stored as two events; the partner gets one.
        if isinstance(event, action.ActionUpdated) and after \
                and isinstance(after[0], action.DeadlineExtended) \
                and after[0].update_number == event.number:
            state = action.evolve(state, after[0])
        if state.content is None:
            return None
        content = state.content
        return PartnerEvent(
            str(stored.event_id), stored.position, partner_type, stored.recorded_at,
            {**action_data(state), **_action_change(event)}, content.case_id,
            state.action_id, content.country)

    return build


def action_data(state: action.State) -> dict[str, Any]:
    """An action's content: what it asks, of whom, until when. No supporter data exists here."""
    content = state.content
    assert content is not None
    return {
        "action_id": state.action_id, "case_id": content.case_id,
        "ua_number": content.ua_number, "index_number": content.index_number,
        "title": content.title, "country": content.country, "status": state.status,
        "update_number": state.update_number, "issued_on": content.issued_on.isoformat(),
        "deadline": _deadline(content.deadline), "languages": list(content.languages),
        "summary": content.summary, "asks": list(content.asks),
        "targets": [{"target_id": t.target_id, "name": t.name, "title": t.title,
                     "organisation": t.organisation, "country": t.country, "role": t.role}
                    for t in content.targets],
        "source_links": list(content.source_links),
    }


def _action_change(event: DomainEvent) -> dict[str, Any]:
    if isinstance(event, action.ActionLaunched):
        return {"launched_at": _iso(event.launched_at)}
    if isinstance(event, action.ActionUpdated):
        return {"published_at": _iso(event.published_at)}
    if isinstance(event, action.ActionClosed):
        return {"closed_at": _iso(event.closed_at), "close_reason": event.reason,
                "close_note": event.note}
    return {}


def _deadline(deadline: Deadline) -> dict[str, Any]:
    return {"on": deadline.on.isoformat(), "timezone": deadline.timezone,
            "ends_at": _iso(deadline.ends_at())}


# Case developments


def _development(store: EventStore, conn: Connection, stored: StoredEvent
                 ) -> PartnerEvent | None:
    state: case.State = states_of(store, case.AGGREGATE).at_version(
        conn, stored.stream_id, stored.stream_version)[0]
    development_id = stored.data["development_id"]
    development = state.developments.get(development_id)
    if development is None or development.pending_approval:
        return None  # held for a campaigner's approval: not visible yet
    return PartnerEvent(
        str(stored.event_id), stored.position, "case.development_recorded",
        stored.recorded_at, development_data(state, development), state.case_id, None,
        state.country)


def development_data(state: case.State, development: case.Development) -> dict[str, Any]:
    """One development of a case, its time kept as reported (a date, or local time and zone)."""
    source = development.source
    return {
        "case_id": state.case_id, "subject_name": state.subject_name,
        "country": state.country, "development_id": development.development_id,
        "kind": development.kind, "occurred": occurred_data(development.occurred),
        "summary": development.summary,
        "source": {"kind": source.kind, "partner_id": source.partner_id, "url": source.url},
        "recorded_at": _iso(development.recorded_at),
        "approved_at": _iso(development.approved_at) if development.approved_at else None,
    }


def occurred_data(occurred: Occurrence) -> dict[str, Any]:
    """`{"on"}` for a date; `{"at", "timezone", "instant"}` for a local date-time."""
    if isinstance(occurred, OnDate):
        return {"on": occurred.on.isoformat()}
    assert isinstance(occurred, AtLocalTime)
    local = occurred.local
    return {"at": local.at.isoformat(), "timezone": local.timezone,
            "instant": _iso(local.instant())}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# Letter reports: numbers about an action, never anyone's identity


def _action_before(store: EventStore, conn: Connection, action_id: str,
                   position: int) -> action.State:
    """The action as it stood when the log reached `position`."""
    state: action.State = states_of(store, action.AGGREGATE).before_position(
        conn, action.action_stream(action_id), position)
    return state


def _about(state: action.State) -> dict[str, Any]:
    assert state.content is not None
    content = state.content
    return {"action_id": state.action_id, "case_id": content.case_id,
            "ua_number": content.ua_number, "title": content.title,
            "country": content.country}


def _letters_event(
    stored: StoredEvent, partner_type: str, state: action.State, data: dict[str, Any]
) -> PartnerEvent | None:
    if state.content is None:
        return None
    return PartnerEvent(str(stored.event_id), stored.position, partner_type, stored.recorded_at,
                        {**_about(state), **data}, state.content.case_id, state.action_id,
                        state.content.country)


def _milestone(store: EventStore, conn: Connection, stored: StoredEvent
               ) -> PartnerEvent | None:
    """`action.letters_milestone`: the action passed 100, 1,000, 10,000… confirmed letters."""
    event = from_data(stored.type, stored.data)
    assert isinstance(event, letter_reports.LetterMilestoneReached)
    state = _action_before(store, conn, event.action_id, stored.position)
    return _letters_event(stored, "action.letters_milestone", state, {
        "milestone": event.milestone, "letters": event.letters,
        "reached_at": event.reached_at.isoformat()})


def _daily_counts(store: EventStore, conn: Connection, stored: StoredEvent
                  ) -> PartnerEvent | None:
    """`action.daily_letter_counts`: letters per official on one UTC day, and the day's total."""
    event = from_data(stored.type, stored.data)
    assert isinstance(event, letter_reports.DailyLetterCountsReported)
    state = _action_before(store, conn, event.action_id, stored.position)
    known = {t.target_id: t for t in state.content.targets} if state.content else {}
    targets = []
    for count in event.per_target:
        target = known.get(count.target_id)
        targets.append({"target_id": count.target_id,
                        "name": target.name if target else None,
                        "title": target.title if target else None,
                        "letters": count.letters})
    return _letters_event(stored, "action.daily_letter_counts", state, {
        "day": event.day.isoformat(), "total": event.total, "targets": targets})


PARTNER_TYPES: dict[str, PayloadBuilder] = {
    action.ActionLaunched.type_name: _action_builder("action.launched"),
    action.ActionUpdated.type_name: _action_builder("action.updated"),
    action.ActionClosed.type_name: _action_builder("action.closed"),
    case.DevelopmentRecorded.type_name: _development,
    case.DevelopmentApproved.type_name: _development,
    letter_reports.LetterMilestoneReached.type_name: _milestone,
    letter_reports.DailyLetterCountsReported.type_name: _daily_counts,
}
"""Stored event type -> the builder of its partner form. Types not listed never reach partners."""

_AGGREGATES = {**{t.type_name: case.AGGREGATE for t in case.EVENTS},
               **{t.type_name: action.AGGREGATE for t in action.EVENTS}}

READ_TYPES: frozenset[str] = frozenset({*PARTNER_TYPES, *_AGGREGATES})
"""What a reader of partner payloads reads: the partner-visible types, and every event of
the streams their payloads describe."""

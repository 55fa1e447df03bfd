"""The partner form of letter reports: milestones and daily counts, as numbers about an action.

Both carry the action they count (as it stood at that moment, replayed from its stream,
like every partner payload) and counts; the letter reports never hold anyone's identity.
"""

from __future__ import annotations

from functools import reduce
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from campaign.domain import action, letter_reports
from campaign.domain.codec import from_data
from events import StoredEvent
from events.schema import events

if TYPE_CHECKING:  # payloads imports this module to list the builders
    from campaign.partners.payloads import PartnerEvent


def action_as_of(conn: Connection, action_id: str, position: int) -> action.State:
    """The action as it stood when the log reached `position`."""
    rows = conn.execute(
        select(events.c.type, events.c.data)
        .where(events.c.stream_id == action.action_stream(action_id),
               events.c.position < position)
        .order_by(events.c.stream_version)
    ).all()
    return reduce(action.evolve, (from_data(r.type, r.data) for r in rows),
                  action.initial_state())


def _about(state: action.State) -> dict[str, Any]:
    assert state.content is not None
    content = state.content
    return {"action_id": state.action_id, "case_id": content.case_id,
            "ua_number": content.ua_number, "title": content.title,
            "country": content.country}


def _partner_event(
    stored: StoredEvent, partner_type: str, state: action.State, data: dict[str, Any]
) -> PartnerEvent | None:
    from campaign.partners.payloads import PartnerEvent

    if state.content is None:
        return None
    return PartnerEvent(str(stored.event_id), stored.position, partner_type, stored.recorded_at,
                        {**_about(state), **data}, state.content.case_id, state.action_id,
                        state.content.country)


def milestone(conn: Connection, stored: StoredEvent) -> PartnerEvent | None:
    """`action.letters_milestone`: the action passed 100, 1,000, 10,000… confirmed letters."""
    event = from_data(stored.type, stored.data)
    assert isinstance(event, letter_reports.LetterMilestoneReached)
    state = action_as_of(conn, event.action_id, stored.position)
    return _partner_event(stored, "action.letters_milestone", state, {
        "milestone": event.milestone, "letters": event.letters,
        "reached_at": event.reached_at.isoformat()})


def daily_counts(conn: Connection, stored: StoredEvent) -> PartnerEvent | None:
    """`action.daily_letter_counts`: letters per official on one UTC day, and the day's total."""
    event = from_data(stored.type, stored.data)
    assert isinstance(event, letter_reports.DailyLetterCountsReported)
    state = action_as_of(conn, event.action_id, stored.position)
    known = {t.target_id: t for t in state.content.targets} if state.content else {}
    targets = []
    for count in event.per_target:
        target = known.get(count.target_id)
        targets.append({"target_id": count.target_id,
                        "name": target.name if target else None,
                        "title": target.title if target else None,
                        "letters": count.letters})
    return _partner_event(stored, "action.daily_letter_counts", state, {
        "day": event.day.isoformat(), "total": event.total, "targets": targets})

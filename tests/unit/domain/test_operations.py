"""Skipping the event a subscription is stuck at: recorded with who and why, or refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from campaign.domain import operations
from campaign.domain.codec import from_data, to_data
from campaign.domain.operations import SkipStuckEvent, SubscriptionEventSkipped, audit_note
from tests.unit.domain.scenario import refusal

AT = datetime(2026, 12, 6, 17, 0, tzinfo=UTC)
SKIP = SkipStuckEvent(subscription="mail_dispatcher", position=42,
                      event_id="0b7e4b0e-4c44-4b8e-9d1c-3f7a1c3e9f10", event_type="MailingPlanned",
                      skipped_by="Ana (on call)", reason="  planned for a withdrawn action  ",
                      skipped_at=AT)


def decide(command: SkipStuckEvent, *given: SubscriptionEventSkipped) -> list[object]:
    state = operations.initial_state()
    for event in given:
        state = operations.evolve(state, event)
    return list(operations.decide(state, command))


def test_a_skip_records_who_skipped_which_event_and_why() -> None:
    [event] = decide(SKIP)

    assert event == SubscriptionEventSkipped(
        subscription="mail_dispatcher", position=42, event_id=SKIP.event_id,
        event_type="MailingPlanned", skipped_by="Ana (on call)",
        reason="planned for a withdrawn action", skipped_at=AT)
    assert from_data(event.type_name, to_data(event)) == event
    assert audit_note(event) == (
        "mail_dispatcher skipped position 42 (MailingPlanned "
        "0b7e4b0e-4c44-4b8e-9d1c-3f7a1c3e9f10), by Ana (on call): planned for a withdrawn action")


def test_the_same_position_skipped_again_records_nothing_new() -> None:
    [first] = decide(SKIP)

    assert decide(SKIP, first) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(("change", "code"), [
    ({"reason": "   "}, "invalid_reason"),
    ({"reason": "x" * 501}, "invalid_reason"),
    ({"reason": "line one\nline two"}, "not_single_line"),
    ({"skipped_by": ""}, "invalid_operator"),
    ({"position": 0}, "invalid_position"),
    ({"skipped_at": datetime(2026, 12, 6, 17, 0)}, "naive_datetime"),
])
def test_a_skip_that_does_not_say_who_why_or_where_is_refused(
    change: dict[str, object], code: str
) -> None:
    assert refusal(lambda: decide(replace(SKIP, **change))) == code  # type: ignore[arg-type]

"""Letter reports: milestones once each, a day's counts once, and only counts."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime

import pytest

from campaign.domain import letter_reports
from campaign.domain.base import DomainEvent
from campaign.domain.codec import from_data, to_data
from campaign.domain.letter_reports import (
    DailyLetterCountsReported,
    LetterMilestoneReached,
    RecordLetterTotal,
    ReportDailyLetterCounts,
    TargetLetters,
    crossed,
)
from tests.unit.domain.scenario import refusal

AT = datetime(2010, 10, 2, 0, 5, tzinfo=UTC)
DAY = date(2010, 10, 1)


def when(given: list[DomainEvent], command: letter_reports.Command) -> list[DomainEvent]:
    return letter_reports.decide(letter_reports.replay(given), command)


def total(letters: int) -> RecordLetterTotal:
    return RecordLetterTotal(action_id="ua-135-10", letters=letters, counted_at=AT)


def milestone(m: int, letters: int) -> LetterMilestoneReached:
    return LetterMilestoneReached(action_id="ua-135-10", milestone=m, letters=letters,
                                  reached_at=AT)


def daily(*counts: tuple[str, int], day: date = DAY) -> ReportDailyLetterCounts:
    return ReportDailyLetterCounts(action_id="ua-135-10", day=day, reported_at=AT,
                                   per_target=tuple(TargetLetters(t, n) for t, n in counts))


def test_counts_below_the_first_milestone_announce_nothing() -> None:
    assert when([], total(99)) == []


def test_reaching_a_milestone_announces_it_once() -> None:
    assert when([], total(100)) == [milestone(100, 100)]
    assert when([milestone(100, 100)], total(140)) == []


def test_a_jump_past_several_milestones_announces_each() -> None:
    assert when([milestone(100, 100)], total(10_250)) == [
        milestone(1_000, 10_250), milestone(10_000, 10_250)]


def test_crossed_names_the_milestones_between_two_counts() -> None:
    assert crossed(0, 99) == ()
    assert crossed(99, 100) == (100,)
    assert crossed(100, 100) == ()
    assert crossed(999, 100_000) == (1_000, 10_000, 100_000)


def test_a_day_is_reported_once_with_its_total() -> None:
    command = daily(("t-1", 3), ("t-2", 0), ("t-3", 4))

    reported = when([], command)

    assert reported == [DailyLetterCountsReported(
        action_id="ua-135-10", day=DAY, per_target=command.per_target, total=7, reported_at=AT)]
    assert when(reported, command) == []  # a second clock, or a retry


def test_another_day_is_reported_on_its_own() -> None:
    first = when([], daily(("t-1", 3)))
    later = ReportDailyLetterCounts(action_id="ua-135-10", day=date(2010, 10, 2),
                                    per_target=(TargetLetters("t-1", 1),),
                                    reported_at=datetime(2010, 10, 3, 0, 5, tzinfo=UTC))

    assert [type(e) for e in when(first, later)] == [DailyLetterCountsReported]


@pytest.mark.parametrize("command, code", [
    (daily(("t-1", 1), day=date(2010, 10, 2)), "day_not_over"),
    (daily(("t-1", 1), ("t-1", 2)), "invalid_count"),
    (daily(("t-1", -1)), "invalid_count"),
    (RecordLetterTotal(action_id="a", letters=-1, counted_at=AT), "invalid_count"),
    (RecordLetterTotal(action_id="a", letters=1, counted_at=datetime(2010, 1, 1)),
     "naive_datetime"),
])
def test_reports_that_cannot_be_true_are_refused(
    command: letter_reports.Command, code: str
) -> None:
    assert refusal(lambda: when([], command)) == code


def test_the_events_hold_counts_and_ids_only_and_survive_the_codec() -> None:
    events: list[DomainEvent] = [milestone(100, 120), DailyLetterCountsReported(
        action_id="a", day=DAY, per_target=(TargetLetters("t-1", 2),), total=2, reported_at=AT)]
    for event in events:
        assert not event.personal_fields
        assert {f.name for f in fields(event)} <= {
            "action_id", "milestone", "letters", "reached_at", "day", "per_target", "total",
            "reported_at"}
        assert from_data(event.type_name, to_data(event)) == event

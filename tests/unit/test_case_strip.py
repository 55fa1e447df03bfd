"""The letters strip above a case's timeline: cumulative per day, updates and deadlines marked."""

from __future__ import annotations

from datetime import UTC, date, datetime

from campaign.application.case_history import CaseHistory, Entry
from campaign.domain import case
from campaign.web.console.case_strip import MAX_DAYS, MIN_DAYS, letters_strip

LAUNCHED = Entry(1, "action_launched", datetime(2026, 12, 1, 9, tzinfo=UTC), "token:t")
UPDATED = Entry(2, "update_published", datetime(2026, 12, 3, 9, tzinfo=UTC), "token:t",
                update_number=1)


def history(*entries: Entry) -> CaseHistory:
    return CaseHistory(case.initial_state(), 1, list(entries))


def test_letters_add_up_from_the_launch_with_the_update_and_deadline_days_marked() -> None:
    strip = letters_strip(history(UPDATED, LAUNCHED),
                          {date(2026, 12, 2): 3, date(2026, 12, 4): 2},
                          [date(2026, 12, 5)], date(2026, 12, 5))

    assert len(strip) == MIN_DAYS and strip[-1].day == date(2026, 12, 5)
    assert [(d.day.day, d.letters, d.cumulative) for d in strip[-5:]] == [
        (1, 0, 0), (2, 3, 3), (3, 0, 3), (4, 2, 5), (5, 0, 5)]
    assert [d.marks for d in strip[-5:]] == [(), (), ("update 1",), (), ("deadline",)]
    assert {d.cumulative for d in strip[:-5]} == {0}


def test_a_long_case_shows_its_last_days_counting_the_letters_before_them() -> None:
    strip = letters_strip(history(LAUNCHED), {date(2026, 12, 2): 4, date(2027, 6, 1): 1}, [],
                          date(2027, 6, 1))

    assert len(strip) == MAX_DAYS
    assert (strip[0].cumulative, strip[-1].cumulative) == (4, 5)


def test_a_case_without_actions_or_letters_has_no_strip() -> None:
    assert letters_strip(history(), {}, [], date(2026, 12, 5)) == []

"""The strip above a case's timeline: cumulative confirmed letters per day, with the days of
numbered updates and appeal deadlines marked, so a campaigner sees what an update did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from campaign.application.case_history import CaseHistory

MAX_DAYS = 90
"""The strip shows at most the last 90 days (a table beside it has the same numbers)…"""
MIN_DAYS = 14
"""… and at least the last 14, so a case launched today still draws a line."""


@dataclass(frozen=True)
class StripDay:
    """One day of the strip."""

    day: date
    letters: int
    cumulative: int
    marks: tuple[str, ...]


def letters_strip(history: CaseHistory, per_day: dict[date, int], deadlines: list[date],
                  today: date) -> list[StripDay]:
    """Days from the case's first launch (or first letter) to today, MIN_DAYS to MAX_DAYS."""
    launches = [e.at.date() for e in history.entries if e.kind == "action_launched"]
    starts = [*launches, *per_day]
    if not starts:
        return []
    first = min(max(min(starts), today - timedelta(days=MAX_DAYS - 1)),
                today - timedelta(days=MIN_DAYS - 1))
    marks: dict[date, list[str]] = {}
    for entry in history.entries:
        if entry.kind == "update_published":
            marks.setdefault(entry.at.date(), []).append(f"update {entry.update_number}")
    for deadline in deadlines:
        marks.setdefault(deadline, []).append("deadline")
    total = sum(n for day, n in per_day.items() if day < first)
    days = []
    for offset in range((today - first).days + 1):
        day = first + timedelta(days=offset)
        total += per_day.get(day, 0)
        days.append(StripDay(day, per_day.get(day, 0), total, tuple(sorted(marks.get(day, [])))))
    return days

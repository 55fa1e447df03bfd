"""The dashboard's time chart and bar rows, as numbers a template draws in inline SVG.

Geometry is computed here, where it can be typed and read; the templates only place it.
Every mark keeps the count it stands for, so the page can put it in `data-value`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from campaign.read_models.dashboard_reading import Dashboard, Split

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 36
URGENT = timedelta(hours=48)
"""Under this, the countdown turns red and counts in hours."""
Place = Callable[[datetime], float]
"""Where an instant falls on the time axis."""


@dataclass(frozen=True)
class Point:
    """One day's running total on one line."""

    x: float
    y: float
    value: int
    day: date


@dataclass(frozen=True)
class Line:
    """A cumulative series: letters pledged, or letters confirmed."""

    series: str
    label: str
    points: tuple[Point, ...]

    @property
    def path(self) -> str:
        """The SVG polyline's points."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Mark:
    """A vertical marker: launch, an update, an extension, the stop or the deadline."""

    kind: str
    label: str
    at: datetime
    x: float


@dataclass(frozen=True)
class TimeChart:
    """Pledged and confirmed letters over time, with the action's markers."""

    width: int
    height: int
    lines: tuple[Line, ...]
    marks: tuple[Mark, ...]
    y_ticks: tuple[tuple[float, int], ...]
    x_ticks: tuple[tuple[float, str], ...]
    baseline: float


def time_chart(dashboard: Dashboard, now: datetime) -> TimeChart:
    """The cumulative two-line chart from the launch (or first day) to the deadline or now."""
    first = (datetime.combine(dashboard.days[0].day, time(), UTC) if dashboard.days else now)
    start = min(dashboard.launched_at or first, first)
    last_day_end = (_day_end(dashboard.days[-1].day) if dashboard.days else start)
    end = max([dashboard.deadline_at, min(last_day_end, now), start + timedelta(hours=1),
               *(m.at for m in dashboard.markers)])
    top = max([d.running.letters_pledged for d in dashboard.days] + [1])
    top = _nice(top)

    def x(at: datetime) -> float:
        span = (end - start).total_seconds()
        return LEFT + (WIDTH - LEFT - RIGHT) * (at - start).total_seconds() / span

    def y(value: int) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * value / top

    lines = []
    for series, label in (("pledged", "Letters pledged"), ("confirmed", "Letters confirmed")):
        points = [Point(x(start), y(0), 0, start.date())]
        for day in dashboard.days:
            value = (day.running.letters_pledged if series == "pledged"
                     else day.running.letters_confirmed)
            points.append(Point(x(min(_day_end(day.day), now, end)), y(value), value, day.day))
        lines.append(Line(series, label, tuple(points)))
    return TimeChart(
        width=WIDTH, height=HEIGHT, lines=tuple(lines), marks=_marks(dashboard, x),
        y_ticks=tuple((y(v), v) for v in (0, top // 2, top)),
        x_ticks=_x_ticks(start, end, x), baseline=y(0),
    )


def _marks(dashboard: Dashboard, place: Place) -> tuple[Mark, ...]:
    marks = []
    for m in dashboard.markers:
        if m.kind == "launched":
            label = "Launch"
        elif m.kind == "updated":
            label = f"Update {m.number}"
        elif m.kind == "extended":
            label = f"Deadline extended (update {m.number})"
        else:
            label = "Stopped"
        marks.append(Mark(m.kind, label, m.at, place(m.at)))
    marks.append(Mark("deadline", "Deadline", dashboard.deadline_at,
                      place(dashboard.deadline_at)))
    return tuple(marks)


def _x_ticks(start: datetime, end: datetime, x: Place) -> tuple[tuple[float, str], ...]:
    days = max(1, (end.date() - start.date()).days)
    step = max(1, days // 6)
    ticks = []
    day = start.date() + timedelta(days=1)
    while datetime.combine(day, time(), UTC) < end:
        at = datetime.combine(day, time(), UTC)
        ticks.append((x(at), f"{day.day} {day:%b}"))
        day += timedelta(days=step)
    return tuple(ticks)


def _day_end(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(), UTC)


def _nice(value: int) -> int:
    """A round number at least `value`, for the top of the axis."""
    magnitude: int = 10 ** (len(str(value)) - 1)
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return value


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart: its label, the counts drawn, greyed when no longer current."""

    name: str
    label: str
    pledged: int
    confirmed: int
    supporters: int
    muted: bool = False


def bars(splits: tuple[Split, ...], names: dict[str, str] | None = None) -> list[Bar]:
    """Bar rows for a split: letters pledged and confirmed, and the people behind them."""
    names = names or {}
    return [Bar(s.name, s.label or names.get(s.name) or s.name or "Not known",
                s.counts.letters_pledged, s.counts.letters_confirmed, s.counts.supporters,
                muted=not s.current) for s in splits]


def countdown(deadline_at: datetime, now: datetime) -> str:
    """Time left as a campaigner reads it: "5 d 4 h"; under 48 h in hours ("29 h 12 min",
    "3 h 0 min"), then "12 min"; "Deadline passed" after it."""
    left = int((deadline_at - now).total_seconds())
    if left <= 0:
        return "Deadline passed"
    hours, minutes = left // 3600, left % 3600 // 60
    if left >= URGENT.total_seconds():
        return f"{hours // 24} d {hours % 24} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"



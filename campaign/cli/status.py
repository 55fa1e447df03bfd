"""`campaign status`: where every subscription stands, for an operator or (`--json`) a
script. A stuck subscription is a silent outage (no e-mail, no webhook), so it is shown
first in words: where it stopped, since when, and its error."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from campaign.bootstrap import Container
from campaign.cli.context import container_from_env
from campaign.infra.database import current_revision, head_revision
from events.status import SubscriptionState, subscription_states


@dataclass(frozen=True)
class Status:
    """The log's head, the schema's revision and every subscription, read at `now`."""

    now: datetime
    head: int
    revision: str | None
    head_revision: str
    subscriptions: list[SubscriptionState]

    @property
    def stuck(self) -> list[SubscriptionState]:
        """The subscriptions stopped at a failed position."""
        return [s for s in self.subscriptions if s.stuck]


def read_status(c: Container, now: datetime | None = None) -> Status:
    """Every subscription that ran, and those the code knows that never did (no checkpoint)."""
    now = now or datetime.now(UTC)
    revision = current_revision(c.engine)
    states: list[SubscriptionState] = []
    head = 0
    if revision is not None:
        with c.engine.connect() as conn:
            head = c.store.head(conn=conn)
            states = subscription_states(conn, now, c.subscription_names)
    return Status(now, head, revision, head_revision(), states)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts.")
def status(as_json: bool) -> None:
    """Every subscription: position, lag, parked events, and where and since when it is stuck."""
    found = read_status(container_from_env(migrated=False))
    click.echo(json.dumps(as_document(found), indent=2) if as_json else as_text(found))


def as_document(found: Status) -> dict[str, Any]:
    """The status as JSON: instants in ISO 8601 UTC, durations in seconds."""
    return {
        "generated_at": found.now.isoformat(), "log_head": found.head,
        "schema": {"revision": found.revision, "head": found.head_revision,
                   "current": found.revision == found.head_revision},
        "stuck": [s.name for s in found.stuck],
        "subscriptions": [{
            "name": s.name, "position": s.position, "lag_events": s.lag_events,
            "lag_seconds": None if s.lag_seconds is None else round(s.lag_seconds, 3),
            "stuck": s.stuck, "failed_position": s.failed_position, "last_error": s.last_error,
            "stuck_since": _iso(s.stuck_since), "stuck_seconds": _stuck_for(found.now, s),
            "parked": s.parked, "updated_at": _iso(s.updated_at),
        } for s in found.subscriptions],
    }


def as_text(found: Status) -> str:
    """The status as a table, stuck subscriptions spelled out under it."""
    schema = (f"schema {found.revision or 'not migrated'}"
              + (" (current)" if found.revision == found.head_revision
                 else f" (the code expects {found.head_revision})"))
    lines = [f"log head {found.head} · {schema} · {found.now:%Y-%m-%d %H:%M:%S} UTC", "",
             f"{'subscription':<28}{'position':>10}{'lag':>9}{'behind':>10}{'parked':>8}  state"]
    for s in found.subscriptions:
        lines.append(f"{s.name:<28}{_or_dash(s.position):>10}{_or_dash(s.lag_events):>9}"
                     f"{_duration(s.lag_seconds):>10}{s.parked:>8}  {_state(found.now, s)}")
    for s in found.stuck:
        lines += ["", f"{s.name} is STUCK at position {s.failed_position} since "
                      f"{s.stuck_since:%Y-%m-%d %H:%M:%S} UTC" if s.stuck_since else
                      f"{s.name} is STUCK at position {s.failed_position}",
                  f"  error: {s.last_error}",
                  f"  once the cause is fixed: campaign subscriptions retry {s.name}",
                  f"  if this event can never be handled: campaign subscriptions skip {s.name} "
                  f"--position {s.failed_position} --reason \"...\""]
    if not found.stuck:
        lines += ["", "no subscription is stuck"]
    return "\n".join(lines)


def _state(now: datetime, s: SubscriptionState) -> str:
    if s.stuck:
        return f"STUCK at {s.failed_position} for {_duration(_stuck_for(now, s))}"
    if s.position is None:
        return "no checkpoint (an inline projection's parked events)" if s.parked else "never ran"
    return "running"


def _stuck_for(now: datetime, s: SubscriptionState) -> int | None:
    return None if s.stuck_since is None else max(int((now - s.stuck_since).total_seconds()), 0)


def _duration(seconds: float | None) -> str:
    """`-`, `42s`, `12m05s`, `3h20m` or `2d04h`: short enough for a column."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()

"""The live action dashboard (S4): `/console/actions/<id>`, its live fragment and CSV exports.

Everything shown comes from the `action_dashboard` read model (a catch-up projection: the
numbers follow the log within a clock tick) and the action's own row, a few dozen rows per
request whatever the action's size. The page works without JavaScript; `dashboard.js`
fetches the live fragment every few seconds and swaps it in, and ticks the countdown.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from flask import Response

from campaign.application.errors import NotFound
from campaign.infra.clock import utc_now
from campaign.read_models.dashboard_reading import Dashboard, read_dashboard
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.dashboard_charts import URGENT, bars, countdown, time_chart
from campaign.web.console.session import console_view, render_console
from campaign.web.context import container

blueprint = console_blueprint("console_dashboard", __name__)
POLL_SECONDS = 3
ENGLISH = Locale("en")
CHANNELS = {"post": "Post", "email": "E-mail", "fax": "Fax", "online": "Online form"}


def load(action_id: str) -> Dashboard:
    """The action's dashboard, or 404 naming it."""
    with container().engine.connect() as conn:
        found = read_dashboard(conn, action_id)
    if found is None:
        raise NotFound(f"no action {action_id}")
    return found


def context(dashboard: Dashboard, now: datetime) -> dict[str, object]:
    """What the page and its live fragment draw."""
    left = dashboard.deadline_at - now
    local = dashboard.deadline_at.astimezone(ZoneInfo(dashboard.deadline_timezone))
    channels = bars(dashboard.channels, CHANNELS)
    return {
        "d": dashboard, "chart": time_chart(dashboard, now),
        "targets": bars(dashboard.targets), "channels": channels,
        "channel_rows": [{"label": c.label, "value": c.confirmed} for c in channels],
        "countries": bars(dashboard.countries, dict(ENGLISH.territories)),
        "languages": bars(dashboard.languages, dict(ENGLISH.languages)),
        "countdown": countdown(dashboard.deadline_at, now),
        "urgent": dashboard.status == "launched" and left.total_seconds() > 0 and left < URGENT,
        "deadline_local": f"{local.day} {local:%b %Y, %H:%M}",
        "read_at": now, "poll_seconds": POLL_SECONDS,
    }


@blueprint.route("/actions/<action_id>", methods=["GET"])
@console_view()
def dashboard(action_id: str) -> str:
    """The dashboard page: header strip, time chart, splits, each with its table."""
    now = utc_now()
    return render_console("console/dashboard.html", **context(load(action_id), now))


@blueprint.route("/actions/<action_id>/live", methods=["GET"])
@console_view()
def live(action_id: str) -> Response:
    """The part of the page that changes, for the page's script to swap in."""
    now = utc_now()
    body = render_console("console/dashboard_live.html", **context(load(action_id), now))
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})


@blueprint.route("/actions/<action_id>/officials.csv", methods=["GET"])
@console_view()
def officials_csv(action_id: str) -> Response:
    """Letters per official: the numbers of the per-official table."""
    found = load(action_id)
    rows = [(s.name, s.label, "yes" if s.current else "no", s.counts.supporters,
             s.counts.letters_pledged, s.counts.letters_confirmed) for s in found.targets]
    return _csv(f"{action_id}-officials.csv",
                ("target_id", "official", "current", "supporters_who_pledged_people",
                 "letters_pledged", "letters_confirmed"), rows)


@blueprint.route("/actions/<action_id>/days.csv", methods=["GET"])
@console_view()
def days_csv(action_id: str) -> Response:
    """Pledges and letters per UTC day, with running totals: the time chart's numbers."""
    found = load(action_id)
    rows = [(d.day.isoformat(), d.counts.supporters, d.counts.letters_pledged,
             d.counts.letters_confirmed, d.running.letters_pledged, d.running.letters_confirmed)
            for d in found.days]
    return _csv(f"{action_id}-days.csv",
                ("day_utc", "supporters_who_pledged_people", "letters_pledged",
                 "letters_confirmed", "letters_pledged_to_date", "letters_confirmed_to_date"),
                rows)


def _csv(filename: str, header: tuple[str, ...],
         rows: Sequence[Sequence[object]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(value) for value in row] for row in rows])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


def _cell(value: object) -> object:
    """A value as a spreadsheet may read it: text that looks like a formula stays text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value

"""An action's dashboard numbers for integrations: what the console's dashboard shows.

The same read model as the console page (`campaign.read_models.dashboard_reading`), so the
two cannot disagree. People and letters are separate fields, never one "count".
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from campaign.application.errors import NotFound
from campaign.read_models.dashboard_reading import Counts, Split, read_dashboard
from campaign.web.api.common import CAMPAIGNER, ApiSchema, reading
from campaign.web.api.json_body import Blueprint
from campaign.web.auth import require_role

blueprint = Blueprint("action_dashboard", __name__, url_prefix="/api/v1/actions",
                      description="An action's live numbers: per day, official, channel, "
                                  "country and language.")
F = ma.fields


class CountsSchema(ApiSchema):
    """People and letters, counted apart."""

    supporters = F.Integer(required=True, metadata={
        "description": "Supporters who pledged (people, each counted once)"})
    letters_pledged = F.Integer(required=True, metadata={
        "description": "Letters pledged: each pledge promises one letter per official named"})
    letters_confirmed = F.Integer(required=True, metadata={
        "description": "Letters supporters confirmed they sent"})


class SplitSchema(CountsSchema):
    name = F.String(required=True, metadata={
        "description": "The official's id, the channel, the ISO country code or the "
                       "language; `others` adds up what is below the ten largest; empty "
                       "when not known"})
    current = F.Boolean(required=True, metadata={
        "description": "False for an official a numbered update dropped"})


class DaySchema(CountsSchema):
    day = F.Date(required=True, metadata={"description": "UTC day"})
    letters_pledged_to_date = F.Integer(required=True)
    letters_confirmed_to_date = F.Integer(required=True)


class MarkerSchema(ApiSchema):
    kind = F.String(required=True, metadata={
        "enum": ["launched", "updated", "extended", "closed"]})
    at = F.AwareDateTime(required=True)
    number = F.Integer(allow_none=True, required=True, metadata={
        "description": "The numbered update, for `updated` and `extended`"})
    deadline_at = F.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "The new deadline, for `extended`"})


class DashboardSchema(ApiSchema):
    """The numbers of the console's dashboard; they follow the log within a clock tick."""

    action_id = F.String(required=True)
    status = F.String(required=True)
    deadline_at = F.AwareDateTime(required=True)
    deadline_timezone = F.String(required=True)
    totals = F.Nested(CountsSchema, required=True)
    days = F.List(F.Nested(DaySchema), required=True)
    targets = F.List(F.Nested(SplitSchema), required=True)
    channels = F.List(F.Nested(SplitSchema), required=True)
    countries = F.List(F.Nested(SplitSchema), required=True)
    languages = F.List(F.Nested(SplitSchema), required=True)
    markers = F.List(F.Nested(MarkerSchema), required=True)


@blueprint.route("/<action_id>/dashboard", methods=["GET"])
@require_role("viewer")
@blueprint.response(200, DashboardSchema)
@blueprint.doc(security=CAMPAIGNER)
def dashboard(action_id: str) -> dict[str, Any]:
    """Supporters who pledged, letters pledged and letters confirmed: in total, per UTC day,
    per official, per channel, and per supporters' country and language (the ten largest
    and `others`); and the launch, updates, extensions and stop."""
    with reading() as conn:
        found = read_dashboard(conn, action_id)
    if found is None:
        raise NotFound(f"no action {action_id}")
    return {
        "action_id": found.action_id, "status": found.status,
        "deadline_at": found.deadline_at, "deadline_timezone": found.deadline_timezone,
        "totals": _counts(found.totals),
        "days": [{"day": d.day, **_counts(d.counts),
                  "letters_pledged_to_date": d.running.letters_pledged,
                  "letters_confirmed_to_date": d.running.letters_confirmed}
                 for d in found.days],
        "targets": _splits(found.targets), "channels": _splits(found.channels),
        "countries": _splits(found.countries), "languages": _splits(found.languages),
        "markers": [{"kind": m.kind, "at": m.at, "number": m.number,
                     "deadline_at": m.deadline_at} for m in found.markers],
    }


def _counts(counts: Counts) -> dict[str, int]:
    return {"supporters": counts.supporters, "letters_pledged": counts.letters_pledged,
            "letters_confirmed": counts.letters_confirmed}


def _splits(splits: tuple[Split, ...]) -> list[dict[str, Any]]:
    return [{"name": s.name, "current": s.current, **_counts(s.counts)} for s in splits]

"""The cases list as campaigners work it: nearest appeal deadline first, with counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import marshmallow as ma

from campaign.infra.clock import utc_now
from campaign.read_models.case_overview import SPARK_DAYS, CaseFilter, CaseSummary, case_overview
from campaign.web.api.common import CAMPAIGNER, COUNTRY, ApiSchema, reading, single_line
from campaign.web.api.json_body import Blueprint
from campaign.web.auth import require_role

blueprint = Blueprint("case_overview", __name__, url_prefix="/api/v1/case-overview",
                      description="Cases by nearest appeal deadline, with their counts.")
F = ma.fields


class CaseOverviewQuerySchema(ApiSchema):
    status = F.String(validate=ma.validate.OneOf(["open", "closed"]))
    country = F.String(validate=COUNTRY)
    deadline_within_hours = F.Integer(validate=ma.validate.Range(min=1, max=24 * 366), metadata={
        "description": "Only cases whose next appeal deadline is at most this many hours away"})
    has_pending = F.Boolean(metadata={
        "description": "Only cases with (true) or without (false) partner developments "
                       "awaiting approval"})
    q = F.String(validate=single_line(200), metadata={
        "description": "Part of the subject's name or of an action's UA or index number"})
    limit = F.Integer(load_default=200, validate=ma.validate.Range(min=1, max=500))


class CaseOverviewSchema(ApiSchema):
    case_id = F.String(required=True)
    subject_name = F.String(required=True)
    country = F.String(required=True)
    status = F.String(required=True, metadata={"enum": ["open", "closed"]})
    ua_number = F.String(allow_none=True, required=True,
                         metadata={"description": "The newest action's UA number"})
    index_number = F.String(allow_none=True, required=True)
    newest_action_id = F.String(allow_none=True, required=True)
    newest_action_status = F.String(allow_none=True, required=True)
    actions = F.Integer(required=True, metadata={"description": "Actions about the case"})
    next_deadline = F.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "The nearest appeal deadline still ahead among its launched actions"})
    seconds_left = F.Integer(allow_none=True, required=True)
    pledges = F.Integer(required=True, metadata={
        "description": "Pledges (people, once per action) across its actions"})
    letters = F.Integer(required=True, metadata={
        "description": "Confirmed letters across its actions"})
    pending_developments = F.Integer(required=True, metadata={
        "description": "Partner developments awaiting a campaigner's approval"})
    letters_per_day = F.List(F.Integer(), required=True, metadata={
        "description": f"Confirmed letters per UTC day, the last {SPARK_DAYS} days, oldest first"})


class CaseOverviewPageSchema(ApiSchema):
    items = F.List(F.Nested(CaseOverviewSchema), required=True)


@blueprint.route("", methods=["GET"])
@require_role("viewer")
@blueprint.arguments(CaseOverviewQuerySchema, location="query")
@blueprint.response(200, CaseOverviewPageSchema)
@blueprint.doc(security=CAMPAIGNER)
def overview(query: dict[str, Any]) -> dict[str, Any]:
    """Cases sorted by their nearest appeal deadline (cases with none last)."""
    hours = query.get("deadline_within_hours")
    which = CaseFilter(status=query.get("status"), country=query.get("country"),
                       deadline_within=None if hours is None else timedelta(hours=hours),
                       has_pending=query.get("has_pending"), search=query.get("q"))
    now = utc_now()
    with reading() as conn:
        rows = case_overview(conn, now, which, query["limit"])
    return {"items": [summary_body(row, now) for row in rows]}


def summary_body(row: CaseSummary, now: Any) -> dict[str, Any]:
    """One case of the list as the API shows it."""
    left = None if row.next_deadline is None else int((row.next_deadline - now).total_seconds())
    return {**vars(row), "letters_per_day": list(row.letters_per_day), "seconds_left": left}

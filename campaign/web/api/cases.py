"""Cases: the people at risk, and the timeline of what happened to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from campaign.application.case_history import case_history
from campaign.application.errors import NotFound
from campaign.domain import case
from campaign.domain.base import DomainError
from campaign.domain.values import LocalDateTime
from campaign.infra.clock import utc_now
from campaign.infra.tables import case_timeline, cases
from campaign.web.api.case_schemas import (
    CaseFilterSchema,
    CaseHistorySchema,
    CasePageSchema,
    CaseSchema,
    CloseCaseSchema,
    NewCaseSchema,
    NewDevelopmentSchema,
    RejectDevelopmentSchema,
)
from campaign.web.api.common import (
    CAMPAIGNER,
    PageQuerySchema,
    dispatch,
    etag,
    if_match_required,
    list_page,
    maybe_utc,
    reading,
    require_row,
)
from campaign.web.api.idempotency import HEADER_PARAMETER, idempotent
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import conflict, link, links
from campaign.web.auth import require_role
from campaign.web.context import container

blueprint = Blueprint("cases", __name__, url_prefix="/api/v1/cases",
                      description="Cases and their timelines of developments.")
Reply = tuple[dict[str, Any], int, dict[str, str]]
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}
CASE_ID = "$response.body#/case_id"
WRITES = {  # what a client does next with the case it just read or wrote
    "GetCase": link("cases.get", case_id=CASE_ID),
    "RecordDevelopment": link("cases.record_development", if_match=True, case_id=CASE_ID),
    "CloseCase": link("cases.close", if_match=True, case_id=CASE_ID),
    "DraftAction": link("actions.draft", body={"case_id": CASE_ID}),
}


@blueprint.route("", methods=["POST"])
@require_role("campaigner")
@idempotent
@blueprint.arguments(NewCaseSchema)
@blueprint.response(201, CaseSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER], responses=links(201, **WRITES))
def open_case(body: dict[str, Any]) -> Reply:
    """Open a case for a person or group at risk."""
    case_id = str(uuid.uuid4())
    outcome = dispatch(case.OpenCase(case_id=case_id, opened_at=utc_now(), **body))
    return representation(case_id), 201, {**etag(outcome.version),
                                           "Location": f"/api/v1/cases/{case_id}"}


@blueprint.route("", methods=["GET"])
@require_role("viewer")
@blueprint.arguments(PageQuerySchema, location="query")
@blueprint.arguments(CaseFilterSchema, location="query", as_kwargs=True)
@blueprint.response(200, CasePageSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_cases(query: dict[str, Any], **filters: str) -> dict[str, Any]:
    """Cases by id, filtered by status and country, a page at a time."""
    return list_page(cases.c.case_id, query, filters, _representation)


@blueprint.route("/<case_id>", methods=["GET"])
@require_role("viewer")
@blueprint.response(200, CaseSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, **WRITES))
def get(case_id: str) -> Reply:
    """One case with its timeline, oldest development first."""
    body = representation(case_id)
    return body, 200, etag(body["version"])


@blueprint.route("/<case_id>/history", methods=["GET"])
@require_role("viewer")
@blueprint.response(200, CaseHistorySchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, **WRITES))
def history(case_id: str) -> Reply:
    """The case's whole story, newest first: developments and their approval or rejection,
    its actions' launches, numbered updates, deadline extensions and stops, its closing;
    each with who did it and when."""
    with reading() as conn:
        found = case_history(container().store, conn, case_id)
    if found is None:
        raise NotFound(f"no case {case_id}")
    body = {"case_id": case_id, "version": found.version,
            "entries": [vars(entry) for entry in found.entries]}
    return body, 200, etag(found.version)


@blueprint.route("/<case_id>/developments", methods=["POST"])
@require_role("campaigner")
@if_match_required
@idempotent
@blueprint.arguments(NewDevelopmentSchema)
@blueprint.response(201, CaseSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER], responses={
    **conflict("case_closed", "duplicate_development"), **links(201, **WRITES, ApproveFirst=link(
        "cases.approve_development", if_match=True, case_id=CASE_ID,
        development_id="$response.body#/timeline/0/development_id"))})
def record_development(body: dict[str, Any], case_id: str) -> Reply:
    """Record what happened: detained, charged, a hearing, a sentence, a release…"""
    require_row(cases.c.case_id, case_id, "case")
    source = case.DevelopmentSource(kind="campaigner", url=body.pop("source_url"))
    development_id = body.pop("development_id", None) or str(uuid.uuid4())
    outcome = dispatch(case.RecordDevelopment(
        case_id=case_id, development_id=development_id, source=source, recorded_at=utc_now(),
        **body,
    ), with_if_match=True)
    return representation(case_id), 201, etag(outcome.version)


@blueprint.route("/<case_id>/developments/<development_id>/approve", methods=["POST"])
@require_role("campaigner")
@if_match_required
@blueprint.response(200, CaseSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, responses=conflict("unknown_development", "not_pending"))
def approve_development(case_id: str, development_id: str) -> Reply:
    """Publish a development a partner sent in, which waited for a campaigner's approval."""
    require_row(cases.c.case_id, case_id, "case")
    outcome = dispatch(case.ApproveDevelopment(case_id=case_id, development_id=development_id,
                                               approved_at=utc_now()), with_if_match=True)
    return representation(case_id), 200, etag(outcome.version)


@blueprint.route("/<case_id>/developments/<development_id>/reject", methods=["POST"])
@require_role("campaigner")
@if_match_required
@idempotent
@blueprint.arguments(RejectDevelopmentSchema)
@blueprint.response(200, CaseSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER],
               responses=conflict("unknown_development", "not_pending"))
def reject_development(body: dict[str, Any], case_id: str, development_id: str) -> Reply:
    """Keep a development a partner sent in out of sight for good, saying why.

    It is never mailed to supporters nor sent to partners; the timeline keeps it, rejected.
    """
    require_row(cases.c.case_id, case_id, "case")
    outcome = dispatch(case.RejectDevelopment(
        case_id=case_id, development_id=development_id, reason=body["reason"],
        rejected_at=utc_now()), with_if_match=True)
    return representation(case_id), 200, etag(outcome.version)


@blueprint.route("/<case_id>/close", methods=["POST"])
@require_role("campaigner")
@if_match_required
@blueprint.arguments(CloseCaseSchema)
@blueprint.response(200, CaseSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, responses=conflict("case_closed"))
def close(body: dict[str, Any], case_id: str) -> Reply:
    """Close the case with its outcome."""
    require_row(cases.c.case_id, case_id, "case")
    outcome = dispatch(case.CloseCase(case_id=case_id, closed_at=utc_now(), **body),
                       with_if_match=True)
    return representation(case_id), 200, etag(outcome.version)


def representation(case_id: str) -> dict[str, Any]:
    """The API's view of one case, read with this request's connection."""
    with reading() as conn:
        return _representation(conn, case_id)


def _representation(conn: Connection, case_id: str) -> dict[str, Any]:
    row = conn.execute(select(cases).where(cases.c.case_id == case_id)).one_or_none()
    if row is None:
        raise NotFound(f"no case {case_id}")
    timeline = conn.execute(
        select(case_timeline).where(case_timeline.c.case_id == case_id)
        .order_by(case_timeline.c.occurred_on, case_timeline.c.position)
    ).mappings().all()
    body = {k: row._mapping[k] for k in CaseSchema().fields if k in row._mapping}
    return {**body, "opened_at": maybe_utc(row.opened_at), "closed_at": maybe_utc(row.closed_at),
            "timeline": [_development(d) for d in timeline]}


def _development(row: Any) -> dict[str, Any]:
    occurred = dict(row["occurred"])
    if occurred.get("type") == "AtLocalTime":
        at = datetime.fromisoformat(occurred["local"]["at"])
        zone = occurred["local"]["timezone"]
        when: dict[str, Any] = {"at": at, "timezone": zone, "instant": _instant(at, zone)}
    else:
        when = {"on": row["occurred_on"]}
    return {**row, "occurred": when, "recorded_at": maybe_utc(row["recorded_at"]),
            "approved_at": maybe_utc(row["approved_at"])}


def _instant(at: datetime, timezone: str) -> datetime | None:
    """The development's moment in UTC; None for a stored reading no zone can convert (one
    recorded before its date was checked): one such row must not break the case's timeline."""
    try:
        return LocalDateTime(at=at, timezone=timezone).instant()
    except (OverflowError, ValueError, DomainError):
        return None

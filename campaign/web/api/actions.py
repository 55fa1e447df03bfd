"""Urgent actions: draft, launch, numbered updates, stop action, and the numbers."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from flask import g
from sqlalchemy import Connection, func, select

from campaign.application.actions import write_draft
from campaign.application.errors import NotFound
from campaign.domain import action
from campaign.domain.action import DEADLINE_NOTICE
from campaign.domain.action_content import ActionContent
from campaign.domain.codec import from_plain
from campaign.infra.clock import utc_now
from campaign.infra.i18n import LOCALES
from campaign.infra.tables import (
    action_counters,
    action_targets,
    action_translations,
    actions,
    letters_per_target_day,
    pledges,
    target_letters,
)
from campaign.mail.planning import audience
from campaign.read_models.action_translations import languages_of
from campaign.web.api.action_schemas import (
    ActionContentSchema,
    ActionFilterSchema,
    ActionPageSchema,
    ActionSchema,
    CloseSchema,
    StatsSchema,
    TranslationSchema,
    UpdateSchema,
)
from campaign.web.api.common import (
    CAMPAIGNER,
    PageQuerySchema,
    dispatch,
    etag,
    expected_version,
    if_match_required,
    list_page,
    meta,
    reading,
    require_row,
    rules_on_fields,
)
from campaign.web.api.idempotency import HEADER_PARAMETER, idempotent
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import conflict, link, links
from campaign.web.auth import require_role
from campaign.web.context import container
from events import as_utc

blueprint = Blueprint("actions", __name__, url_prefix="/api/v1/actions",
                      description="Urgent actions and their numbered updates.")
CONTENT_FIELDS = tuple(f.name for f in dataclasses.fields(ActionContent))
CASE_MUST_EXIST = {"unknown_case": "case_id"}
# What a translation must match in the action as it is now: conflicts with its state.
TRANSLATION_RULES = ("action_closed", "same_language", "asks_mismatch",
                     *(f"{name}_not_translated"
                       for name in ("summary", "body", "additional_information")))
LANGUAGE_PARAMETER = {
    "in": "path", "name": "language", "required": True,
    "schema": {"type": "string", "enum": list(LOCALES)},
    "description": "A shipped locale other than the action's own `language`",
}
ACTION_ID = "$response.body#/action_id"
DRAFTED = {  # what a client does next with a draft it just read or wrote
    "GetAction": link("actions.get", action_id=ACTION_ID),
    "ReviseDraft": link("actions.revise", if_match=True, action_id=ACTION_ID),
    "Launch": link("actions.launch", if_match=True, action_id=ACTION_ID),
    "Translate": link("actions.translate", if_match=True, action_id=ACTION_ID),
}
LAUNCHED = {  # ...and with a launched action
    "GetAction": link("actions.get", action_id=ACTION_ID),
    "GetStats": link("actions.stats", action_id=ACTION_ID),
    "PublishUpdate": link("actions.publish_update", if_match=True, action_id=ACTION_ID),
    "Translate": link("actions.translate", if_match=True, action_id=ACTION_ID),
    "Close": link("actions.close", if_match=True, action_id=ACTION_ID),
    "Pledge": link("pledges.make", action_id=ACTION_ID),
}


@blueprint.route("", methods=["POST"])
@require_role("campaigner")
@idempotent
@blueprint.arguments(ActionContentSchema)
@blueprint.response(201, ActionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER],
               responses={**conflict("duplicate_target"), **links(201, **DRAFTED)})
def draft(content: dict[str, Any]) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Draft an action about an existing case; it reaches supporters only once launched."""
    action_id = str(uuid.uuid4())
    with rules_on_fields(CASE_MUST_EXIST):
        outcome = write_draft(
            container().commands, action.DraftAction(action_id=action_id, drafted_at=utc_now(),
                                                     **content), meta(), conn=g.get("conn"))
    headers = {**etag(outcome.version), "Location": f"/api/v1/actions/{action_id}"}
    return representation(action_id), 201, headers


@blueprint.route("", methods=["GET"])
@require_role("viewer")
@blueprint.arguments(PageQuerySchema, location="query")
@blueprint.arguments(ActionFilterSchema, location="query", as_kwargs=True)
@blueprint.response(200, ActionPageSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_actions(query: dict[str, Any], **filters: str) -> dict[str, Any]:
    """Actions by id, filtered by status and country, a page at a time."""
    return list_page(actions.c.action_id, query, filters, _representation)


@blueprint.route("/<action_id>", methods=["GET"])
@require_role("viewer")
@blueprint.response(200, ActionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=CAMPAIGNER, responses=links(200, **{**DRAFTED, **LAUNCHED}))
def get(action_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """One action with its current document; the ETag is its version."""
    body = representation(action_id)
    return body, 200, etag(body["version"])


@blueprint.route("/<action_id>", methods=["PUT"])
@require_role("campaigner")
@if_match_required
@blueprint.arguments(ActionContentSchema)
@blueprint.response(200, ActionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=CAMPAIGNER, responses={
    **conflict("not_a_draft", "action_closed", "duplicate_target"), **links(200, **DRAFTED)})
def revise(content: dict[str, Any], action_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Rewrite a draft (any deadline allowed before launch), still about an existing case."""
    require_row(actions.c.action_id, action_id, "action")
    command = action.ReviseDraft(action_id=action_id, revised_at=utc_now(), **content)
    with rules_on_fields(CASE_MUST_EXIST):
        outcome = write_draft(container().commands, command, meta(),
                              expected_version=expected_version(), conn=g.get("conn"))
    return representation(action_id), 200, etag(outcome.version)


@blueprint.route("/<action_id>/launch", methods=["POST"])
@require_role("campaigner")
@if_match_required
@idempotent
@blueprint.response(200, ActionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER], responses={**conflict(
    "not_a_draft", "action_closed", "no_primary_target", "no_ask", "deadline_not_after_issue",
    "deadline_passed"), **links(200, **LAUNCHED)})
def launch(action_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Launch: needs a primary target, an ask and a deadline after the issue date.

    A deadline that has already passed is 409 `deadline_passed`: move it first.
    """
    require_row(actions.c.action_id, action_id, "action")
    outcome = dispatch(action.LaunchAction(action_id=action_id, launched_at=utc_now()),
                       with_if_match=True)
    return representation(action_id), 200, etag(outcome.version)


@blueprint.route("/<action_id>/updates", methods=["POST"])
@require_role("campaigner")
@if_match_required
@idempotent
@blueprint.arguments(UpdateSchema)
@blueprint.response(201, ActionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER], responses={**conflict(
    "action_not_launched", "action_closed", "update_number_not_increasing", "duplicate_target",
    "no_primary_target", "no_ask", "deadline_not_after_issue", "deadline_moved_backwards"),
    **links(201, **LAUNCHED)})
def publish_update(
    update: dict[str, Any], action_id: str
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Publish update number N: new text, asks, targets, or a later deadline."""
    require_row(actions.c.action_id, action_id, "action")
    outcome = dispatch(action.PublishUpdate(action_id=action_id, published_at=utc_now(),
                                            **update), with_if_match=True)
    return representation(action_id), 201, etag(outcome.version)


@blueprint.route("/<action_id>/close", methods=["POST"])
@require_role("campaigner")
@if_match_required
@idempotent
@blueprint.arguments(CloseSchema)
@blueprint.response(200, ActionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER],
               responses=conflict("action_not_launched", "action_closed"))
def close(body: dict[str, Any], action_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Stop action: no more updates or pledges; open pledges are cancelled."""
    require_row(actions.c.action_id, action_id, "action")
    outcome = dispatch(action.CloseAction(action_id=action_id, closed_at=utc_now(), **body),
                       with_if_match=True)
    return representation(action_id), 200, etag(outcome.version)


@blueprint.route("/<action_id>/translations/<language>", methods=["PUT"],
                 parameters=[LANGUAGE_PARAMETER])
@require_role("campaigner")
@if_match_required
@idempotent
@blueprint.arguments(TranslationSchema)
@blueprint.response(200, ActionSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER], responses={
    **conflict(*TRANSLATION_RULES), **links(200, GetAction=DRAFTED["GetAction"])})
def translate(
    text: dict[str, Any], action_id: str, language: str
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Give the action's text in `language`, replacing an earlier translation into it.

    Drafts and launched actions may be translated, again after an update changed the
    text (the translation is then no longer `current`). Supporters whose locale is
    `language` receive the action in it from the next e-mail on. What the action says
    now decides the rest, each a 409 naming it: every text the action has is translated
    (`body_not_translated`, …), with one ask for each of its asks, in order
    (`asks_mismatch`), into another language than the action's (`same_language`).
    """
    require_row(actions.c.action_id, action_id, "action")
    if language not in LOCALES:
        raise NotFound(f"no translations into {language!r}: the shipped locales are "
                       f"{', '.join(LOCALES)}")
    command = action.TranslateAction(action_id=action_id, language=language,
                                     translated_at=utc_now(), **text)
    outcome = dispatch(command, with_if_match=True)
    return representation(action_id), 200, etag(outcome.version)


@blueprint.route("/<action_id>/stats", methods=["GET"])
@require_role("viewer")
@blueprint.response(200, StatsSchema)
@blueprint.doc(security=CAMPAIGNER)
def stats(action_id: str) -> dict[str, Any]:
    """Pledges and confirmed letters: in total, per target and per day; and how many
    supporters receive the action in each language, and whose language lacks a translation.
    """
    with reading() as conn:
        body = _representation(conn, action_id)
        document = conn.execute(select(actions.c.document)
                                .where(actions.c.action_id == action_id)).scalar_one()
        languages, missing = languages_of(conn, action_id, document).tally(
            r.locale for r in audience(conn, action_id))
        by_status: dict[str, int] = {status: n for status, n in conn.execute(
            select(pledges.c.status, func.count()).where(pledges.c.action_id == action_id)
            .group_by(pledges.c.status))}
        targets = conn.execute(
            select(action_targets.c.target_id, action_targets.c.name, action_targets.c.role,
                   action_targets.c.current,
                   func.coalesce(target_letters.c.letters, 0).label("letters"))
            .select_from(action_targets.outerjoin(target_letters, (
                (target_letters.c.action_id == action_targets.c.action_id)
                & (target_letters.c.target_id == action_targets.c.target_id))))
            .where(action_targets.c.action_id == action_id)
            .order_by(action_targets.c.current.desc(), action_targets.c.ordinal)
        ).mappings().all()
        days = conn.execute(
            select(letters_per_target_day.c.day, letters_per_target_day.c.target_id,
                   letters_per_target_day.c.letters)
            .where(letters_per_target_day.c.action_id == action_id)
            .order_by(letters_per_target_day.c.day, letters_per_target_day.c.target_id)
        ).mappings().all()
    return {"action_id": action_id, "status": body["status"], "pledges": body["pledges"],
            "pledges_by_status": by_status, "letters": body["letters"],
            "targets": [dict(t) for t in targets], "letters_per_day": [dict(d) for d in days],
            "languages": languages, "missing_translations": missing}


def representation(action_id: str) -> dict[str, Any]:
    """The API's view of one action, read with this request's connection."""
    with reading() as conn:
        return _representation(conn, action_id)


def _representation(conn: Connection, action_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(actions, action_counters.c.pledges, action_counters.c.letters)
        .select_from(actions.outerjoin(action_counters,
                                       action_counters.c.action_id == actions.c.action_id))
        .where(actions.c.action_id == action_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"no action {action_id}")
    document = row.document
    content = from_plain(ActionContent, {k: document[k] for k in CONTENT_FIELDS})
    passed = utc_now() >= as_utc(row.deadline_at)
    return {
        **{f: getattr(content, f) for f in CONTENT_FIELDS},
        "action_id": action_id, "status": row.status, "update_number": row.update_number,
        "version": row.version, "deadline_passed": passed,
        "deadline_notice": DEADLINE_NOTICE if passed and row.status == "launched" else None,
        "launched_at": _instant(document.get("launched_at")),
        "closed_at": _instant(document.get("closed_at")),
        "close_reason": document.get("close_reason"),
        "pledges": row.pledges or 0, "letters": row.letters or 0,
        "translations": [{**t, "translated_at": as_utc(t["translated_at"])} for t in conn.execute(
            select(action_translations).where(action_translations.c.action_id == action_id)
            .order_by(action_translations.c.language)).mappings()],
    }


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

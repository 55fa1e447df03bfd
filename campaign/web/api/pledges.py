"""Pledges: a supporter promises letters to an action, then confirms each letter sent.

A pledge's id is `<action id>-<supporter id>` (its stream id without "pledge-"): one
pledge per supporter per action. Both halves are UUIDs full of dashes, so an id is
always resolved through the `pledges` read model, never split.

Supporters act with the token of the link in that action's e-mail, which names both the
supporter and the action: it opens this action's pledge and nothing else (403 elsewhere).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

import marshmallow as ma
from flask import g, request
from sqlalchemy import Connection, select
from werkzeug.exceptions import BadRequest

from campaign.application.access import Caller
from campaign.application.commands import Outcome
from campaign.application.errors import Forbidden, NotFound
from campaign.application.pledges import (
    SentLetter,
    confirm_letter_on_pledge,
    pledge_as_supporter,
    state_from_row,
)
from campaign.domain import pledge
from campaign.infra.clock import utc_now
from campaign.infra.tables import pledges
from campaign.web.api import formats
from campaign.web.api.common import (
    CAMPAIGNER,
    IF_MATCH,
    SUPPORTER,
    ApiSchema,
    Validators,
    etag,
    expected_version,
    meta,
    reading,
    rules_on_fields,
)
from campaign.web.api.idempotency import HEADER_PARAMETER, idempotent
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import conflict, link, links, problem
from campaign.web.auth import (
    action_link_checked_by_write,
    action_link_from_request,
    caller_from_bearer,
)
from campaign.web.context import container

blueprint = Blueprint("pledges", __name__, url_prefix="/api/v1",
                      description="Pledges to write, and the letters confirmed as sent.")
F = ma.fields
TARGET_ID: Validators = [ma.validate.Length(min=1, max=64), formats.Whole(
    formats.SLUG, "lowercase letters and digits in dash-separated words")]
LETTER_ID: Validators = [ma.validate.Length(min=1, max=100), formats.Whole(r"^[\x21-\x7e]{1,100}$",
                                       "1 to 100 visible ASCII characters")]
LETTER_DATE_RULES = {"sent_in_future": "sent_on", "sent_before_issue": "sent_on"}
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}
CREATED_HEADERS = {**ETAG_HEADER, "Location": {"schema": {"type": "string"}}}
PLEDGE_ID = "$response.body#/pledge_id"
PLEDGED = {  # what a supporter does next with a pledge
    "GetPledge": link("pledges.get", pledge_id=PLEDGE_ID),
    "ConfirmLetter": link("pledges.confirm_letter", if_match=True, pledge_id=PLEDGE_ID),
}

V = TypeVar("V", bound=Callable[..., Any])


class PledgeRequestSchema(ApiSchema):
    """Which officials to write to (none named: all of the action's) and how many letters."""

    target_ids = F.List(F.String(validate=TARGET_ID), load_default=list,
                        validate=ma.validate.Length(max=100),
                        metadata={"description": "Empty: every target of the action"})
    letters_promised = F.Integer(required=True, strict=True, validate=ma.validate.Range(
        min=1, max=pledge.MAX_LETTERS_PROMISED))


class LetterRequestSchema(ApiSchema):
    """One letter sent: to which official, by which channel, on which day."""

    letter_id = F.String(validate=LETTER_ID, metadata={
        "description": "Your id for the letter, making a retry harmless; generated if absent"})
    target_id = F.String(required=True, validate=TARGET_ID)
    channel = F.String(required=True,
                       validate=ma.validate.OneOf(["post", "email", "fax", "online"]))
    sent_on = formats.Date(required=True, metadata={
        "description": "Not before the action was issued, nor after today"})


class LetterSchema(ApiSchema):
    letter_id = F.String(required=True)
    target_id = F.String(required=True)
    channel = F.String(required=True)
    sent_on = F.Date(required=True)
    confirmed_at = F.DateTime(required=True)


class PledgeSchema(ApiSchema):
    """A pledge, its status and the letters confirmed so far."""

    pledge_id = F.String(required=True)
    action_id = F.String(required=True)
    supporter_id = F.String(required=True)
    status = F.String(required=True, metadata={
        "enum": ["open", "fulfilled", "lapsed", "cancelled"]})
    target_ids = F.List(F.String(), required=True)
    letters_promised = F.Integer(required=True)
    letters_confirmed = F.Integer(required=True)
    pledged_at = F.DateTime(required=True)
    due_at = F.DateTime(required=True)
    version = F.Integer(required=True)
    letters = F.List(F.Nested(LetterSchema), required=True)


def supporter_or_viewer(view: V) -> V:
    """Decorator: an action link's token, or a campaigner token of any role."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            g.caller = caller_from_bearer(header)
        else:
            g.action_link = action_link_from_request()
            g.caller = Caller("supporter", g.action_link.supporter_id)
        return view(*args, **kwargs)

    return cast(V, guarded)


def _require_link_for(action_id: str) -> None:
    """403 unless the caller's action link was sent for `action_id`."""
    if g.action_link.action_id != action_id:
        raise Forbidden("this link is for another action")


@blueprint.route("/actions/<action_id>/pledges", methods=["POST"])
@action_link_checked_by_write
@idempotent
@blueprint.arguments(PledgeRequestSchema)
@blueprint.response(201, PledgeSchema, headers=CREATED_HEADERS)
@blueprint.alt_response(200, schema=PledgeSchema, headers=CREATED_HEADERS,
                        description="The same pledge was already made: nothing changed")
@blueprint.doc(security=SUPPORTER, parameters=[HEADER_PARAMETER], responses={**conflict(
    "supporter_erased", "consent_required", "already_pledged", "action_not_open",
    "unknown_target"), **links(201, **PLEDGED), **links(200, **PLEDGED)})
def make(body: dict[str, Any], action_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Pledge letters to a launched action: one pledge per supporter per action.

    Needs confirmed consent and the link of this action's e-mail. Pledging again with the
    same targets and count changes nothing (200); a different pledge is refused (409
    `already_pledged`).
    """
    if g.action_link.action_id != action_id:
        action_link_from_request()  # 401 first for a supporter no longer on file, as elsewhere
        _require_link_for(action_id)
    outcome = pledge_as_supporter(container().commands, action_id, g.caller.id,
                                  tuple(body["target_ids"]), body["letters_promised"], meta(),
                                  utc_now(), conn=g.get("conn"), by_link=True)
    return _written(outcome)


@blueprint.route("/pledges/<pledge_id>", methods=["GET"])
@supporter_or_viewer
@blueprint.response(200, PledgeSchema, headers=ETAG_HEADER)
@blueprint.doc(security=[*SUPPORTER, *CAMPAIGNER], responses={
    "401": "UNAUTHORIZED", "403": problem("The pledge is another supporter's, or the link "
                                          "is for another action")})
def get(pledge_id: str) -> tuple[dict[str, Any], int, dict[str, str]]:
    """One pledge: its owner (with the action's link), or any campaigner token, may read it."""
    with reading() as conn:
        found = _representation(conn, pledge_id)
    _require_owner_or_campaigner(found["supporter_id"], found["action_id"])
    return found, 200, etag(found["version"])


@blueprint.route("/pledges/<pledge_id>/letters", methods=["POST"])
@action_link_checked_by_write
@idempotent
@blueprint.arguments(LetterRequestSchema)
@blueprint.response(201, PledgeSchema, headers=CREATED_HEADERS)
@blueprint.alt_response(200, schema=PledgeSchema, headers=CREATED_HEADERS,
                        description="This letter was already confirmed: nothing changed")
@blueprint.doc(security=SUPPORTER, parameters=[IF_MATCH, HEADER_PARAMETER], responses={
    **conflict("duplicate_letter", "pledge_cancelled", "unknown_target"),
    **links(201, **PLEDGED), **links(200, **PLEDGED)})
def confirm_letter(
    letter: dict[str, Any], pledge_id: str
) -> tuple[dict[str, Any], int, dict[str, str]]:
    """Confirm one letter sent; the last promised letter fulfils the pledge.

    Letters sent after a pledge lapsed still count, but it stays lapsed. A `sent_on`
    before the action's issue date or after today is 422.
    """
    sent = SentLetter(letter.get("letter_id") or str(uuid.uuid4()), letter["target_id"],
                      letter["channel"], letter["sent_on"])
    try:
        expected, malformed = expected_version(), None
    except BadRequest as exc:  # told only after 404 and 403, as when it was read later
        expected, malformed = None, exc

    def allowed(supporter_id: str, action_id: str) -> None:
        """403 unless the caller pledged it, with the link of its action."""
        if supporter_id != g.caller.id:
            raise Forbidden("only the supporter who pledged can confirm its letters")
        _require_link_for(action_id)
        if malformed is not None:
            raise malformed

    with rules_on_fields(LETTER_DATE_RULES):
        outcome = confirm_letter_on_pledge(container().commands, pledge_id, sent, meta(),
                                           utc_now(), allowed, expected_version=expected,
                                           conn=g.get("conn"), holder=g.caller.id)
    return _written(outcome)


def _written(outcome: Outcome) -> tuple[dict[str, Any], int, dict[str, str]]:
    """The pledge as the command left it: no second read after the write."""
    pledge_id = outcome.stream_id.removeprefix("pledge-")
    found = _from_state(pledge_id, outcome.state, outcome.version)
    headers = {**etag(outcome.version), "Location": f"/api/v1/pledges/{pledge_id}"}
    return found, 201 if outcome.events else 200, headers


def _require_owner_or_campaigner(owner: str, action_id: str) -> None:
    caller = g.caller
    if caller.kind == "supporter" and caller.id != owner:
        raise Forbidden("this pledge belongs to another supporter")
    if caller.kind == "supporter":
        _require_link_for(action_id)


def _row(conn: Connection, pledge_id: str) -> Any:
    row = conn.execute(select(pledges).where(pledges.c.pledge_id == pledge_id)).one_or_none()
    if row is None:
        raise NotFound(f"no pledge {pledge_id}")
    return row


def _representation(conn: Connection, pledge_id: str) -> dict[str, Any]:
    """The pledge from its read-model row, which each of its appends writes in its own
    transaction, letters included; a row that does not know its letters (written before it
    kept them) is replayed from the stream instead."""
    known = state_from_row(_row(conn, pledge_id))
    state, version = known or container().commands.load(conn, f"pledge-{pledge_id}",
                                                        pledge.AGGREGATE)
    return _from_state(pledge_id, state, version)


def _from_state(pledge_id: str, state: pledge.State, version: int) -> dict[str, Any]:
    letters = [{"letter_id": letter.letter_id, "target_id": letter.target_id,
                "channel": letter.channel, "sent_on": letter.sent_on,
                "confirmed_at": letter.confirmed_at} for letter in state.letters.values()]
    return {
        "pledge_id": pledge_id, "action_id": state.action_id, "supporter_id": state.supporter_id,
        "status": state.status, "target_ids": list(state.target_ids),
        "letters_promised": state.letters_promised,
        "letters_confirmed": state.letters_confirmed,
        "pledged_at": state.pledged_at, "due_at": state.due_at, "version": version,
        "letters": letters,
    }

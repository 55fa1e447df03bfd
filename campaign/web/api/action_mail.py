"""An action's e-mail before it is sent, and what stopping it would cancel.

Preview (the e-mail as a supporter in a chosen language and timezone gets it), test send
(that e-mail to the campaigner's own address) and the stop preview (the counts closing
would cancel): the editor's checks before launching and before stopping.
"""

from __future__ import annotations

from typing import Any, get_args

import marshmallow as ma
from flask import g

from campaign.infra.i18n import LOCALES
from campaign.infra.tables import actions
from campaign.mail.preview import PreviewKind
from campaign.web.action_mail import action_preview, close_preview, test_send
from campaign.web.api.common import CAMPAIGNER, LOCALE, TIMEZONE, ApiSchema, require_row
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import conflict
from campaign.web.auth import require_role

blueprint = Blueprint("action_mail", __name__, url_prefix="/api/v1/actions",
                      description="An action's e-mail previewed and test-sent, and its stop "
                                  "previewed.")
F = ma.fields


class PreviewQuerySchema(ApiSchema):
    """Which e-mail, and the reader it is shown as."""

    kind = F.String(load_default="action_launched",
                    validate=ma.validate.OneOf(list(get_args(PreviewKind))),
                    metadata={"description": "The mailing: the launch, an update, the stop"})
    language = F.String(load_default="en", validate=LOCALE, metadata={
        "description": "The reader's locale; the e-mail is in it if the action is (its own "
                       "language or a current translation), else in the action's own"})
    timezone = F.String(load_default="UTC", validate=TIMEZONE, metadata={
        "description": "The reader's timezone: a deadline with a time is shown on their clock"})


class PreviewSchema(ApiSchema):
    """The e-mail as rendered for sending, with links that open nothing."""

    kind = F.String(required=True)
    language = F.String(required=True, metadata={
        "description": "The language the e-mail is written in", "enum": list(LOCALES)})
    timezone = F.String(required=True)
    subject = F.String(required=True)
    html = F.String(required=True)
    text = F.String(required=True)


class TestSentSchema(ApiSchema):
    """A test send handed to the mail provider."""

    to = F.String(required=True, metadata={"description": "The token's own address"})
    subject = F.String(required=True)
    language = F.String(required=True)


class StopPreviewSchema(ApiSchema):
    """What closing the action would cancel now."""

    action_id = F.String(required=True)
    status = F.String(required=True)
    open_pledges = F.Integer(required=True, metadata={
        "description": "Open pledges (people): cancelled by the stop"})
    pending_reminders = F.Integer(required=True, metadata={
        "description": "Reminder e-mails not yet sent for those pledges"})
    queued_batches = F.Integer(required=True, metadata={
        "description": "Mail batches about the action not yet handed to the provider"})
    queued_emails = F.Integer(required=True, metadata={
        "description": "E-mails (people) in those batches: they go to no one"})


@blueprint.route("/<action_id>/preview", methods=["GET"])
@require_role("viewer")
@blueprint.arguments(PreviewQuerySchema, location="query")
@blueprint.response(200, PreviewSchema)
@blueprint.doc(security=CAMPAIGNER, responses=conflict("deadline_unshowable"))
def preview(query: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The e-mail of the action's launch, update or stop as a supporter in `language` and
    `timezone` would get it, rendered by the code that sends it; drafts too."""
    require_row(actions.c.action_id, action_id, "action")
    shown = action_preview(action_id, query["kind"], query["language"], query["timezone"])
    return vars(shown)


@blueprint.route("/<action_id>/test-send", methods=["POST"])
@require_role("campaigner")
@blueprint.arguments(PreviewQuerySchema, location="query")
@blueprint.response(202, TestSentSchema)
@blueprint.doc(security=CAMPAIGNER, responses=conflict(
    "token_has_no_email", "deadline_unshowable", "unusable_address", "test_send_refused"))
def send(query: dict[str, Any], action_id: str) -> tuple[dict[str, Any], int]:
    """Send the previewed e-mail, its subject marked [TEST], to this token's own address
    and no one else; 409 `token_has_no_email` when the token has none."""
    require_row(actions.c.action_id, action_id, "action")
    shown, to = test_send(action_id, query["kind"], query["language"], query["timezone"],
                          g.caller.id)
    return {"to": to, "subject": shown.subject, "language": shown.language}, 202


@blueprint.route("/<action_id>/close-preview", methods=["GET"])
@require_role("viewer")
@blueprint.response(200, StopPreviewSchema)
@blueprint.doc(security=CAMPAIGNER)
def stop_preview(action_id: str) -> dict[str, Any]:
    """What closing the action would cancel now: open pledges, their pending reminders and
    the mail about it not yet sent."""
    return vars(close_preview(action_id))

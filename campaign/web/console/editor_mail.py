"""The action's e-mail as a supporter gets it (preview), and a test send to oneself.

The preview page shows the subject, the text part and, in a sandboxed frame, the HTML part
rendered by the code that sends the mailing. The frame's document is served from its own
URL with its own policy: nothing in it may run a script, load anything or be framed by
anyone but the console. A test send goes to the address kept with the campaigner's token,
and only there.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

from campaign.domain.base import DomainError
from campaign.infra.i18n import LOCALES, language_name
from campaign.mail.preview import PREVIEW_KINDS, PreviewKind
from campaign.web.action_mail import action_preview, test_send
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.editor import Page, load_action
from campaign.web.console.session import console_view, current_session, render_console
from campaign.web.headers import own_policy

blueprint = console_blueprint("editor_mail", __name__)
FRAME_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
"""The framed e-mail: its own inline styles, nothing fetched, run or submitted."""
KIND_NAMES = {"action_launched": "Launch", "action_updated": "Update",
              "action_closed": "Stop notice"}
TIMEZONES = sorted(available_timezones())


@blueprint.route("/actions/<action_id>/preview", methods=["GET"])
@console_view("viewer")
def preview(action_id: str) -> Page:
    """The e-mail for the reader the query names (English, UTC, the launch by default)."""
    choice, errors = _choice(request.args)
    if errors:
        return _page(action_id, choice, errors), 422
    return _page(action_id, choice, [], sent=request.args.get("sent") == "1")


@blueprint.route("/actions/<action_id>/preview/email.html", methods=["GET"])
@console_view("viewer")
def framed(action_id: str) -> Response:
    """The HTML part alone, for the preview's sandboxed frame."""
    choice, errors = _choice(request.args)
    if errors:
        return Response("; ".join(m for _, m in errors), 422, mimetype="text/plain")
    load_action(action_id)
    shown = action_preview(action_id, **choice)
    own_policy(FRAME_POLICY)
    return Response(shown.html, 200, mimetype="text/html")


@blueprint.route("/actions/<action_id>/test-send", methods=["POST"])
@console_view("campaigner")
def send(action_id: str) -> Page:
    """Send the previewed e-mail to the campaigner's own address, marked as a test."""
    choice, errors = _choice(request.form)
    if errors:
        return _page(action_id, choice, errors), 422
    load_action(action_id)
    signed_in = current_session()
    assert signed_in is not None  # console_view let us in
    try:
        test_send(action_id, token_id=signed_in.token_id, **choice)
    except DomainError as refused:
        return _page(action_id, choice, [("", refused.message)]), 409
    return redirect(url_for("editor_mail.preview", action_id=action_id, sent="1", **choice), 303)


def _choice(source: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The kind, language and timezone asked for, and what is wrong with them."""
    kind: PreviewKind = source.get("kind") or "action_launched"
    choice = {"kind": kind, "language": source.get("language") or "en",
              "timezone": source.get("timezone") or "UTC"}
    errors = []
    if kind not in PREVIEW_KINDS:
        errors.append(("kind", f"Choose one of: {', '.join(PREVIEW_KINDS)}."))
        choice["kind"] = "action_launched"
    if choice["language"] not in LOCALES:
        errors.append(("language", f"Choose one of: {', '.join(LOCALES)}."))
        choice["language"] = "en"
    if choice["timezone"] not in TIMEZONES:
        errors.append(("timezone", "Not a timezone: choose one like Europe/Berlin."))
        choice["timezone"] = "UTC"
    return choice, errors


def _page(action_id: str, choice: dict[str, Any], errors: list[tuple[str, str]],
          sent: bool = False) -> str:
    found = load_action(action_id)
    shown = action_preview(action_id, **choice)
    signed_in = current_session()
    return render_console(
        "console/editor/preview.html", action=found, shown=shown, choice=choice, errors=errors,
        sent=sent, kinds=KIND_NAMES, timezones=TIMEZONES,
        languages=[(tag, language_name(tag, "en")) for tag in LOCALES],
        own_email=signed_in.email if signed_in else None)

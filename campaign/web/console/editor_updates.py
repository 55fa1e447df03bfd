"""A live action's numbered updates, and stopping it after seeing what the stop cancels.

An update's form starts as the action is now; what the campaigner changes (the text, the
asks, the officials, a later deadline) is what the update replaces, and the number is the
next one. Stopping takes two steps: the reason, then a confirmation page counting what the
stop would cancel (open pledges, their reminders, the queued mail), and only its button
closes the action.
"""

from __future__ import annotations

from flask import redirect, request, url_for

from campaign.application.errors import PreconditionFailed
from campaign.domain import action
from campaign.domain.action import CloseReason
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.mail.rendering import CLOSE_REASONS
from campaign.web.action_mail import close_preview
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.editor import (
    ActionView,
    Page,
    edit_page,
    explain,
    form_version,
    load_action,
)
from campaign.web.console.editor_forms import Form, close_of, content_form, read_form, update_of
from campaign.web.console.session import console_meta, console_view, render_console
from campaign.web.context import container

blueprint = console_blueprint("editor_updates", __name__)


@blueprint.route("/actions/<action_id>/updates", methods=["POST"])
@console_view("campaigner")
def publish(action_id: str) -> Page:
    """Publish the next numbered update with what the form changed."""
    found = load_action(action_id)
    form = read_form(request.form)
    if request.form.get("do", "publish") != "publish":
        return edit_page(found, content_form(found.document), update=form)
    fields = update_of(form, found.document)
    if fields is None:
        return edit_page(found, content_form(found.document), update=form), 422
    try:
        container().commands.handle(action.PublishUpdate(
            action_id=action_id, published_at=utc_now(), **fields), console_meta(),
            expected_version=form_version())
    except (DomainError, PreconditionFailed) as refused:
        form.errors.append(("", explain(refused)))
        return edit_page(load_action(action_id), content_form(found.document), update=form), 409
    return redirect(url_for("editor.edit", action_id=action_id, done="updated"), 303)


@blueprint.route("/actions/<action_id>/stop", methods=["GET"])
@console_view("campaigner")
def stop_form(action_id: str) -> str:
    """Why the action stops: a reason must be chosen."""
    return _stop_page(load_action(action_id), Form())


@blueprint.route("/actions/<action_id>/stop", methods=["POST"])
@console_view("campaigner")
def stop(action_id: str) -> Page:
    """First the counts of what stopping cancels; with `confirm`, the stop itself."""
    found = load_action(action_id)
    form = Form(values=dict(request.form.items()))
    reason = close_of(request.form, form)
    if reason is None:
        return _stop_page(found, form), 422
    if request.form.get("confirm") != "yes":
        return render_console("console/editor/stop_confirm.html", action=found, form=form,
                              counts=close_preview(action_id),
                              reason_name=CLOSE_REASONS[reason["reason"]])
    try:
        container().commands.handle(action.CloseAction(
            action_id, reason["reason"], reason["note"], utc_now()), console_meta(),
            expected_version=form_version())
    except (DomainError, PreconditionFailed) as refused:
        form.errors.append(("", explain(refused)))
        return _stop_page(load_action(action_id), form), 409
    return redirect(url_for("editor.edit", action_id=action_id, done="stopped"), 303)


def _stop_page(found: ActionView, form: Form) -> str:
    reasons: dict[CloseReason, str] = CLOSE_REASONS  # type: ignore[assignment]
    return render_console("console/editor/stop.html", action=found, form=form, reasons=reasons)

"""The audit (S8, admin): who did what to which stream, and who signed in to the console.

Read from the audit read model, a page at a time by position (newest first), and from the
console sessions; an event's data is never shown, so no supporter's personal data is.
"""

from __future__ import annotations

from flask import request

from campaign.read_models.audit import audit_page, sign_ins
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.session import console_view, render_console
from campaign.web.context import container

blueprint = console_blueprint("console_audit", __name__)
PAGE = 50


@blueprint.route("/audit", methods=["GET"])
@console_view("admin")
def audit_list() -> str:
    """A page of the audit, filtered by actor and event type, and the latest sign-ins."""
    actor = (request.args.get("actor") or "").strip()[:200] or None
    event_type = (request.args.get("type") or "").strip()[:200] or None
    before = request.args.get("before", "")
    with container().engine.connect() as conn:
        page = audit_page(conn, PAGE, int(before) if before.isdigit() else None, actor,
                          event_type)
        logins = sign_ins(conn, 20)
    return render_console("console/audit.html", page=page, logins=logins, actor=actor or "",
                          event_type=event_type or "")

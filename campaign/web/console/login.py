"""Signing in to the console with an API token (S0), signing out, and the console's home.

The token is typed once into a password field and traded for a session (see
`campaign.web.console.session`); it is never put in the cookie, a URL or the page. A wrong,
unknown or revoked token gets one generic answer, so trying cannot tell which exist, and
failed attempts are rate-limited per client (`campaign.web.limits`).
"""

from __future__ import annotations

from flask import redirect, request, session, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from campaign.application.console_sessions import end_session, open_session
from campaign.infra.clock import utc_now
from campaign.infra.tables import action_counters, actions
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.session import (
    SESSION_KEY,
    console_view,
    current_session,
    render_console,
)
from campaign.web.context import container

blueprint = console_blueprint("console_login", __name__)
REFUSED = "That token did not open the console. Check it, or ask an admin for a new one."


@blueprint.route("/login", methods=["GET"])
def login_form() -> Response | str:
    """The sign-in form; a signed-in campaigner goes straight on."""
    if current_session() is not None:
        return redirect(safe_next(request.args.get("next")), 303)
    return render_console("console/login.html", next=request.args.get("next", ""))


@blueprint.route("/login", methods=["POST"])
def login() -> Response | tuple[str, int]:
    """Trade the token for a session; a fresh session id each time (no fixation)."""
    token = request.form.get("token", "").strip()
    opened = open_session(container().engine, token, utc_now()) if token else None
    if opened is None:
        return render_console("console/login.html", error=REFUSED,
                              next=request.form.get("next", "")), 401
    session.clear()
    session.permanent = True
    session[SESSION_KEY] = opened.session_id
    return redirect(safe_next(request.form.get("next")), 303)


@blueprint.route("/logout", methods=["POST"])
@console_view()
def logout() -> Response:
    """End the session on the server and forget it in the browser."""
    signed_in = current_session()
    if signed_in is not None:
        end_session(container().engine, signed_in.session_id, utc_now())
    session.clear()
    return redirect(url_for("console_login.login_form"), 303)


@blueprint.route("/", methods=["GET"])
@console_view()
def home() -> str:
    """Every action, newest deadline first: the way into each one's dashboard."""
    with container().engine.connect() as conn:
        rows = conn.execute(
            select(actions.c.action_id, actions.c.case_id, actions.c.ua_number,
                   actions.c.title, actions.c.status, actions.c.update_number,
                   actions.c.deadline_at, action_counters.c.pledges, action_counters.c.letters)
            .select_from(actions.outerjoin(
                action_counters, action_counters.c.action_id == actions.c.action_id))
            .order_by(actions.c.deadline_at.desc())
        ).mappings().all()
    return render_console("console/home.html", actions=rows)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path of ours, never another site."""
    if target and target.startswith("/console/") and "\\" not in target \
            and ".." not in target and not target.startswith("/console/login"):
        return target
    return url_for("console_login.home")

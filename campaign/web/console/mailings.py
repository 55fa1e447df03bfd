"""S5: each mailing of an action as a funnel of unique people, from planned to letters
confirmed, with deliverability, failures and send progress.

It reads the same function as `GET /api/v1/actions/{id}/mailings`
(campaign.read_models.mailing_funnel), so the page and the API cannot disagree. Viewers see
counts and ids; only admins see which supporter a failed recipient was.
"""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from campaign.infra.clock import utc_now
from campaign.infra.tables import actions
from campaign.read_models.mailing_funnel import action_mailings
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.session import console_view, render_console
from campaign.web.context import container

blueprint = console_blueprint("console_mailings", __name__)
REFRESH_SECONDS = 5


@blueprint.route("/actions/<action_id>/mailings", methods=["GET"])
@console_view()
def mailings(action_id: str) -> str:
    """Every mailing of the action, oldest first; `?refresh=1` reloads while one is sending."""
    with container().engine.connect() as conn:
        action = conn.execute(
            select(actions.c.action_id, actions.c.ua_number, actions.c.title,
                   actions.c.status).where(actions.c.action_id == action_id)).first()
        if action is None:
            raise NotFound(f"There is no action {action_id}.")
        found = action_mailings(conn, action_id, utc_now(),
                                supporter_ids=g.console.role == "admin")
    running = any(m.progress.running for m in found)
    refresh = REFRESH_SECONDS if running and request.args.get("refresh") == "1" else None
    return render_console("console/mailings.html", action=action, mailings=found,
                          running=running, refresh=refresh)

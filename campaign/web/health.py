"""Liveness and readiness probes.

A stuck subscription does not make a web process unready: every web process reads the same
database, so all of them would turn unready at once and the load balancer would take the
whole site down (sign-ups, pledges, partners' calls), when only what the stuck subscription
does (e-mail, webhooks, a read model) waits, and the events it will handle keep being
recorded. No restart fixes it either. So `/readyz` stays 200 and names the stuck
subscriptions in its body; operators hear of them from the alert e-mail, the
`campaign_subscription_stuck` metric and `campaign status`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from campaign.web.context import container
from campaign.web.problems import problem
from events.status import stuck_subscriptions


def blueprint(probes: Sequence[Callable[[], str | None]] = ()) -> Blueprint:
    """`/healthz` and `/readyz`; `probes` say what else readiness depends on."""
    found = Blueprint("health", __name__)

    @found.get("/healthz")
    def healthz() -> Response:
        """The process is alive; says nothing about its dependencies."""
        return jsonify(status="ok")

    @found.get("/readyz")
    def readyz() -> Response:
        """200 when the database and every probe answer, naming the stuck subscriptions;
        503 with the reasons otherwise."""
        reasons = [r for r in (_database_problem(), *(probe() for probe in probes)) if r]
        if reasons:
            return problem(503, "Service Unavailable", "; ".join(reasons))
        return jsonify(status="ready", stuck_subscriptions=_stuck())

    return found


def _database_problem() -> str | None:
    try:
        with container().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"database unreachable: {type(exc).__name__}"
    return None


def _stuck() -> list[dict[str, Any]]:
    """Each stuck subscription: where, since when, and the error's class (no data)."""
    now = datetime.now(UTC)
    with container().engine.connect() as conn:
        stuck = stuck_subscriptions(conn)
    return [{"name": s.name, "failed_position": s.failed_position,
             "stuck_since": s.stuck_since.isoformat() if s.stuck_since else None,
             "stuck_seconds": int((now - s.stuck_since).total_seconds()) if s.stuck_since
             else None, "last_error": s.last_error} for s in stuck]

"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from campaign.web.problems import problem

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process is alive; says nothing about its dependencies."""
    return jsonify(status="ok")


@blueprint.get("/readyz")
def readyz() -> Response:
    """200 when the database and the broker answer; 503 with the reason otherwise."""
    reasons = [r for r in (_database_problem(), _broker_problem()) if r]
    if reasons:
        return problem(503, "Service Unavailable", "; ".join(reasons))
    return jsonify(status="ready")


def _database_problem() -> str | None:
    try:
        with current_app.extensions["campaign"].engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"database unreachable: {type(exc).__name__}"
    return None


def _broker_problem() -> str | None:
    from campaign.infra.queue import broker_reachable

    state: dict[str, Any] = current_app.extensions["campaign.workers"]
    reason = broker_reachable(state["broker"])
    if reason is None and state.get("in_process") is not None:
        if not state["in_process"].alive():
            return "in-process worker stopped"
    return reason

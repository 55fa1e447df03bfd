"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import Blueprint, Response, jsonify
from sqlalchemy import text

from campaign.web.context import container
from campaign.web.problems import problem


def blueprint(probes: Sequence[Callable[[], str | None]] = ()) -> Blueprint:
    """`/healthz` and `/readyz`; `probes` say what else readiness depends on."""
    found = Blueprint("health", __name__)

    @found.get("/healthz")
    def healthz() -> Response:
        """The process is alive; says nothing about its dependencies."""
        return jsonify(status="ok")

    @found.get("/readyz")
    def readyz() -> Response:
        """200 when the database and every probe answer; 503 with the reasons otherwise."""
        reasons = [r for r in (_database_problem(), *(probe() for probe in probes)) if r]
        if reasons:
            return problem(503, "Service Unavailable", "; ".join(reasons))
        return jsonify(status="ready")

    return found


def _database_problem() -> str | None:
    try:
        with container().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return f"database unreachable: {type(exc).__name__}"
    return None

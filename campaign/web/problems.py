"""Every HTTP error as application/problem+json (RFC 9457), mapped in this one place."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from campaign.application.errors import AuthError, Forbidden, NotFound, PreconditionFailed
from campaign.domain.base import DomainError
from events import ConcurrencyError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> Response:
    """A problem+json response; `type` stays about:blank unless `extra` names one."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def from_http_exception(exc: HTTPException) -> Response:
    """Werkzeug and webargs errors; webargs puts field messages in `exc.data`, and
    `flask_smorest.abort(status, message=…, code=…)` a message and a machine-readable code."""
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") or data.get("errors")
    if exc.code == 422 and messages:
        response = problem(422, "Unprocessable Content", "The request has invalid fields.",
                           errors=_flatten(messages))
    else:
        extra = {"code": data["code"]} if data.get("code") else {}
        response = problem(exc.code or 500, exc.name, data.get("message") or exc.description,
                           **extra)
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """webargs' nested {location: {field: [messages]}} as a flat list of {field, message}."""
    if isinstance(messages, dict):
        out: list[dict[str, str]] = []
        for key, value in messages.items():
            location = key in ("json", "query", "headers", "path", "form", "files") and not prefix
            out += _flatten(value, "" if location else f"{prefix}{key}.")
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": prefix.rstrip(".") or "(body)", "message": m} for m in messages]
    if isinstance(messages, list):
        return [item for m in messages for item in _flatten(m, prefix)]
    return [{"field": prefix.rstrip(".") or "(body)", "message": str(messages)}]


def register_problem_handlers(app: Flask) -> None:
    """Route every error raised in a request to a problem+json body."""
    app.register_error_handler(HTTPException, from_http_exception)

    @app.errorhandler(DomainError)
    def domain_rule(exc: DomainError) -> Response:
        return problem(409, "Conflict", exc.message, code=exc.code)

    @app.errorhandler(ConcurrencyError)
    def concurrent_write(exc: ConcurrencyError) -> Response:
        return problem(409, "Conflict", "Someone else changed this resource at the same time; "
                       "read it again and retry.", code="concurrent_update")

    @app.errorhandler(PreconditionFailed)
    def stale_etag(exc: PreconditionFailed) -> Response:
        return problem(412, "Precondition Failed", "If-Match does not match the current "
                       f"version ({exc.current_version}).", code="version_mismatch")

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Response:
        return problem(404, "Not Found", str(exc))

    @app.errorhandler(AuthError)
    def unauthenticated(exc: AuthError) -> Response:
        response = problem(401, "Unauthorized", str(exc))
        response.headers["WWW-Authenticate"] = 'Bearer realm="campaign"'
        return response

    @app.errorhandler(Forbidden)
    def forbidden(exc: Forbidden) -> Response:
        return problem(403, "Forbidden", str(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        # Never echo the exception: it may hold personal data. The log has the details.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "The server failed; the error was logged.")

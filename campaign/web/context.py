"""What a request carries through the web layer: the process's Container, a correlation id.

`container()` is the one reader of `current_app.extensions`: views unpack what they need
from it and hand the application only that.

The correlation id is the client's `X-Request-ID` when it is short and plain (letters,
digits and `._:-`, at most 64), else a fresh one; the response echoes it, the request's
events carry it in their metadata, and every log line written while it is handled has it
(`campaign.infra.logs`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import BadRequest

from campaign.bootstrap import Container
from campaign.infra.logs import set_correlation_id

log = logging.getLogger("campaign.web.requests")

POLLED_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
"""Asked every few seconds by load balancers and scrapers: their lines are DEBUG."""

EXTENSION = "campaign"
REQUEST_ID = "X-Request-ID"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def install(app: Flask, container: Container) -> None:
    """Make `container` the one every request of `app` reads."""
    app.extensions[EXTENSION] = container


def container() -> Container:
    """The Container of the app handling this request."""
    found: Container = current_app.extensions[EXTENSION]
    return found


def correlation_id() -> str:
    """The current request's correlation id."""
    return str(g.correlation_id)


def register_request_context(app: Flask) -> None:
    """Give each request a correlation id before anything else runs."""

    @app.before_request
    def assign() -> None:
        offered = request.headers.get(REQUEST_ID, "")
        g.correlation_id = offered if _SANE.match(offered) else str(uuid.uuid4())
        g.started = time.perf_counter()  # the request's log line and /metrics read it
        set_correlation_id(g.correlation_id)
        # PostgreSQL cannot store or even compare text holding NUL: refuse it at the door.
        if "\x00" in request.path or "\x00" in request.query_string.decode("latin-1") \
                or "%00" in request.query_string.decode("latin-1"):
            raise BadRequest("the URL contains a NUL character")

    @app.after_request
    def echo(response: Response) -> Response:
        response.headers[REQUEST_ID] = g.get("correlation_id") or str(uuid.uuid4())
        _log_request(response)
        return response

    @app.teardown_request
    def forget(_: BaseException | None) -> None:
        set_correlation_id(None)  # the thread's next request must not inherit it


def _log_request(response: Response) -> None:
    """One line per request: its route's template, never its path (which may hold a
    supporter's id or a link's token), the status and how long it took; no client address."""
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    started = g.get("started")
    took_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    level = logging.DEBUG if route in POLLED_ROUTES else logging.INFO
    log.log(level, "%s %s %s", request.method, route, response.status_code,
            extra={"method": request.method, "route": route,
                   "status": response.status_code, "duration_ms": took_ms})

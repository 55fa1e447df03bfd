"""`/metrics` for Prometheus, to operators only; and how long each request takes.

The endpoint answers a client in METRICS_ALLOWED_NETWORKS (loopback by default: a
Prometheus beside the app, or one reaching it through a trusted proxy, counted as the
rate limits count it) or an admin's API token; anyone else gets 401 (or 403 for a token
without the admin role). Requests are timed by route template, never by path, so no id
of anyone ends up in a label.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from flask import Blueprint, Flask, Response, g, request

from campaign.application.access import ROLES
from campaign.application.errors import AuthError, Forbidden
from campaign.infra.live_metrics import LiveMetrics
from campaign.infra.metrics import HTTP_REQUEST_SECONDS, exposition
from campaign.web.auth import caller_from_bearer, credentials
from campaign.web.context import container
from campaign.web.limits import client_address

UNMATCHED = "unmatched"
"""The route label of requests no route matched (404s, mostly probes and scanners)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods named in labels; a client may send any word, which would make a series each."""


def blueprint(queues: Sequence[str] = ()) -> Blueprint:
    """`/metrics`: the counts of every process, subscriptions' lag and `queues`' depth."""
    found = Blueprint("metrics", __name__)

    @found.get("/metrics")
    def metrics() -> Response:
        """The Prometheus text format, read now; for allowed networks and admins only."""
        admit()
        c = container()
        body, content_type = exposition(LiveMetrics(c.engine, c.broker, queues,
                                                    subscriptions=c.subscription_names))
        return Response(body, content_type=content_type)

    return found


def admit() -> None:
    """Let an allowed network or an admin token through; AuthError or Forbidden otherwise."""
    settings = container().settings
    if not unexpectedly_forwarded(settings.trusted_proxy_hops) and allowed(
            client_address(settings.trusted_proxy_hops)(), settings.metrics_allowed_networks):
        return
    header = request.headers.get("Authorization")
    if credentials(header, "Bearer") is None:
        raise AuthError("metrics are served to the networks in METRICS_ALLOWED_NETWORKS, "
                        "or with an admin token: Authorization: Bearer <token>")
    caller = caller_from_bearer(header)
    if ROLES.index(caller.role or "viewer") < ROLES.index("admin"):
        raise Forbidden("metrics need the admin role")


def unexpectedly_forwarded(trusted_hops: int) -> bool:
    """A proxy forwarded this request though none is configured as trusted.

    With TRUSTED_PROXY_HOPS at 0 a reverse proxy on the same host makes every visitor look
    like loopback; its forwarding header gives it away, and then only a token admits.
    """
    return trusted_hops == 0 and any(
        name in request.headers for name in ("X-Forwarded-For", "Forwarded", "X-Real-Ip"))


def allowed(address: str, networks: Sequence[IPv4Network | IPv6Network]) -> bool:
    """Whether `address` lies in one of `networks` (an IPv4 address mapped into IPv6 too)."""
    try:
        ip: IPv4Address | IPv6Address = ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def instrument(app: Flask) -> None:
    """Time every request of `app` by method, route template and status, from the moment
    the request context (campaign.web.context) noted in `g.started`."""

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.get("started")
        if started is not None:
            rule = request.url_rule
            HTTP_REQUEST_SECONDS.labels(
                request.method if request.method in METHODS else "other",
                rule.rule if rule is not None else UNMATCHED,
                str(response.status_code),
            ).observe(time.perf_counter() - started)
        return response

"""Abuse controls on the public endpoints (Flask-Limiter), declared in one table.

Each public endpoint is limited per client (the address that reached us, or the one the
trusted proxies saw: TRUSTED_PROXY_HOPS), and the two that may send an e-mail to an
address a stranger typed (sign-up, "manage my data") share one budget for everyone, so a
crowd of clients cannot make us send without bound either. A request over a limit gets
429 problem+json with `Retry-After`.

Counters live in Redis when REDIS_URL is set, so every web process counts together; in the
embedded default they live in memory. If Redis cannot be reached the limits fall back to
memory rather than turning sign-ups away.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from flask import Flask, Response, request
from flask_limiter import Limiter

PER_CLIENT: Final[dict[str, str]] = {
    # endpoint -> the limit (settings.RateLimits' field) on it; one name, one counter per client
    "supporters.sign_up": "sign_up",
    "join_page.join": "sign_up",
    "supporters.request_manage": "manage_request",
    "manage_page.ask": "manage_request",
    "supporters.confirm": "links",
    "supporters.erase_by_link": "links",
    "confirmation.confirm": "links",
    "unsubscribe.one_click": "unsubscribe",
    "unsubscribe.resubscribe": "links",
    "action_mail.send": "test_send",
    "editor_mail.send": "test_send",
    "console_login.login": "console_login",
}
PUBLIC_MAIL: Final = frozenset({"supporters.sign_up", "join_page.join",
                                "supporters.request_manage", "manage_page.ask"})
"""The endpoints whose accepted requests may each cause one e-mail: one shared budget."""
FAILURES_ONLY: Final = frozenset({"console_login.login"})
"""The endpoints whose limit counts refused requests only: failed sign-ins."""
STORAGE_PREFIX: Final = "campaign-limits"


def install_limits(app: Flask, limits: Mapping[str, str], redis_url: str | None,
                   proxy_hops: int) -> Limiter:
    """Limit `app`'s public endpoints (already registered) as `limits` say, by name."""
    app.after_request(_retry_after_only_when_refused)  # runs after the limiter's own hook
    limiter = Limiter(
        client_address(proxy_hops), app=app, storage_uri=redis_url or "memory://",
        strategy="moving-window", headers_enabled=True, key_prefix=STORAGE_PREFIX,
        in_memory_fallback_enabled=True, swallow_errors=True,
    )
    limited = frozenset(PER_CLIENT)

    @limiter.request_filter
    def unlimited() -> bool:
        """Every other endpoint skips the limiter's search for limits that do not exist:
        on each request it cost as much as validating the body."""
        return request.endpoint not in limited

    budget = limits["public_mail"]
    for endpoint, name in PER_CLIENT.items():
        value = limits[name]
        view: Any = limiter.shared_limit(
            value, scope=name,
            deduct_when=_refused if endpoint in FAILURES_ONLY else None,
            error_message=f"Too many requests from your address (at most {value}).",
        )(app.view_functions[endpoint])
        if endpoint in PUBLIC_MAIL:
            view = limiter.shared_limit(
                budget, scope="public_mail", key_func=lambda: "everyone",
                deduct_when=_accepted,
                error_message=f"Too many requests of this kind from everyone right now "
                              f"(at most {budget}).",
            )(view)
        app.view_functions[endpoint] = view
    return limiter


def client_address(proxy_hops: int) -> Callable[[], str]:
    """The client a request counts against: with `proxy_hops` trusted proxies in front,
    the address the outermost one saw (X-Forwarded-For, counted from the right); the
    peer's address otherwise. Addresses further left are whatever the client claimed."""

    def key() -> str:
        if proxy_hops:
            seen = [part.strip() for part in request.headers.get("X-Forwarded-For", "")
                    .split(",")]
            if len(seen) >= proxy_hops and seen[-proxy_hops]:
                return seen[-proxy_hops]
        return request.remote_addr or "unknown"

    return key


def _retry_after_only_when_refused(response: Response) -> Response:
    """Flask-Limiter puts Retry-After on every answer of a limited endpoint; on an accepted
    one it would tell a client to wait for nothing."""
    if response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def _refused(response: Response) -> bool:
    """Only refused requests count against a failures-only limit."""
    return response.status_code >= 400


def _accepted(response: Response) -> bool:
    """Only accepted requests spend the shared budget: a malformed one sends nothing."""
    return response.status_code < 400

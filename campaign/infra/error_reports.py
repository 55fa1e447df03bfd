"""Errors reported to Sentry (SENTRY_DSN), with nothing personal in them.

`sentry-sdk` sends an event for each unhandled error in a request (its Flask integration),
in an actor (its Dramatiq integration) and for each record logged at ERROR (its logging
integration, on by default). The SDK's own protections are on: `send_default_pii=False`
(no user, no client address, no cookies), no local variables in stack frames, no request
bodies, and its `EventScrubber` with our names added. `scrub` then runs last, before an
event leaves the process: the request keeps only its method, a URL without query string
or ids, and a few harmless headers; the user goes; every string left has its e-mail-like
values, link tokens and credentials replaced. Each event is tagged with the correlation id,
so it leads to the log lines of the same request or message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

import sentry_sdk
from sentry_sdk.integrations import Integration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

from campaign.infra.logs import current_correlation_id, redact_path

FILTERED: Final = "[Filtered]"
PERSONAL_KEYS: Final = (
    "email", "e_mail", "contact_email", "name", "display_name", "first_name", "last_name",
    "address", "phone", "timezone", "country", "language", "supporter_id", "api_key",
    "signing_secret", "secret_key", "dsn", "sendgrid_api_key", "x_forwarded_for", "x_real_ip",
    "remote_addr", "ip_address", "client_ip",
)
"""Keys whose values the SDK's scrubber replaces, besides its own (tokens, cookies, auth)."""
SAFE_HEADERS: Final = frozenset({"Accept", "Content-Type", "Content-Length", "Host",
                                 "User-Agent", "X-Request-Id"})
EMAIL: Final = re.compile(r"[^\s@<>\"'(),;:/\[\]]+@[^\s@<>\"'(),;:/\[\]]+\.[^\s@<>\"'(),;:/\[\]]+")
LINK_TOKEN: Final = re.compile(
    r"(?P<keep>[?&;]token=|/(?:confirm|unsubscribe|manage)/)(?P<token>[^\s&#?/\"']+)")
CREDENTIAL: Final = re.compile(r"(?i)(?P<keep>\b(?:bearer|supporter|basic)\s+)[^\s\"',]+"
                               r"|\bwhsec_[A-Za-z0-9+/=]+")


def start_error_reports(dsn: str | None, environment: str,
                        integrations: Sequence[Integration] = ()) -> bool:
    """Report errors to `dsn` with the given integrations; False (and nothing) without one.

    Call it before the broker is made: the Dramatiq integration wraps brokers as they are
    created.
    """
    if not dsn:
        return False
    sentry_sdk.init(
        dsn=dsn, environment=environment, integrations=list(integrations),
        auto_enabling_integrations=False, send_default_pii=False,
        include_local_variables=False, max_request_body_size="never",
        event_scrubber=EventScrubber(
            denylist=[*DEFAULT_DENYLIST, *DEFAULT_PII_DENYLIST, *PERSONAL_KEYS], recursive=True),
        before_send=scrub, before_breadcrumb=scrub_breadcrumb,
    )
    return True


def scrub(event: Any, hint: Any) -> Any:
    """The event with nothing personal left in it, tagged with the correlation id."""
    event.pop("user", None)
    event.get("extra", {}).pop("sys.argv", None)  # a command line may hold anything
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = _request(request)
    correlation = current_correlation_id()
    if correlation:
        event.setdefault("tags", {})["correlation_id"] = correlation
    return _clean(event)


def scrub_breadcrumb(crumb: Any, hint: Any) -> Any:
    """A breadcrumb (an earlier log line, a query) with its strings cleaned like events."""
    return _clean(crumb)


def scrub_text(text: str) -> str:
    """`text` with e-mail-like values, link tokens and credentials replaced."""
    text = LINK_TOKEN.sub(rf"\g<keep>{FILTERED}", text)
    text = CREDENTIAL.sub(lambda m: f"{m['keep'] or ''}{FILTERED}", text)
    return EMAIL.sub(FILTERED, text)


def _request(request: dict[str, Any]) -> dict[str, Any]:
    """Method, URL (no query, no ids) and harmless headers: no body, cookies or query."""
    url = str(request.get("url") or "").split("?", 1)[0]
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    kept: dict[str, Any] = {"method": request.get("method"),
                            "url": f"{scheme}://{host}{redact_path('/' + path)}" if rest else ""}
    headers = request.get("headers")
    if isinstance(headers, dict):
        kept["headers"] = {name: value for name, value in headers.items()
                           if name.title() in SAFE_HEADERS}
    return kept


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value

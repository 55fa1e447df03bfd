"""What every console page shares: the signed-in session, roles, CSRF, rendering.

The browser holds one cookie, Flask's signed session, scoped to `/console`: it carries the
console session's random id and Flask-WTF's CSRF secret, never the API token. The session
itself lives in the database (`campaign.application.console_sessions`), so revoking a
token, logging out or an expiry ends it on the server at once.

Every console POST is checked for a CSRF token before any view runs (`check_csrf`, a
`before_request` hook of each console blueprint: `campaign.web.console.blueprint`); a forged
one gets 403. Roles are checked on the server by `console_view(role)`, and pages hide what
a role cannot do with `can`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup, escape
from werkzeug.exceptions import Forbidden, Unauthorized

from campaign.application.access import ROLES, Caller, Role
from campaign.application.commands import Meta
from campaign.application.console_sessions import ABSOLUTE_LIMIT, ConsoleSession, live_session
from campaign.infra.clock import utc_now
from campaign.web.console.actors import who
from campaign.web.context import container, correlation_id
from events import as_utc

SESSION_KEY = "console_session"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
csrf = CSRFProtect()
F = TypeVar("F", bound=Callable[..., Any])


def configure(app: Flask, public_base_url: str) -> None:
    """Cookie and CSRF settings for the console (the only user of Flask's session)."""
    host = urlsplit(public_base_url).hostname or ""
    app.config.update(
        SESSION_COOKIE_NAME="console",
        SESSION_COOKIE_PATH="/console",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=host not in LOOPBACK,
        PERMANENT_SESSION_LIFETIME=ABSOLUTE_LIMIT,
        # CSRF is checked only where `check_csrf` runs: console blueprints. The JSON API
        # authenticates with headers a cross-site form cannot send.
        WTF_CSRF_CHECK_DEFAULT=False,
        # The token lives as long as the console session; the session's own limits apply.
        WTF_CSRF_TIME_LIMIT=None,
        # Pages send `Referrer-Policy: no-referrer`, so browsers send no Referer for the
        # strict HTTPS check to compare; SameSite=Strict keeps other sites' requests
        # cookieless instead.
        WTF_CSRF_SSL_STRICT=False,
    )
    csrf.init_app(app)
    app.session_interface = SignedCookieSessions()


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, its signer built once per key set instead of on
    every request (Flask opens the session of every request, the API's too)."""

    def __init__(self) -> None:
        self._built: tuple[object, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        built = self._built
        if built is None or built[0] != keys:
            built = (keys, super().get_signing_serializer(app))
            self._built = built
        return built[1]


def check_csrf() -> None:
    """Refuse (403) a state-changing request without this session's CSRF token."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        csrf.protect()
    except CSRFError as exc:
        raise Forbidden(f"this form is not valid any more ({exc.description}); "
                        "reload the page and try again") from None


def current_session() -> ConsoleSession | None:
    """The signed-in console session of this request, if it is still live."""
    if "console" in g:
        found: ConsoleSession | None = g.console
        return found
    session_id = session.get(SESSION_KEY)
    found = None
    if isinstance(session_id, str):
        found = live_session(container().engine, session_id, utc_now())
        if found is None:
            session.pop(SESSION_KEY, None)
    g.console = found
    return found


def console_view(role: Role = "viewer") -> Callable[[F], F]:
    """Decorator: the view needs a live console session of at least `role`.

    Without one, a GET goes to the login page (and back here after it); anything else is
    refused with 401. A role below `role` is refused with 403, whatever the page showed.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            signed_in = current_session()
            if signed_in is None:
                if request.method == "GET":
                    return redirect(url_for("console_login.login", next=request.full_path),
                                    303)
                raise Unauthorized("sign in to the console first")
            if not allowed(signed_in.role, role):
                raise Forbidden(f"this needs the {role} role")
            g.caller = Caller("token", signed_in.token_id, signed_in.role)
            return view(*args, **kwargs)

        return guarded  # type: ignore[return-value]

    return decorate


def allowed(have: Role, need: Role) -> bool:
    """Whether role `have` may do what needs `need` (viewer < campaigner < admin)."""
    return ROLES.index(have) >= ROLES.index(need)


def console_meta() -> Meta:
    """Event metadata for this request: the session's token acted."""
    return Meta(actor=g.caller.actor, correlation_id=correlation_id())


def csrf_field() -> Markup:
    """The hidden input every console form carries."""
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(generate_csrf())


def when(instant: datetime | str | None) -> Markup:
    """A UTC instant as people read it, machine-readable in `<time>`, e.g. 6 Dec 2026, 14:02 UTC."""
    if instant is None:
        return Markup("—")
    moment = as_utc(datetime.fromisoformat(instant) if isinstance(instant, str) else instant)
    shown = f"{moment.day} {moment:%b %Y, %H:%M} UTC"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        moment.isoformat(), moment.isoformat(), escape(shown))


def render_console(template: str, **context: Any) -> str:
    """`template` with what every console page needs: who is signed in, what they can do."""
    signed_in = current_session()
    return render_template(
        template, console=signed_in, csrf_field=csrf_field, when=when, who=who, now=utc_now(),
        can=lambda role: signed_in is not None and allowed(signed_in.role, role),
        **context)

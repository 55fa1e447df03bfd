"""Tokens (S8, admin): create one (its secret shown once), change its role, revoke it.

The new token is shown in the answer to the POST that made it, never stored, never put in
the cookie, and sent with `Cache-Control: no-store`: the next load of the page, a reload
included, shows it no more. Every other write redirects to the list.
"""

from __future__ import annotations

from typing import Any, cast

from flask import make_response, redirect, request, url_for
from werkzeug.wrappers import Response

from campaign.application.access import (
    ROLES,
    Role,
    change_role,
    create_token,
    find_token,
    list_tokens,
    revoke_token,
)
from campaign.application.errors import NotFound
from campaign.domain.base import DomainError
from campaign.domain.values import is_single_line, validate_email
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.session import console_meta, console_view, render_console
from campaign.web.context import container

blueprint = console_blueprint("console_tokens", __name__)


@blueprint.route("/tokens", methods=["GET"])
@console_view("admin")
def tokens_page() -> str:
    """Every token with its role, address, maker, last use and revocation."""
    return _page()


@blueprint.route("/tokens", methods=["POST"])
@console_view("admin")
def create() -> Response | tuple[str, int]:
    """Make a token and show it this once."""
    form = {k: request.form.get(k, "").strip() for k in ("name", "role", "email")}
    errors = _problems(form)
    if errors:
        return _page(errors=errors, form=form), 422
    token_id, token = create_token(container().engine, form["name"], cast(Role, form["role"]),
                                   email=form["email"] or None, created_by=console_meta().actor)
    with container().engine.connect() as conn:
        created = find_token(conn, token_id)
    response = make_response(_page(created=created, secret=token))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/tokens/<token_id>/role", methods=["POST"])
@console_view("admin")
def set_role(token_id: str) -> Response | tuple[str, int]:
    """Give the token another role; its console sessions end."""
    role = request.form.get("role", "")
    if role not in ROLES:
        return _page(errors=[("role", f"one of {', '.join(ROLES)}")]), 422
    with container().engine.begin() as conn:
        if not change_role(conn, token_id, role):
            raise NotFound(f"no active token {token_id}")
    return redirect(url_for("console_tokens.tokens_page", _anchor=f"token-{token_id}"), 303)


@blueprint.route("/tokens/<token_id>/revoke", methods=["POST"])
@console_view("admin")
def revoke(token_id: str) -> Response:
    """Revoke the token: its API calls and its console sessions stop at once."""
    with container().engine.begin() as conn:
        if not revoke_token(conn, token_id):
            raise NotFound(f"no active token {token_id}")
    return redirect(url_for("console_tokens.tokens_page", _anchor=f"token-{token_id}"), 303)


def _problems(form: dict[str, str]) -> list[tuple[str, str]]:
    errors = []
    if not form["name"] or len(form["name"]) > 200 or not is_single_line(form["name"]):
        errors.append(("name", "a label of 1 to 200 characters on one line"))
    if form["role"] not in ROLES:
        errors.append(("role", f"one of {', '.join(ROLES)}"))
    if form["email"]:
        try:
            validate_email(form["email"])
        except DomainError:
            errors.append(("email", "not a valid e-mail address"))
    return errors


def _page(**context: Any) -> str:
    with container().engine.connect() as conn:
        tokens = list_tokens(conn)
    return render_console("console/tokens.html", tokens=tokens, roles=ROLES,
                          **{"errors": [], "form": {}, "created": None, "secret": None,
                             **context})

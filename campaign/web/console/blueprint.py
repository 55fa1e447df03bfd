"""How a console screen makes its blueprint: under /console, CSRF-checked, errors as pages."""

from __future__ import annotations

from flask import Blueprint

from campaign.web.console.errors import show_errors_as_pages
from campaign.web.console.session import check_csrf


def console_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of console pages under `/console`: every POST CSRF-checked before its
    view runs, every error shown as the console's error page."""
    blueprint = Blueprint(name, import_name, url_prefix="/console")
    blueprint.before_request(check_csrf)
    show_errors_as_pages(blueprint)
    return blueprint

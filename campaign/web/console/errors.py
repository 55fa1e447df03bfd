"""Errors on console pages as pages: a campaigner's browser gets HTML, not problem+json."""

from __future__ import annotations

from flask import Blueprint, Response
from werkzeug.exceptions import HTTPException

from campaign.application.errors import Forbidden, NotFound
from campaign.domain.base import DomainError
from campaign.web.console.session import render_console


def show_errors_as_pages(blueprint: Blueprint) -> None:
    """Render every error raised under `blueprint` with the console's error page."""

    @blueprint.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return error_page(exc.code or 500, exc.name, exc.description or "")

    @blueprint.errorhandler(NotFound)
    def not_found(exc: NotFound) -> Response:
        return error_page(404, "Not Found", str(exc))

    @blueprint.errorhandler(Forbidden)
    def forbidden(exc: Forbidden) -> Response:
        return error_page(403, "Forbidden", str(exc))

    @blueprint.errorhandler(DomainError)
    def domain_rule(exc: DomainError) -> Response:
        return error_page(409, "Conflict", exc.message)


def error_page(status: int, title: str, detail: str) -> Response:
    """The console's page for an error: what went wrong, in words, and a way back."""
    body = render_console("console/error.html", status=status, title=title, detail=detail)
    return Response(body, status=status, mimetype="text/html")

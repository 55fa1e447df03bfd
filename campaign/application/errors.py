"""Application errors that are not domain rules; campaign.web.problems maps them to HTTP."""

from __future__ import annotations


class NotFound(Exception):
    """Raised when the addressed resource does not exist (HTTP 404)."""


class PreconditionFailed(Exception):
    """Raised when If-Match names a version the resource is no longer at (HTTP 412)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the resource is at version {current_version}")
        self.current_version = current_version


class AuthError(Exception):
    """Raised when a request carries no usable credentials (HTTP 401)."""


class Forbidden(Exception):
    """Raised when the credentials are valid but their role is too low (HTTP 403)."""

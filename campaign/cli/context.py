"""What every `campaign` command shares: the settings and Container from the environment,
the metadata its events carry, and errors turned into one line instead of a traceback."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

import click
from sqlalchemy.engine import make_url

from campaign.application.commands import Meta
from campaign.bootstrap import Container, build
from campaign.domain.base import DomainError
from campaign.infra.database import DatabaseNotMigrated, ensure_migrated
from campaign.infra.logs import configure_logging
from campaign.partners.ssrf import UnsafeWebhookUrl
from campaign.settings import ConfigError, Settings

T = TypeVar("T")


def settings_from_env() -> Settings:
    """The settings from the environment, with logging configured; a bad one is one line."""
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def container_from_env(migrated: bool = True) -> Container:
    """The Container for the environment; refuses an un-migrated database unless told."""
    container = build(settings_from_env())
    if migrated:
        try:
            ensure_migrated(container.engine)
        except DatabaseNotMigrated as exc:
            raise click.ClickException(str(exc)) from None
    return container


def cli_meta() -> Meta:
    """What events written by a command say about who wrote them."""
    return Meta(actor="cli", correlation_id=f"cli-{uuid.uuid4()}")


def refusing(attempt: Callable[[], T]) -> T:
    """`attempt()`, with a refusal (bad input, a rule of the domain) shown as one line."""
    try:
        return attempt()
    except (UnsafeWebhookUrl, DomainError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def redacted(url: str) -> str:
    """A database URL fit to print: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)

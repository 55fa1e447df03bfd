"""The `campaign` command: run the app, migrate, rebuild projections."""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup
from sqlalchemy.engine import make_url

from campaign.application.access import ROLES, Role, create_token
from campaign.bootstrap import bootstrap
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.infra.database import DatabaseNotMigrated, current_revision, ensure_migrated, upgrade
from campaign.partners.cli import partners as partners_commands
from campaign.settings import ConfigError, Settings
from campaign.web.app import create_app
from events import rebuild


def _settings() -> Settings:
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    settings.configure_logging()
    return settings


def _create_app() -> object:
    try:
        return create_app({"SETTINGS": _settings()})
    except DatabaseNotMigrated as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Urgent-action campaigns: `campaign run` serves the app (see README)."""


@main.group(cls=click.Group)
def db() -> None:
    """Database schema (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest)."""
    settings = _settings()
    upgrade(settings.database_url, revision)
    click.echo(f"database at {revision}: {_redacted(settings.database_url)}")


@db.command("current")
def db_current() -> None:
    """Print the revision the database is at."""
    services = bootstrap(_settings())
    click.echo(current_revision(services.engine) or "not migrated")


@main.command("demo", with_appcontext=False)
def demo() -> None:
    """Load the seed case of Azimzhan Askarov and UA 135/10, with demo supporters."""
    services = bootstrap(_settings())
    try:
        ensure_migrated(services.engine)
    except DatabaseNotMigrated as exc:
        raise click.ClickException(str(exc)) from None
    loaded = load_demo(services)
    click.echo("demo loaded" if loaded else "demo already loaded")
    click.echo(f"  case:   /api/v1/cases/{seed.CASE_ID}")
    click.echo(f"  action: /api/v1/actions/{seed.ACTION_ID}  (and /stats)")
    click.echo("  a token to read them: campaign tokens create --role viewer --name me")


@main.group(cls=click.Group)
def tokens() -> None:
    """Campaigner API tokens."""


@tokens.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="Who or what will use the token.")
def tokens_create(role: Role, name: str) -> None:
    """Create a token and print it once; only its hash is stored."""
    services = bootstrap(_settings())
    try:
        ensure_migrated(services.engine)
    except DatabaseNotMigrated as exc:
        raise click.ClickException(str(exc)) from None
    token_id, token = create_token(services.engine, name, role)
    click.echo(f"token {token_id} ({role}) for {name}; shown once, keep it secret:", err=True)
    click.echo(token)


@main.group(cls=click.Group)
def projections() -> None:
    """Read models derived from the event log."""


@projections.command("list")
def projections_list() -> None:
    """List the projections and whether they are inline or catch-up."""
    for projection in bootstrap(_settings()).projections:
        click.echo(f"{projection.name}\t{projection.mode}")


@projections.command("rebuild")
@click.argument("name", required=False)
def projections_rebuild(name: str | None) -> None:
    """Rebuild NAME (or every projection) from position 0."""
    services = bootstrap(_settings())
    try:
        ensure_migrated(services.engine)
        targets = [services.projection(name)] if name else list(services.projections)
    except (DatabaseNotMigrated, KeyError) as exc:
        raise click.ClickException(str(exc.args[0])) from None
    last = services.store.head()
    for projection in targets:
        with click.progressbar(length=last, label=f"rebuilding {projection.name}",
                               file=sys.stderr) as bar:
            applied = rebuild(services.store, projection,
                              on_progress=lambda _n, position: bar.update(position - bar.pos))
        click.echo(f"{projection.name}: {applied} events applied")


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


main.add_command(partners_commands)

"""Secrets for key-rotation tests, and a Container as a process started with a key ring
sees the same database."""

from __future__ import annotations

from pathlib import Path

from campaign.bootstrap import Container, build
from campaign.settings import Settings
from tests.commands import SECRET_KEY

FIRST = SECRET_KEY
SECOND = "second-secret-9f2c1a7e-" + "Qm4rT8wZ" * 4
THIRD = "third-secret-4b8d2e6f-" + "Lp7nX3vK" * 4


def with_key_ring(container: Container, var_dir: Path, *secrets: str) -> Container:
    """`container`'s database and broker, seen by a process whose SECRET_KEY is
    `secrets[0]` and whose SECRET_KEY_PREVIOUS is the rest."""
    settings = Settings.from_env({
        "DATABASE_URL": container.settings.database_url, "SECRET_KEY": secrets[0],
        "SECRET_KEY_PREVIOUS": ",".join(secrets[1:]), "VAR_DIR": str(var_dir),
    })
    return build(settings, engine=container.engine, broker=container.broker)

"""Configuration, read once from the environment into a typed, validated object."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(Exception):
    """Raised when the environment does not describe a runnable configuration."""


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Everything the processes need to know about where they run."""

    database_url: str
    redis_url: str | None
    secret_key: str
    log_level: str
    var_dir: Path
    embedded_database: bool

    @property
    def uses_redis(self) -> bool:
        """True when a Redis broker is configured; otherwise workers run in-process."""
        return self.redis_url is not None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and check the environment; raise ConfigError naming what is wrong."""
        env = os.environ if environ is None else environ
        var_dir = Path(env.get("VAR_DIR") or "var").resolve()
        database_url = env.get("DATABASE_URL") or None
        redis_url = env.get("REDIS_URL") or None
        embedded = database_url is None and redis_url is None
        secret_key = env.get("SECRET_KEY") or None
        if secret_key is None:
            if not embedded:
                raise ConfigError(
                    "SECRET_KEY is required when DATABASE_URL or REDIS_URL is set "
                    "(make one: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            secret_key = _embedded_secret(var_dir)
        elif len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long")
        log_level = (env.get("LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            allowed = ", ".join(LOG_LEVELS)
            raise ConfigError(f"LOG_LEVEL must be one of {allowed}, not {log_level!r}")
        if database_url is None:
            database_url = f"sqlite:///{var_dir / 'campaign.sqlite3'}"
        elif not database_url.startswith(("postgresql", "postgres://", "sqlite")):
            raise ConfigError("DATABASE_URL must be a postgresql:// or sqlite:// URL")
        if database_url.startswith("postgres://"):
            database_url = "postgresql://" + database_url.removeprefix("postgres://")
        if redis_url is not None and not redis_url.startswith(("redis://", "rediss://")):
            raise ConfigError("REDIS_URL must be a redis:// or rediss:// URL")
        return cls(database_url, redis_url, secret_key, log_level, var_dir,
                   embedded_database=database_url.startswith("sqlite"))

    def configure_logging(self) -> None:
        """Plain, one-line log records at the configured level."""
        logging.basicConfig(
            level=getattr(logging, self.log_level),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def _embedded_secret(var_dir: Path) -> str:
    """A random key kept under var/, so local links survive restarts without configuration."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Created owner-only from the first byte; O_EXCL: never overwrite a concurrent writer's.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key

"""Configuration, read once from the environment into a typed, validated object."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from campaign.settings.operations import (
    LOOPBACK_NETWORKS,
    Network,
    metrics_settings,
    observability_settings,
    status_settings,
)
from campaign.settings.parsing import ConfigError, whole

__all__ = ["ConfigError", "RateLimits", "Settings", "metrics_settings"]


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_RATE = r"\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?\s*"
RATE_LIMIT = re.compile(rf"^{_RATE}([;,]{_RATE})*$")
"""Flask-Limiter's notation: "10 per minute", "10/minute;100/day", "5 per 2 hours"."""


@dataclass(frozen=True)
class RateLimits:
    """Limits on the public endpoints, in Flask-Limiter's notation (RATE_LIMIT_* variables).

    Per client (its address, see TRUSTED_PROXY_HOPS) except `public_mail`, one budget
    shared by everyone: sign-ups and "manage my data" requests may each send an e-mail to
    an address a stranger typed, so together they are held to so many an hour.
    """

    sign_up: str = "10 per minute;50 per hour"
    manage_request: str = "5 per minute;20 per hour"
    links: str = "30 per minute"
    """Confirming and erasing with a link's token (API and pages)."""
    unsubscribe: str = "120 per minute"
    """Generous: mail providers send many people's one-click unsubscribes from few hosts."""
    public_mail: str = "1000 per hour"
    test_send: str = "5 per minute;30 per hour"
    """Test sends of an action's e-mail to the campaigner's own address."""
    console_login: str = "10 per minute;50 per hour"
    """Failed console sign-ins per client: a token cannot be guessed, but nobody may try."""


@dataclass(frozen=True)
class Settings:
    """Everything the processes need to know about where they run."""

    database_url: str
    redis_url: str | None
    secret_key: str
    log_level: str
    var_dir: Path
    embedded_database: bool
    sendgrid_api_key: str | None = None
    sendgrid_api_host: str = "https://api.sendgrid.com"
    sendgrid_timeout: float = 10.0
    sendgrid_sandbox: bool = False
    sendgrid_webhook_public_key: str | None = None
    sendgrid_webhook_max_age: int = 300
    mail_from: str = "urgent-actions@localhost"
    public_base_url: str = "http://127.0.0.1:5000"
    # Days before a pledge's due time on which its reminders go out (10:00 supporter time).
    reminder_offsets_days: tuple[int, ...] = (7, 2)
    # WEBHOOK_ALLOW_PRIVATE=1: partner webhooks may use http:// and private addresses (tests, dev).
    webhook_allow_private: bool = False
    # CAMPAIGN_ALERT_EMAIL: who hears that a partner's webhooks were stopped (default: MAIL_FROM).
    campaign_alert_email: str | None = None
    rate_limits: RateLimits = RateLimits()
    # TRUSTED_PROXY_HOPS: proxies in front of the app that append to X-Forwarded-For; the
    # client the rate limits count is the address the outermost of them saw (0: the peer).
    trusted_proxy_hops: int = 0
    # UNCONFIRMED_RETENTION_DAYS: a sign-up never confirmed is erased after this many days.
    unconfirmed_retention_days: int = 30
    # METRICS_ALLOWED_NETWORKS: clients /metrics answers without an admin token (CIDR list).
    metrics_allowed_networks: tuple[Network, ...] = LOOPBACK_NETWORKS
    # WORKER_METRICS_PORT, _HOST: where a worker serves Dramatiq's metrics (port 0: nowhere).
    worker_metrics_port: int = 0
    worker_metrics_host: str = "127.0.0.1"
    # PROMETHEUS_MULTIPROC_DIR: where the processes of one web or worker keep their counts.
    metrics_dir: Path | None = None
    # LOG_FORMAT: text (one readable line, the default) or json (one object a line).
    log_format: str = "text"
    # SENTRY_DSN: report errors to Sentry (or a compatible service); none when unset.
    sentry_dsn: str | None = None
    sentry_environment: str = "production"
    # SECRET_KEY_PREVIOUS: older secrets, newest first, still read (links, data keys, blind
    # index) after SECRET_KEY was replaced; see `secret_keys` and docs/operations.md.
    secret_keys_previous: tuple[str, ...] = ()

    @property
    def secret_keys(self) -> tuple[str, ...]:
        """The key ring: SECRET_KEY, which signs and wraps everything new, then each older
        secret of SECRET_KEY_PREVIOUS, which still verifies and opens what it made."""
        return (self.secret_key, *self.secret_keys_previous)
    # ALERT_STUCK_AFTER_SECONDS: a subscription stuck this long e-mails CAMPAIGN_ALERT_EMAIL.
    alert_stuck_after_seconds: int = 600

    @property
    def mail_sender(self) -> tuple[str, str]:
        """MAIL_FROM as (display name, address); the name is "" when none was given."""
        return parseaddr(self.mail_from)

    @property
    def database_shown(self) -> str:
        """DATABASE_URL as a message may show it: with its password replaced by ***."""
        parts = urlsplit(self.database_url)
        if parts.password is None:
            return self.database_url
        userinfo, host = parts.netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))

    def database_unreachable(self, error: BaseException) -> str:
        """One line for an operator: which database could not be reached, and why."""
        lines = str(getattr(error, "orig", None) or error).strip().splitlines()
        reason = lines[0] if lines else type(error).__name__
        return f"cannot reach the database at {self.database_shown}: {reason}"

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
                    f"SECRET_KEY is required when DATABASE_URL or REDIS_URL is set ({MAKE_A_KEY})"
                )
            secret_key = _embedded_secret(var_dir)
        elif len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long")
        elif not embedded:
            _refuse_predictable(secret_key)
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
                   embedded_database=database_url.startswith("sqlite"),
                   reminder_offsets_days=_reminder_offsets(env.get("REMINDER_OFFSETS_DAYS")),
                   webhook_allow_private=_flag(env, "WEBHOOK_ALLOW_PRIVATE"),
                   campaign_alert_email=_alert_email(env.get("CAMPAIGN_ALERT_EMAIL")),
                   **mail_settings(env), **abuse_settings(env), **metrics_settings(env),
                   **observability_settings(env), **status_settings(env),
                   secret_keys_previous=previous_secret_keys(env, secret_key, embedded))


MIN_DISTINCT_CHARACTERS = 8
MAKE_A_KEY = "make one: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


def _refuse_predictable(secret_key: str) -> None:
    """Refuse a key that is clearly not random: every signed link and data key hangs on it.

    Two rules anyone can check by eye: at least 8 distinct characters (32 random hex digits
    have about 14; 32 identical ones have 1), and not one shorter piece repeated ("abcabc…").
    The message never repeats the key.
    """
    distinct = len(set(secret_key))
    if distinct < MIN_DISTINCT_CHARACTERS:
        raise ConfigError(f"SECRET_KEY is too predictable: {distinct} distinct characters, "
                          f"at least {MIN_DISTINCT_CHARACTERS} needed ({MAKE_A_KEY})")
    period = _period(secret_key)
    if period < len(secret_key):
        raise ConfigError(f"SECRET_KEY is too predictable: it repeats a piece of {period} "
                          f"characters ({MAKE_A_KEY})")


def previous_secret_keys(
    env: Mapping[str, str], secret_key: str, embedded: bool,
) -> tuple[str, ...]:
    """SECRET_KEY_PREVIOUS: the secrets SECRET_KEY replaced, newest first, comma-separated.

    Each is held to SECRET_KEY's own rules; none may repeat SECRET_KEY or another (a
    repeated key is a pasting mistake, and would hide which one is current). Messages name
    a key by its place in the list, never by its value.
    """
    raw = env.get("SECRET_KEY_PREVIOUS") or ""
    keys = tuple(part.strip() for part in raw.split(",") if part.strip())
    for place, key in enumerate(keys, start=1):
        name = f"SECRET_KEY_PREVIOUS (key {place})"
        if len(key) < 32:
            raise ConfigError(f"{name} must be at least 32 characters long")
        if not embedded:
            try:
                _refuse_predictable(key)
            except ConfigError as exc:
                raise ConfigError(str(exc).replace("SECRET_KEY", name, 1)) from None
        if key == secret_key or key in keys[:place - 1]:
            raise ConfigError(f"{name} repeats SECRET_KEY or an earlier previous key")
    return keys


def _period(text: str) -> int:
    """The length of the shortest piece that, repeated, spells `text` (its own length if none)."""
    for size in range(1, len(text) // 2 + 1):
        if all(text[i] == text[i % size] for i in range(size, len(text))):
            return size
    return len(text)


def _reminder_offsets(value: str | None) -> tuple[int, ...]:
    """Parse "7,2" into (7, 2): distinct days from 1 to 365, earliest reminder first."""
    if value is None or not value.strip():
        return (7, 2)
    problem = "REMINDER_OFFSETS_DAYS must be distinct whole days from 1 to 365, like 7,2"
    try:
        days = [int(part) for part in value.split(",")]
    except ValueError:
        raise ConfigError(f"{problem}, not {value!r}") from None
    if any(not 1 <= d <= 365 for d in days) or len(set(days)) != len(days):
        raise ConfigError(f"{problem}, not {value!r}")
    return tuple(sorted(days, reverse=True))


def mail_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The e-mail variables, checked: SendGrid, its event webhook, sender and link base."""
    api_key = env.get("SENDGRID_API_KEY") or None
    sandbox = _flag(env, "SENDGRID_SANDBOX")
    base_url = _url(env, "PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    if api_key and not sandbox and not base_url.startswith("https://") \
            and urlsplit(base_url).hostname not in LOOPBACK:
        raise ConfigError("PUBLIC_BASE_URL must be https:// when SENDGRID_API_KEY is set: mail "
                          "clients ignore one-click unsubscribe links over plain http")
    mail_from = env.get("MAIL_FROM") or "urgent-actions@localhost"
    if "@" not in parseaddr(mail_from)[1] or any(c in mail_from for c in "\r\n"):
        raise ConfigError(f"MAIL_FROM must be an address, like news@example.org, not {mail_from!r}")
    return {
        "sendgrid_api_key": api_key,
        "sendgrid_api_host": _url(env, "SENDGRID_API_HOST", "https://api.sendgrid.com"),
        "sendgrid_timeout": _number(env, "SENDGRID_TIMEOUT", 10.0, minimum=0.1),
        "sendgrid_sandbox": sandbox,
        "sendgrid_webhook_public_key": _public_key(env.get("SENDGRID_WEBHOOK_PUBLIC_KEY")),
        "sendgrid_webhook_max_age": int(_number(env, "SENDGRID_WEBHOOK_MAX_AGE", 300, minimum=0,
                                                integer=True)),
        "mail_from": mail_from,
        "public_base_url": base_url,
    }


def abuse_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Rate limits, the proxies to trust for the client's address, and the retention of
    unconfirmed sign-ups, checked."""
    limits = {}
    for name, default in vars(RateLimits()).items():
        variable = f"RATE_LIMIT_{name.upper()}"
        value = (env.get(variable) or default).strip()
        if not RATE_LIMIT.match(value):
            raise ConfigError(f"{variable} must be limits like '10 per minute;50 per hour', "
                              f"not {value!r}")
        limits[name] = value
    return {
        "rate_limits": RateLimits(**limits),
        "trusted_proxy_hops": whole(env, "TRUSTED_PROXY_HOPS", 0, 0, 10),
        "unconfirmed_retention_days": whole(env, "UNCONFIRMED_RETENTION_DAYS", 30, 1, 3650),
    }


def _alert_email(value: str | None) -> str | None:
    """CAMPAIGN_ALERT_EMAIL: one address, or None to use MAIL_FROM's."""
    if value is None or not value.strip():
        return None
    address = parseaddr(value.strip())[1]
    if "@" not in address or any(c in value for c in "\r\n"):
        raise ConfigError(f"CAMPAIGN_ALERT_EMAIL must be an address, like ops@example.org, "
                          f"not {value!r}")
    return address


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = (env.get(name) or "0").strip().lower()
    if value not in ("0", "1", "true", "false"):
        raise ConfigError(f"{name} must be 1 or 0, not {value!r}")
    return value in ("1", "true")


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query \
            or parts.fragment:
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, "
                          f"not {value!r}")
    return value


def _number(
    env: Mapping[str, str], name: str, default: float, minimum: float, integer: bool = False,
) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    kind = "a whole number" if integer else "a number"
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {kind} of seconds, not {raw!r}") from None
    if not value >= minimum or value == float("inf"):
        raise ConfigError(f"{name} must be {kind} of seconds, at least {minimum:g}")
    return value


def _public_key(value: str | None) -> str | None:
    """SendGrid's verification key as its UI shows it (base64 DER); a full PEM is accepted."""
    if not value or not value.strip():
        return None
    body = "".join(line.strip() for line in value.strip().splitlines()
                   if not line.startswith("-----"))
    pem = f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ConfigError("SENDGRID_WEBHOOK_PUBLIC_KEY must be the ECDSA verification key "
                          "from SendGrid's Event Webhook settings (base64)")
    return body


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

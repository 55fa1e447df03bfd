"""Settings of operations: who reads the metrics and where workers serve them, the log
format and error reports, and when a stuck subscription alerts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from campaign.settings.parsing import ConfigError, whole

LOG_FORMATS = ("text", "json")
Network = IPv4Network | IPv6Network
LOOPBACK_NETWORKS: tuple[Network, ...] = (ip_network("127.0.0.0/8"), ip_network("::1/128"))


def metrics_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Who may read /metrics without a token, where workers serve theirs, and the directory
    the processes of a gunicorn or a worker share their counts in."""
    raw = (env.get("METRICS_ALLOWED_NETWORKS") or "").strip()
    networks = LOOPBACK_NETWORKS
    if raw:
        try:
            networks = tuple(ip_network(part.strip(), strict=False)
                             for part in raw.split(",") if part.strip())
        except ValueError:
            raise ConfigError(f"METRICS_ALLOWED_NETWORKS must be networks like "
                              f"127.0.0.1/32,10.0.0.0/8, not {raw!r}") from None
    directory = (env.get("PROMETHEUS_MULTIPROC_DIR") or "").strip()
    if directory and not Path(directory).is_dir():
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR must be an existing directory, "
                          f"not {directory!r}")
    return {
        "metrics_allowed_networks": networks,
        "worker_metrics_port": whole(env, "WORKER_METRICS_PORT", 0, 0, 65535),
        "worker_metrics_host": (env.get("WORKER_METRICS_HOST") or "127.0.0.1").strip(),
        "metrics_dir": Path(directory) if directory else None,
    }


def observability_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """LOG_FORMAT, and where errors are reported (SENTRY_DSN, SENTRY_ENVIRONMENT), checked.

    A wrong DSN is refused without being repeated: it holds the project's key.
    """
    log_format = (env.get("LOG_FORMAT") or "text").strip().lower()
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT must be text or json, not {log_format!r}")
    dsn = (env.get("SENTRY_DSN") or "").strip() or None
    if dsn is not None:
        parts = urlsplit(dsn)
        if parts.scheme not in ("http", "https") or not parts.hostname or not parts.username \
                or not parts.path.strip("/"):
            raise ConfigError("SENTRY_DSN must be a DSN like https://KEY@HOST/PROJECT, as the "
                              "project's settings show it")
    environment = (env.get("SENTRY_ENVIRONMENT") or "production").strip()
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", environment):
        raise ConfigError(f"SENTRY_ENVIRONMENT must be a short name like production or "
                          f"staging, not {environment!r}")
    return {"log_format": log_format, "sentry_dsn": dsn, "sentry_environment": environment}
def status_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """How long a subscription may stay stuck before the campaigners are e-mailed (a week
    at most: an alert nobody gets is no alert)."""
    return {"alert_stuck_after_seconds": whole(env, "ALERT_STUCK_AFTER_SECONDS", 600, 0,
                                                7 * 24 * 3600)}

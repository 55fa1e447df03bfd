"""What every group of settings shares: the error that stops a process, and number parsing."""

from __future__ import annotations

from collections.abc import Mapping


class ConfigError(Exception):
    """Raised when the environment does not describe a runnable configuration."""


def whole(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """The whole number `name` holds, `default` when unset; ConfigError outside [low, high]."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)

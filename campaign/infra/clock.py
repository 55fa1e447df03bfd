"""The wall clock, read at the edges (requests, actors, the clock process) and passed inward."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current instant, aware and in UTC."""
    return datetime.now(UTC)

"""JSON encoding of event payloads, checked before the database is touched."""

from __future__ import annotations

import json
from typing import Any

from events.errors import EventSerializationError


def to_json(value: Any, what: str) -> str:
    """Compact JSON for `value`, or EventSerializationError naming `what` was wrong."""
    if not isinstance(value, dict):
        raise EventSerializationError(f"{what} must be a JSON object, not {type(value).__name__}")
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise EventSerializationError(f"{what} is not JSON-serialisable: {exc}") from None

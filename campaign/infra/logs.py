"""Log lines, plain or JSON, each carrying the correlation id of what caused it.

The correlation id lives in a context variable: the web sets it per request (from a valid
`X-Request-ID`, else a fresh one), the workers per message (the id the sender carried in
the message's options), the clock per tick. A filter on the handler copies it onto every
record, so a line says which request or message it belongs to whatever logger wrote it.

`LOG_FORMAT=json` writes one JSON object a line (python-json-logger) with `time`, `level`,
`logger`, `message`, `correlation_id` and the record's extras; `text`, the default, keeps
the one-line format people read in a terminal (`make run`).
"""

from __future__ import annotations

import logging
import logging.config
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Final

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS: Final = ("text", "json")
TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS: Final = ("asctime", "levelname", "name", "message", "correlation_id")
JSON_NAMES: Final = {"asctime": "time", "levelname": "level", "name": "logger"}
SERVER_LOGGERS: Final = ("gunicorn.error", "werkzeug")
"""Loggers of the HTTP servers, which write request paths: ids in them are redacted."""
REDACTED: Final = "[redacted]"
_PATH: Final = re.compile(r"(?<![\w.:/])/[^\s\"'?#]*")
_NAMES_SOMETHING: Final = re.compile(r"^(?=.*\d)[^/]{16,}$|^[^/]{25,}$")
"""A path segment that is an id or a token (a pledge's id holds its supporter's), not a
route word like `v1` or `letters`."""

_correlation: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    """The correlation id of the request, message or tick being handled here, if any."""
    return _correlation.get()


def new_correlation_id(kind: str) -> str:
    """A fresh id naming what started the work (`tick`, `message`, `cli`): never a person."""
    return f"{kind}-{uuid.uuid4()}"


def set_correlation_id(value: str | None) -> None:
    """Make `value` the correlation id of what this thread (or task) does next."""
    _correlation.set(value)


@contextmanager
def correlated(value: str) -> Iterator[str]:
    """Carry `value` as the correlation id inside the block, and the previous one after."""
    token = _correlation.set(value)
    try:
        yield value
    finally:
        _correlation.reset(token)


class CorrelationFilter(logging.Filter):
    """Stamps each record with the current correlation id (None outside any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "correlation_id", None) is None:
            record.correlation_id = _correlation.get()
        return True


class ProcessHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The process's one handler, to stderr: a class of its own so it can be told apart."""


def redact_path(path: str) -> str:
    """`path` with each segment that names someone or something replaced by [redacted]."""
    return "/".join(REDACTED if _NAMES_SOMETHING.match(segment) else segment
                    for segment in path.split("/"))


class ServerPaths(logging.Filter):
    """Redacts the ids and tokens in the request paths the HTTP servers log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in SERVER_LOGGERS:
            message = record.getMessage()
            cleaned = _PATH.sub(lambda m: redact_path(m[0]), message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


class JsonLines(JsonFormatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, correlation id,
    then the record's extras (and `exc_info`, the traceback, when there is one)."""

    def __init__(self) -> None:
        super().__init__(list(JSON_FIELDS), rename_fields=dict(JSON_NAMES))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def logging_config(level: str, log_format: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` of a process: one stderr handler on the root logger,
    gunicorn's error log sent to it; what gunicorn's `logconfig_dict` takes too."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    formatter: dict[str, Any] = ({"()": JsonLines} if log_format == "json"
                                 else {"format": TEXT_FORMAT})
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"correlation": {"()": CorrelationFilter}, "paths": {"()": ServerPaths}},
        "formatters": {"chosen": formatter},
        "handlers": {"stderr": {"()": ProcessHandler, "formatter": "chosen",
                                "filters": ["correlation", "paths"]}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            # Off, as gunicorn has it by default: it shows client addresses and whole paths.
            # The web writes a line of its own per request (campaign.web.context).
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure_logging(level: str, log_format: str, replace: bool = False) -> None:
    """Log at `level` to stderr in `log_format` (text or json).

    Like `logging.basicConfig`, it leaves alone a root logger someone else gave handlers (a
    test runner capturing records) unless told to `replace` them; its own it replaces.
    """
    root = logging.getLogger()
    if not replace and any(not isinstance(h, ProcessHandler) for h in root.handlers):
        return
    logging.config.dictConfig(logging_config(level, log_format))

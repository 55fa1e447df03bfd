"""Log lines: LOG_FORMAT and the error-report settings, the JSON shape, ids out of paths,
and the scrubber every Sentry event goes through."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from campaign.infra.error_reports import scrub, scrub_text
from campaign.infra.logs import (
    CorrelationFilter,
    JsonLines,
    ServerPaths,
    correlated,
    current_correlation_id,
    logging_config,
)
from campaign.settings import ConfigError, Settings

SUPPORTER = "b10aa1a7-5775-44b6-be01-1017519cd4c8"
ACTION = "32619614-74bb-4c8c-a6bb-a3e1124251b8"


def lines_of(log_format: str, emit: Any, name: str = "tests.logs.unit") -> list[str]:
    """What the process's handler writes for the records `emit` logs, one per line."""
    sink = io.StringIO()
    config = logging_config("DEBUG", log_format)
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonLines() if log_format == "json"
                         else logging.Formatter(config["formatters"]["chosen"]["format"]))
    handler.addFilter(CorrelationFilter())
    handler.addFilter(ServerPaths())
    logger = logging.getLogger(name)
    saved = logger.propagate, logger.level
    logger.addHandler(handler)
    logger.propagate, logger.level = False, logging.DEBUG
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
        logger.propagate, logger.level = saved
    return sink.getvalue().splitlines()


def test_text_is_the_default_and_json_or_a_dsn_are_chosen_by_variables(tmp_path: Path) -> None:
    default = Settings.from_env({"VAR_DIR": str(tmp_path)})
    chosen = Settings.from_env({"VAR_DIR": str(tmp_path), "LOG_FORMAT": "JSON",
                                "SENTRY_DSN": "https://key@errors.example.org/42",
                                "SENTRY_ENVIRONMENT": "staging"})

    assert (default.log_format, default.sentry_dsn) == ("text", None)
    assert (chosen.log_format, chosen.sentry_dsn, chosen.sentry_environment) == (
        "json", "https://key@errors.example.org/42", "staging")


@pytest.mark.parametrize(("variable", "value", "named"), [
    ("LOG_FORMAT", "yaml", "LOG_FORMAT must be text or json"),
    ("SENTRY_DSN", "errors.example.org/42", "SENTRY_DSN must be a DSN"),
    ("SENTRY_DSN", "https://errors.example.org/42", "SENTRY_DSN must be a DSN"),
    ("SENTRY_ENVIRONMENT", "prod\nuction", "SENTRY_ENVIRONMENT must be a short name"),
])
def test_a_wrong_log_or_error_report_setting_is_refused_by_name(
    tmp_path: Path, variable: str, value: str, named: str,
) -> None:
    with pytest.raises(ConfigError, match=named) as refused:
        Settings.from_env({"VAR_DIR": str(tmp_path), variable: value})

    assert "errors.example.org" not in str(refused.value)  # a DSN holds the project's key


def test_a_json_line_has_time_level_logger_message_correlation_id_and_extras() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.info("outside")
        with correlated("req-42"):
            logger.warning("batch %s accepted", "b-1", extra={"batch_id": "b-1"})

    outside, inside = (json.loads(line) for line in lines_of("json", emit))

    assert list(inside)[:5] == ["time", "level", "logger", "message", "correlation_id"]
    assert inside["time"].endswith("+00:00")
    assert (inside["level"], inside["logger"], inside["message"]) == (
        "WARNING", "tests.logs.unit", "batch b-1 accepted")
    assert (inside["correlation_id"], inside["batch_id"]) == ("req-42", "b-1")
    assert outside["correlation_id"] is None
    assert current_correlation_id() is None  # the block's id ended with it


def test_server_lines_lose_the_ids_and_tokens_in_their_paths_and_keep_route_words() -> None:
    def emit(server: logging.Logger) -> None:
        server.debug("%s %s", "POST", f"/api/v1/pledges/{ACTION}-{SUPPORTER}/letters")
        server.debug("GET /confirm/eyJzIjoiMSJ9.Zk3pQw.abcdefghij")

    lines = [json.loads(line)["message"] for line in lines_of("json", emit, "gunicorn.error")]

    assert lines == ["POST /api/v1/pledges/[redacted]/letters", "GET /confirm/[redacted]"]


def test_the_text_format_stays_one_readable_line() -> None:
    [line] = lines_of("text", lambda logger: logger.info("hello %s", "there"))

    assert line.endswith(" INFO tests.logs.unit: hello there")


def test_the_scrubber_leaves_no_address_token_credential_or_request_detail() -> None:
    event: dict[str, Any] = {
        "user": {"email": "ada@example.org", "ip_address": "203.0.113.9"},
        "request": {"method": "POST", "url": f"https://ua.example.org/api/v1/supporters/"
                                             f"{SUPPORTER}/erase?token=abc",
                    "query_string": "token=abc", "cookies": {"session": "s3cr3t"},
                    "data": {"email": "ada@example.org"},
                    "headers": {"Authorization": "Bearer cat_abcdef", "User-Agent": "curl",
                                "X-Forwarded-For": "203.0.113.9"}},
        "extra": {"sys.argv": ["gunicorn", "--secret"]},
        "exception": {"values": [{"value": "no key for ada@example.org via /manage/tok.en1"}]},
        "breadcrumbs": {"values": [{"message": "sent with Bearer cat_abcdef, whsec_AbC123=="}]},
    }

    scrubbed = json.dumps(scrub(event, {}))

    for personal in ("ada@example.org", "203.0.113.9", SUPPORTER, "s3cr3t", "cat_abcdef",
                     "whsec_AbC123", "tok.en1", "token=abc", "--secret"):
        assert personal not in scrubbed
    assert scrub(event, {})["request"] == {
        "method": "POST", "url": "https://ua.example.org/api/v1/supporters/[redacted]/erase",
        "headers": {"User-Agent": "curl"}}
    assert scrub_text("nothing personal here") == "nothing personal here"

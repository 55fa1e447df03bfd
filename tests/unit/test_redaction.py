"""Link tokens are redacted from every log line that carries a URL."""

from __future__ import annotations

import logging

import pytest

from campaign.web.redaction import URL_LOGGERS, RedactTokens, redact, redact_tokens_in_logs

TOKEN = "WyJhYmMiLCJ1YS0xMzUtMTAiXQ.Zx1Q2w.Jd8fT3kLw9-9s0c"


@pytest.mark.parametrize(("line", "expected"), [
    (f'"GET /act/ua-135-10?token={TOKEN} HTTP/1.1" 200 -',
     '"GET /act/ua-135-10?token=[redacted] HTTP/1.1" 200 -'),
    (f'"POST /act/ua-135-10?token={TOKEN}&done=pledged HTTP/1.1" 303 -',
     '"POST /act/ua-135-10?token=[redacted]&done=pledged HTTP/1.1" 303 -'),
    (f"GET /confirm/{TOKEN}", "GET /confirm/[redacted]"),
    (f"POST /unsubscribe/{TOKEN} 200", "POST /unsubscribe/[redacted] 200"),
    (f"POST /unsubscribe/{TOKEN}/resubscribe 200", "POST /unsubscribe/[redacted]/resubscribe 200"),
    (f"GET /manage/{TOKEN}?done=subscriptions", "GET /manage/[redacted]?done=subscriptions"),
    ("POST /api/v1/supporters/confirm HTTP/1.1", "POST /api/v1/supporters/confirm HTTP/1.1"),
    ("GET /manage HTTP/1.1", "GET /manage HTTP/1.1"),
])
def test_tokens_in_urls_are_redacted_and_nothing_else_is(line: str, expected: str) -> None:
    assert redact(line) == expected


@pytest.mark.parametrize("name", URL_LOGGERS)
def test_every_logger_that_writes_urls_redacts_them(
    name: str, caplog: pytest.LogCaptureFixture,
) -> None:
    redact_tokens_in_logs()
    redact_tokens_in_logs()  # twice: still one filter
    caplog.set_level(logging.INFO, logger=name)

    logging.getLogger(name).error("unhandled error on %s %s", "POST", f"/confirm/{TOKEN}")

    filters = logging.getLogger(name).filters
    assert sum(isinstance(f, RedactTokens) for f in filters) == 1
    assert TOKEN not in caplog.text
    assert "unhandled error on POST /confirm/[redacted]" in caplog.text

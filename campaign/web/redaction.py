"""Link tokens out of the logs: a filter on every logger that writes request URLs.

Supporters' links carry signed tokens in the URL (`/act/<id>?token=…`, `/confirm/<token>`,
`/unsubscribe/<token>`, `/manage/<token>`). Whoever reads a request log must not be able
to act as those people, so the development server's request log (werkzeug), gunicorn's
access and error logs and our own error log show them as `[redacted]`.
"""

from __future__ import annotations

import logging
import re
from typing import Final

TOKEN_IN_URL: Final = re.compile(
    r"(?P<keep>[?&;]token=|/(?:confirm|unsubscribe|manage)/)(?P<token>[^\s&#?/\"']+)")
REDACTED: Final = "[redacted]"
URL_LOGGERS: Final = ("werkzeug", "gunicorn.access", "gunicorn.error", "campaign.web.problems",
                      "campaign.web.app")
"""The loggers that write request URLs: the servers', ours, and Flask's own app logger."""


def redact(text: str) -> str:
    """`text` with the token of every supporter link replaced by `[redacted]`."""
    return TOKEN_IN_URL.sub(rf"\g<keep>{REDACTED}", text)


class RedactTokens(logging.Filter):
    """Rewrites a record whose message holds a link token; lets every record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def redact_tokens_in_logs() -> None:
    """Put the filter on each logger that writes URLs, once per process."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in logger.filters):
            logger.addFilter(RedactTokens())

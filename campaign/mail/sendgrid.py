"""SendGrid v3 mail send through the official `sendgrid` client, errors translated once, here.

One Batch becomes one POST /v3/mail/send with one personalization per recipient, in the
batch's order. The library has no timeout of its own: the underlying python_http_client
gets an explicit one. Its debug log would print the request body (addresses, names), so
that logger is held at INFO.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sendgrid
from python_http_client import exceptions as http_errors
from python_http_client.client import Response
from sendgrid.helpers.mail import (
    Category,
    Content,
    CustomArg,
    From,
    Header,
    Mail,
    MailSettings,
    ReplyTo,
    SandBoxMode,
    Substitution,
    To,
)
from sendgrid.helpers.mail import Personalization as SendGridPersonalization
from sendgrid.helpers.mail.exceptions import ApiKeyIncludedException

from campaign.infra.http import retry_after_seconds
from campaign.mail.errors import InvalidBatch, PermanentSendError, TransientSendError
from campaign.mail.message import Batch, Personalization
from campaign.mail.transport import Accepted

log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"[^\s<>\"'\[\](),;:]+@[^\s<>\"'\[\](),;:]+")
_EPOCH_THRESHOLD = 1_000_000_000  # X-RateLimit-Reset above this is an instant, not a delay


class SendGridTransport:
    """Sends batches with SendGrid's v3 API; `host` points tests at a local server."""

    def __init__(
        self, api_key: str, host: str = "https://api.sendgrid.com",
        timeout_seconds: float = 10.0, sandbox: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sandbox = sandbox
        self._clock = clock
        self._client = sendgrid.SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        # Copied into every sub-client python_http_client builds per request.
        self._client.client.timeout = timeout_seconds
        logging.getLogger("python_http_client").setLevel(logging.INFO)

    def send(self, batch: Batch) -> Accepted:
        """POST the batch; Accepted with X-Message-Id, or a typed error."""
        batch.validate()
        body = request_body(batch, self.sandbox)
        try:
            response = self._post(body)
        except http_errors.HTTPError as exc:
            # `from None`: the library's error holds the response body, which may quote addresses.
            raise self._translate(exc) from None
        except (OSError, http.client.HTTPException) as exc:
            # Timeouts, refused or reset connections, TLS failures: no answer to go by.
            raise TransientSendError(reason=type(exc).__name__) from None
        message_id = _header(response.headers, "X-Message-Id")
        log.info("batch %s accepted by SendGrid (%s, %d recipients, message id %s)",
                 batch.batch_id, response.status_code, len(batch.personalizations), message_id)
        return Accepted(message_id)

    def _post(self, body: dict[str, Any]) -> Any:
        """What `self._client.send(body)` does, the same request byte for byte, through the
        client's own URL, headers, timeout, opener, errors and Response, without the two
        things its generic method adds: formatting the whole body into a debug message
        whether or not anything logs it (about as long as encoding it, per request), and
        a Content-Type written into the headers it shares with every other request."""
        endpoint = self._client.client.mail.send
        request = urllib.request.Request(
            endpoint._build_url(None), data=json.dumps(body).encode("utf-8"),
            headers={**endpoint.request_headers, "Content-Type": "application/json"},
            method="POST")
        return Response(endpoint._make_request(urllib.request.build_opener(), request))

    def _translate(self, exc: Any) -> TransientSendError | PermanentSendError:
        status = int(exc.status_code)
        headers = exc.headers
        reason = _reason(exc.body) or str(exc.reason or "")
        if status == 429 or status >= 500:
            wait = retry_after(headers, self._clock())
            return TransientSendError(wait, status=status, reason=reason)
        return PermanentSendError(status, reason)


def build_mail(batch: Batch, sandbox: bool = False) -> Any:
    """The sendgrid Mail for `batch`; personalization i is recipient i."""
    try:
        mail = Mail(from_email=From(batch.from_email, batch.from_name or None),
                    subject=batch.subject)
        if batch.text:
            mail.add_content(Content("text/plain", batch.text))
        if batch.html:
            mail.add_content(Content("text/html", batch.html))
    except ApiKeyIncludedException:
        raise InvalidBatch(f"batch {batch.batch_id}: the content holds a SendGrid API key") \
            from None
    if batch.reply_to:
        mail.reply_to = ReplyTo(batch.reply_to)
    for person in batch.personalizations:
        # add_personalization inserts at index 0 unless told where: append explicitly.
        mail.add_personalization(_personalization(person), index=len(mail.personalizations))
    for key, value in batch.custom_args.items():
        mail.add_custom_arg(CustomArg(key, value))
    for category in reversed(batch.categories):  # add_category inserts at index 0 too
        mail.add_category(Category(category))
    if sandbox:
        mail.mail_settings = MailSettings(sandbox_mode=SandBoxMode(True))
    return mail


def request_body(batch: Batch, sandbox: bool = False) -> dict[str, Any]:
    """`build_mail(batch, sandbox).get()`, the request body the client sends, with each
    personalization written as the dict its helper object would give.

    The helpers make five objects per recipient; at a thousand recipients a batch that
    was most of the worker's time. The envelope still comes from the helpers.
    """
    envelope = build_mail(replace(batch, personalizations=()), sandbox).get()
    people = [_personalization_body(person) for person in batch.personalizations]
    head = list(envelope.items())[:2]  # the helpers' key order: from, subject, then these
    return {**dict(head), **({"personalizations": people} if people else {}), **envelope}


def _personalization_body(person: Personalization) -> dict[str, Any]:
    """What `_personalization(person).get()` returns, built directly."""
    found: dict[str, Any] = {"to": [To(person.to_email, person.to_name or None).get()]}
    for name, values in (("headers", person.headers),
                         ("substitutions", person.substitutions),
                         ("custom_args", person.custom_args)):
        kept = {k: v for k, v in values.items() if k is not None and v is not None}
        if kept:
            found[name] = kept
    return found


def _personalization(person: Personalization) -> Any:
    result = SendGridPersonalization()
    result.add_to(To(person.to_email, person.to_name or None))
    for key, value in person.substitutions.items():
        result.add_substitution(Substitution(key, value))
    for key, value in person.headers.items():
        result.add_header(Header(key, value))
    for key, value in person.custom_args.items():
        result.add_custom_arg(CustomArg(key, value))
    return result


def retry_after(headers: Any, now: float) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or X-RateLimit-Reset."""
    if headers is None:
        return None
    hint = _header(headers, "Retry-After")
    wait = retry_after_seconds(hint, now)
    if wait is not None:
        return max(0.0, wait)
    reset = _header(headers, "X-RateLimit-Reset")
    if reset is not None:
        try:
            value = float(reset)
        except ValueError:
            return None
        return max(0.0, value - now) if value > _EPOCH_THRESHOLD else max(0.0, value)
    return None


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if headers is not None else None
    return None if value is None else str(value)


def _reason(body: Any) -> str:
    """SendGrid's error messages, addresses masked (a 400 can quote the duplicate one)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return ""
    try:
        parsed = json.loads(body)
        messages = [str(e.get("message", "")) for e in parsed.get("errors", [])
                    if isinstance(e, dict)]
        text = "; ".join(m for m in messages if m)
    except (ValueError, AttributeError):
        text = " ".join(re.sub(r"<[^>]*>", " ", body).split())  # e.g. nginx's HTML 413 page
    return _ADDRESS.sub("[address]", text)[:500]

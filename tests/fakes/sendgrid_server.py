"""A local HTTP server speaking SendGrid's v3 `POST /v3/mail/send`, for the real client.

It validates requests as the API does (Bearer key, required fields, ≤ 1,000
personalizations and recipients, no address twice in a request, body ≤ 20 MB), answers
202 with an `X-Message-Id` and an empty body, and records every accepted request so
tests can count e-mails per recipient and read each one as SendGrid would render it
(`mails()`: every personalization's substitutions applied to the subject and the content,
key by key, the way the v3 API documents them). It can be scripted to answer the next requests
with 429 (X-RateLimit-Reset, Retry-After), 5xx or a given 4xx, or to stall before
answering (a stalled request is still processed afterwards, as a real provider would:
the client timed out, the provider may well have sent it).

    with FakeSendGrid() as server:
        transport = SendGridTransport(server.api_key, host=server.url)
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_PERSONALIZATIONS = 1_000
MAX_RECIPIENTS = 1_000
RESERVED_HEADERS = {"x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
                    "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"}


@dataclass(frozen=True)
class Scripted:
    """A canned answer for one request."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stall_seconds: float = 0.0


@dataclass(frozen=True)
class Received:
    """One accepted mail-send request."""

    body: dict[str, Any]
    message_id: str
    sandbox: bool

    @property
    def recipients(self) -> list[str]:
        """Every `to` address in personalization order, as sent."""
        return [to["email"] for p in self.body["personalizations"] for to in p["to"]]

    def mails(self) -> list[Mail]:
        """One e-mail per personalization, as SendGrid renders it from this request."""
        return [render_personalization(self.body, index)
                for index in range(len(self.body["personalizations"]))]


@dataclass(frozen=True)
class Mail:
    """One recipient's e-mail as SendGrid would send it: substitutions applied."""

    to: dict[str, str]
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    categories: list[str]


def render_personalization(body: dict[str, Any], index: int) -> Mail:
    """Personalization `index` of a mail-send body, rendered: each substitution tag in the
    subject and in every content block is replaced by its value, tag after tag."""
    person = body["personalizations"][index]
    substitutions: dict[str, str] = person.get("substitutions") or {}

    def substituted(value: str) -> str:
        for tag, replacement in substitutions.items():
            value = value.replace(tag, replacement)
        return value

    content = {block["type"]: substituted(block["value"]) for block in body.get("content", [])}
    return Mail(to=person["to"][0], subject=substituted(person.get("subject", body["subject"])),
                text=content.get("text/plain", ""), html=content.get("text/html", ""),
                headers=dict(person.get("headers") or {}),
                categories=list(body.get("categories") or []))


class FakeSendGrid:
    """The fake server; thread-safe, started on a free loopback port."""

    def __init__(self, api_key: str = "SG.fake-key.for-tests",
                 max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.api_key = api_key
        self.max_body_bytes = max_body_bytes
        self.accepted: list[Received] = []
        self.statuses: list[int] = []  # every answer given, in order
        self._script: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="fake-sendgrid")

    @property
    def url(self) -> str:
        """Base URL to pass as the client's `host`."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeSendGrid:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSendGrid:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # Scripting the next answers

    def rate_limit_next(self, n: int = 1, reset_in: float | None = 2,
                        retry_after: int | None = None) -> None:
        """Answer the next `n` requests 429, with X-RateLimit-Reset `reset_in` seconds ahead."""
        headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0"}
        if reset_in is not None:
            headers["X-RateLimit-Reset"] = str(int(time.time() + reset_in))
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        self._queue(n, Scripted(429, headers, _errors("too many requests")))

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """Answer the next `n` requests with a server error."""
        self._queue(n, Scripted(status, {}, _errors("internal error")))

    def reject_next(self, status: int, n: int = 1, message: str = "rejected") -> None:
        """Answer the next `n` requests with the 4xx `status`."""
        self._queue(n, Scripted(status, {}, _errors(message)))

    def stall_next(self, seconds: float, n: int = 1) -> None:
        """Wait `seconds` before handling the next `n` requests normally."""
        self._queue(n, Scripted(0, stall_seconds=seconds))

    def _queue(self, n: int, answer: Scripted) -> None:
        with self._lock:
            self._script.extend([answer] * n)

    # What was accepted

    def deliveries(self) -> Counter[str]:
        """How many accepted, non-sandbox e-mails each address (lower-cased) got."""
        with self._lock:
            return Counter(address.lower() for request in self.accepted if not request.sandbox
                           for address in request.recipients)

    def accepted_requests(self) -> list[Received]:
        """Every accepted request so far, in order (a copy: safe while more arrive)."""
        with self._lock:
            return list(self.accepted)

    def mails(self, category: str | None = None) -> list[Mail]:
        """Every accepted e-mail as its recipient reads it, of `category` if one is given."""
        with self._lock:
            requests = list(self.accepted)
        return [mail for request in requests for mail in request.mails()
                if category is None or category in mail.categories]

    def next_answer(self) -> Scripted | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def record(self, body: dict[str, Any], status: int) -> str:
        message_id = secrets.token_urlsafe(16)[:22]
        sandbox = bool(body.get("mail_settings", {}).get("sandbox_mode", {}).get("enable"))
        with self._lock:
            self.accepted.append(Received(body, message_id, sandbox))
            self.statuses.append(status)
        return message_id

    def note(self, status: int) -> None:
        with self._lock:
            self.statuses.append(status)


def _handler_for(fake: FakeSendGrid) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length") or 0)
            raw = _read(self, length, keep=length <= fake.max_body_bytes)
            if self.path.rstrip("/") != "/v3/mail/send":
                return self._answer(404, _errors("not found"))
            if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                return self._answer(401, _errors("The provided authorization grant is invalid, "
                                                 "expired, or revoked"))
            scripted = fake.next_answer()
            if scripted is not None and scripted.stall_seconds:
                time.sleep(scripted.stall_seconds)
            elif scripted is not None:
                return self._answer(scripted.status, scripted.body, scripted.headers)
            if length > fake.max_body_bytes:
                return self._answer(413, b"<html><body><h1>413 Request Entity Too Large</h1>"
                                    b"</body></html>", {"Content-Type": "text/html"})
            try:
                body = json.loads(raw)
            except ValueError:
                return self._answer(400, _errors("Bad Request", field=None))
            problem = mail_send_problem(body)
            if problem is not None:
                return self._answer(400, _errors(*problem))
            sandbox = bool(body.get("mail_settings", {}).get("sandbox_mode", {}).get("enable"))
            status = 200 if sandbox else 202
            message_id = fake.record(body, status)
            self._answer(status, b"", {"X-Message-Id": message_id}, recorded=True)

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                    recorded: bool = False) -> None:
            if not recorded:
                fake.note(status)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body and "Content-Type" not in (headers or {}):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


def _read(handler: BaseHTTPRequestHandler, length: int, keep: bool) -> bytes:
    """The whole body; a too-large one is read and dropped, so the client sees the 413."""
    chunks, left = [], length
    while left > 0:
        chunk = handler.rfile.read(min(left, 1 << 20))
        if not chunk:
            break
        left -= len(chunk)
        if keep:
            chunks.append(chunk)
    return b"".join(chunks)


def mail_send_problem(body: Any) -> tuple[str, str | None] | None:
    """SendGrid's first validation error for this request body (message, field), or None."""
    if not isinstance(body, dict):
        return "Bad Request", None
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return "You must have at least one personalization.", "personalizations"
    if len(personalizations) > MAX_PERSONALIZATIONS:
        return (f"The personalization block is limited to {MAX_PERSONALIZATIONS} "
                f"personalizations per API request. You have provided "
                f"{len(personalizations)} personalizations.", "personalizations")
    found = _recipients_problem(personalizations)
    if found is not None:
        return found
    sender = body.get("from")
    if not isinstance(sender, dict) or "@" not in str(sender.get("email", "")):
        return "The from object must be provided for every email send.", "from.email"
    if not body.get("subject") and not body.get("template_id") and not all(
            isinstance(p, dict) and p.get("subject") for p in personalizations):
        return "The subject is required.", "subject"
    return _content_problem(body) or _args_problem(body, personalizations)


def _recipients_problem(personalizations: list[Any]) -> tuple[str, str | None] | None:
    seen: set[str] = set()
    total = 0
    for index, personalization in enumerate(personalizations):
        where = f"personalizations.{index}"
        if not isinstance(personalization, dict):
            return "Bad Request", where
        tos = personalization.get("to")
        if not isinstance(tos, list) or not tos:
            return ("The to parameter is required for all personalization objects, and must "
                    "have at least one email object with a valid email address.", f"{where}.to")
        for kind in ("to", "cc", "bcc"):
            for recipient in personalization.get(kind) or []:
                address = recipient.get("email") if isinstance(recipient, dict) else None
                if not isinstance(address, str) or "@" not in address:
                    return ("Does not contain a valid address.", f"{where}.{kind}")
                total += 1
                if address.lower() in seen:
                    return ("Each unique email address in the personalizations array should only "
                            "be included once. You have included email address more than once.",
                            f"{where}.{kind}")
                seen.add(address.lower())
        headers = personalization.get("headers") or {}
        if any(name.lower() in RESERVED_HEADERS for name in headers):
            return "This header is reserved and cannot be set.", f"{where}.headers"
    if total > MAX_RECIPIENTS:
        return (f"There is a limit of {MAX_RECIPIENTS} total recipients (to + cc + bcc) "
                "per request.", "personalizations")
    return None


def _content_problem(body: dict[str, Any]) -> tuple[str, str | None] | None:
    if body.get("template_id"):
        return None
    content = body.get("content")
    if not isinstance(content, list) or not content or not all(
            isinstance(c, dict) and c.get("type") and c.get("value") for c in content):
        return ("Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block.", "content")
    types = [c["type"] for c in content]
    if "text/plain" in types and types[0] != "text/plain":
        return "If present, text/plain content must be first.", "content"
    return None


def _args_problem(
    body: dict[str, Any], personalizations: list[dict[str, Any]],
) -> tuple[str, str | None] | None:
    for where, args in [("custom_args", body.get("custom_args") or {})] + [
            (f"personalizations.{i}.custom_args", p.get("custom_args") or {})
            for i, p in enumerate(personalizations)]:
        if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
            return "Custom args values must be strings.", where
    return None


def _errors(message: str, field: str | None = None) -> bytes:
    return json.dumps({"errors": [{"message": message, "field": field, "help": None}]}).encode()

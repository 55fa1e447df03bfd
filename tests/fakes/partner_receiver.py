"""A partner's webhook endpoint on loopback, verifying every delivery with `standardwebhooks`.

It checks each request exactly as a partner following the Standard Webhooks spec would:
`Webhook(secret).verify(body, headers)` from the reference library (not our code), against
each secret it knows (two during a rotation). A request no secret verifies gets 401 and is
kept apart. Verified deliveries are recorded with their arrival time; the answers can be
scripted: errors for a while, 410, 429 with Retry-After, a slow answer, a redirect.

    with PartnerReceiver() as partner:
        partner.secrets = [secret]            # the secret shown once at registration
        partner.fail_next(3)                  # 500, 500, 500, then 200 again
        ...
        assert [d.payload["type"] for d in partner.deliveries()] == ["action.launched"]
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass(frozen=True)
class Answer:
    """A canned answer for one request: status, headers, body, and a wait before answering."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0


@dataclass(frozen=True)
class Delivery:
    """One request as it arrived: verified or not, with the answer it got."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    headers: dict[str, str]
    verified_by: tuple[int, ...]  # indexes of the secrets whose signature matched
    received_at: float  # time.time() when the request was read
    answered: int

    @property
    def verified(self) -> bool:
        return bool(self.verified_by)

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class PartnerReceiver:
    """The fake endpoint; thread-safe, on a free loopback port, `path` /hooks."""

    def __init__(self, secrets: Sequence[str] = (), default: Answer | None = None,
                 tls: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.secrets = list(secrets)
        self.default = default or Answer(200, body=b'{"ok":true}')
        self.host = host
        self.scheme = "https" if tls else "http"
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was ever answering at once
        self._script: deque[Answer] = deque()
        self._requests: list[Delivery] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="partner-receiver")

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"{self.scheme}://{self.host}:{port}/hooks"

    def start(self) -> PartnerReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> PartnerReceiver:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # Scripting the next answers

    def answer_next(self, answer: Answer, n: int = 1) -> None:
        """Give the next `n` verified requests this answer."""
        with self._lock:
            self._script.extend([answer] * n)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        self.answer_next(Answer(status, body=b"temporarily broken"), n)

    def gone_next(self) -> None:
        self.answer_next(Answer(410, body=b"this endpoint was removed"))

    def rate_limit_next(self, retry_after: str, status: int = 429, n: int = 1) -> None:
        self.answer_next(Answer(status, {"Retry-After": retry_after}, b"slow down"), n)

    def redirect_next(self, location: str, status: int = 302) -> None:
        self.answer_next(Answer(status, {"Location": location}))

    def answer_always(self, answer: Answer) -> None:
        """Answer every request not otherwise scripted like this from now on."""
        with self._lock:
            self.default = answer

    # What arrived

    def requests(self) -> list[Delivery]:
        """Every request, verified or not, in arrival order."""
        with self._lock:
            return list(self._requests)

    def deliveries(self) -> list[Delivery]:
        """Verified requests answered with a 2xx: what the partner accepted."""
        return [r for r in self.requests() if r.verified and 200 <= r.answered < 300]

    def rejected(self) -> list[Delivery]:
        """Requests whose signature no known secret verified."""
        return [r for r in self.requests() if not r.verified]

    # Used by the handler

    def verify(self, body: bytes, headers: dict[str, str]) -> tuple[int, ...]:
        matched = []
        for index, secret in enumerate(list(self.secrets)):
            try:
                Webhook(secret).verify(body, headers, json_parse=False)
            except (WebhookVerificationError, ValueError, TypeError):
                continue
            matched.append(index)
        return tuple(matched)

    def next_answer(self, verified: bool) -> Answer:
        with self._lock:
            if not verified:
                return Answer(401, body=b"bad signature")
            return self._script.popleft() if self._script else self.default

    def record(self, delivery: Delivery) -> None:
        with self._lock:
            self._requests.append(delivery)

    def entered(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def left(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _handler_for(receiver: PartnerReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle's algorithm holds the
        # body back until the sender's delayed ACK (tens of milliseconds on loopback).
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            receiver.entered()
            try:
                self._post()
            finally:
                receiver.left()

        def _post(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            received_at = time.time()
            headers = {k.lower(): v for k, v in self.headers.items()}
            verified_by = receiver.verify(body, headers)
            answer = receiver.next_answer(bool(verified_by))
            receiver.record(Delivery(
                webhook_id=headers.get("webhook-id", ""),
                timestamp=headers.get("webhook-timestamp", ""),
                signature=headers.get("webhook-signature", ""), body=body, headers=headers,
                verified_by=verified_by, received_at=received_at, answered=answer.status))
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            try:
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError):  # the sender gave up (timeout)
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler

"""A local HTTP server taking Sentry envelopes, for the real `sentry-sdk` transport.

The SDK posts each event to `/api/<project>/envelope/` as an envelope: a JSON header line,
then per item a JSON item header line and its payload (gzip-compressed as a whole, or
not). The server keeps every envelope's raw bytes, decompressed, and answers 200, so a test
can read the events and search everything that left the process.

    with FakeSentry() as sentry:
        env["SENTRY_DSN"] = sentry.dsn
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PROJECT = "4242"


class FakeSentry:
    """Records every envelope posted to it."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._lock = threading.Lock()
        self._envelopes: list[bytes] = []
        self.refused: list[str] = []

    @property
    def dsn(self) -> str:
        """A DSN pointing the SDK here (plain http: the SDK accepts it for any host)."""
        return f"http://publickey@127.0.0.1:{self._server.server_port}/{PROJECT}"

    def __enter__(self) -> FakeSentry:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def record(self, body: bytes) -> None:
        with self._lock:
            self._envelopes.append(body)

    def raw(self) -> bytes:
        """Every envelope received, one after the other: all that left the process."""
        with self._lock:
            return b"\n".join(self._envelopes)

    def events(self) -> list[dict[str, Any]]:
        """The `event` items of every envelope, parsed."""
        with self._lock:
            envelopes = list(self._envelopes)
        return [payload for envelope in envelopes for kind, payload in _items(envelope)
                if kind == "event"]


def _items(envelope: bytes) -> list[tuple[str, Any]]:
    """(type, parsed payload) per item. JSON payloads hold no raw line break, so after the
    envelope's header the lines are item headers and payloads, in turn."""
    lines = [line for line in envelope.split(b"\n")[1:] if line.strip()]
    return [(json.loads(header).get("type", ""), json.loads(payload))
            for header, payload in zip(lines[::2], lines[1::2], strict=True)]


def _handler_for(sentry: FakeSentry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            encoding = self.headers.get("Content-Encoding", "")
            if self.path != f"/api/{PROJECT}/envelope/" or encoding not in ("", "gzip"):
                sentry.refused.append(f"{self.path} ({encoding or 'identity'})")
                self.send_response(400)
                self.end_headers()
                return
            sentry.record(gzip.decompress(body) if encoding == "gzip" else body)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler

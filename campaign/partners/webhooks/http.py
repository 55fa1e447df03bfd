"""One POST to a partner, to addresses checked beforehand: no redirects, capped time and size.

The URL's host was resolved and checked by the SSRF guard just before; connecting by name
again would resolve it a second time, and a hostile DNS server could answer with an
internal address then (DNS rebinding). So the connection goes to the checked address
itself, while the `Host` header, TLS SNI and certificate check use the name from the URL:
the partner's server sees an ordinary request, and the certificate must still be valid
for that name.

Connections are pooled per (address, port, name), so consecutive deliveries to a partner
reuse one TLS session instead of paying a handshake each.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import HTTPError, NewConnectionError, TimeoutError

TIMEOUT_SECONDS: Final = 15.0
MAX_RESPONSE_BYTES: Final = 64 * 1024
MAX_POOLS: Final = 512
USER_AGENT: Final = "urgent-action-campaigns-webhooks/1"


@dataclass(frozen=True)
class Answer:
    """What one POST came to: a status (None when no response came) or an error, and timing.

    Header names are lower-case.
    """

    status: int | None
    latency_ms: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Only a 2xx counts as delivered; a redirect is not followed, so it is a failure."""
        return self.status is not None and 200 <= self.status < 300


class PinnedSender:
    """Sends POSTs to already-checked addresses; thread-safe, one per worker process."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS, ca_certs: str | None = None,
                 max_response_bytes: int = MAX_RESPONSE_BYTES, pool_size: int = 2) -> None:
        self.timeout = timeout
        self.ca_certs = ca_certs
        self.max_response_bytes = max_response_bytes
        self.pool_size = pool_size
        self._pools: OrderedDict[tuple[str, str, int, str], urllib3.HTTPConnectionPool] = \
            OrderedDict()
        self._lock = threading.Lock()

    def post(self, url: str, addresses: Sequence[str], headers: Mapping[str, str],
             body: bytes) -> Answer:
        """POST `body` to `url` via the first of `addresses` that accepts a connection."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        default_port = port == (443 if parts.scheme == "https" else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = {**headers, "Host": host if default_port else f"{_bracketed(host)}:{port}",
                "User-Agent": USER_AGENT, "Content-Length": str(len(body))}
        started = time.monotonic()
        error = "no address to connect to"
        for address in addresses:
            pool = self._pool(parts.scheme, address, port, host)
            try:
                return self._send(pool, path, sent, body, started)
            except NewConnectionError as exc:  # refused or unreachable: try the next address
                error = _describe(exc)
            except (TimeoutError, HTTPError, OSError) as exc:
                return Answer(None, _since(started), error=_describe(exc))
        return Answer(None, _since(started), error=error)

    def _send(self, pool: urllib3.HTTPConnectionPool, path: str, headers: Mapping[str, str],
              body: bytes, started: float) -> Answer:
        response = pool.urlopen(
            "POST", path, body=body, headers=dict(headers), redirect=False, retries=False,
            timeout=urllib3.Timeout(total=self.timeout), preload_content=False,
            assert_same_host=False,
        )
        try:
            data = response.read(self.max_response_bytes + 1)
            complete = len(data) <= self.max_response_bytes and not response.read(1)
        except (TimeoutError, HTTPError, OSError):
            data, complete = b"", False
        finally:
            latency = _since(started)
        if not complete:
            response.close()  # the rest is never read: the connection cannot be reused
        response.release_conn()
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status, latency, headers, data[: self.max_response_bytes])

    def _pool(self, scheme: str, address: str, port: int, host: str
              ) -> urllib3.HTTPConnectionPool:
        key = (scheme, address, port, host)
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            pool = self._new_pool(scheme, address, port, host)
            self._pools[key] = pool
            while len(self._pools) > MAX_POOLS:
                _, old = self._pools.popitem(last=False)
                old.close()
            return pool

    def _new_pool(self, scheme: str, address: str, port: int, host: str
                  ) -> urllib3.HTTPConnectionPool:
        if scheme == "https":
            return urllib3.HTTPSConnectionPool(
                address, port, maxsize=self.pool_size, block=False, retries=False,
                cert_reqs="CERT_REQUIRED", ca_certs=self.ca_certs, server_hostname=host,
                assert_hostname=host)
        return urllib3.HTTPConnectionPool(address, port, maxsize=self.pool_size, block=False,
                                          retries=False)

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _describe(exc: BaseException) -> str:
    """A short, stable description of a transport error (no stack, no request data)."""
    text = str(getattr(exc, "reason", None) or exc)
    if isinstance(exc, NewConnectionError):
        refused = "refused" in text.lower()
        return "connection refused" if refused else f"cannot connect: {text}"[:300]
    if isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(exc).__name__}: {text}"[:300]

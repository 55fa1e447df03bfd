"""The SSRF guard: a partner's webhook URL must lead to the public internet, nowhere else.

A webhook URL is chosen by whoever registers the partner, and our servers call it; without
this check it could point our requests at the database, the cloud metadata service or
anything else on our own network. The URL is checked when the partner is registered and
again before every attempt, because DNS answers change; the sender then connects only to
the addresses returned here, so a name cannot resolve to something else in between.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"https": 443, "http": 80}


class UnsafeWebhookUrl(ValueError):
    """Raised when a webhook URL must not be called; the message names the fault."""


def check_webhook_url(url: str, allow_private: bool) -> list[str]:
    """The addresses `url` resolves to, all safe to connect to; UnsafeWebhookUrl otherwise.

    Every address the name resolves to must be public: one private answer among public
    ones is refused, since the connection could land on any of them. `allow_private`
    (WEBHOOK_ALLOW_PRIVATE=1, for tests and development) also allows http:// and
    private, loopback and link-local addresses.
    """
    parts = _split(url, allow_private)
    addresses = _resolve(parts)
    if not allow_private:
        for address in addresses:
            fault = address_fault(address)
            if fault:
                raise UnsafeWebhookUrl(f"the webhook URL's host resolves to {address}, {fault}")
    return [str(a) for a in addresses]


def address_fault(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is one."""
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_multicast:
        return "a multicast address"
    embedded = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else None
    inner = address_fault(embedded) if embedded is not None else None
    if inner:
        return f"an IPv6 address leading to {embedded}, {inner}"
    if address.is_private:
        return "a private address"
    if address.is_reserved or not address.is_global:
        return "a reserved, not publicly routable address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4 or Teredo address leads to, if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _split(url: str, allow_private: bool) -> SplitResult:
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise UnsafeWebhookUrl("the webhook URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookUrl(f"the webhook URL is malformed: {exc}") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeWebhookUrl("the webhook URL must use https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeWebhookUrl("the webhook URL must not contain credentials")
    if not parts.hostname:
        raise UnsafeWebhookUrl("the webhook URL has no host")
    if port == 0:
        raise UnsafeWebhookUrl("the webhook URL's port must not be 0")
    return parts


def _resolve(parts: SplitResult) -> list[IPAddress]:
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise UnsafeWebhookUrl(f"the webhook URL's host {host!r} cannot be resolved") from None
    found: dict[str, IPAddress] = {}
    for _family, _type, _proto, _name, sockaddr in answers:
        text = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 scope ("%eth0") is not an address
        found.setdefault(text, ipaddress.ip_address(text))
    if not found:
        raise UnsafeWebhookUrl(f"the webhook URL's host {host!r} cannot be resolved")
    return list(found.values())

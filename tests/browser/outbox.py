"""The product's outbox as a mailbox: wait for an e-mail, read its parts, follow its links.

The file transport writes each recipient's message as `<batch>-<n>.eml`, atomically (a
hidden temporary file, then a rename), so every `.eml` found is complete.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path

from tests.e2e.processes import Process

URL = re.compile(r"https?://[^\s<>\"')]+")
CATEGORIES = "X-Campaign-Categories"


@dataclass(frozen=True)
class Email:
    """One received e-mail, parsed."""

    path: Path
    message: EmailMessage

    @property
    def to(self) -> str:
        """The recipient's address (without the display name)."""
        return self.addresses("To")[0]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def kind(self) -> str:
        """What the mailing is: "signup_confirmation", "action_launched", "manage_link"…"""
        return str(self.message.get(CATEGORIES, ""))

    def header(self, name: str) -> str | None:
        """A header's decoded value, or None."""
        value = self.message.get(name)
        return None if value is None else str(value)

    def addresses(self, header: str) -> list[str]:
        """The bare addresses of an address header ("To", "From", "Reply-To")."""
        addresses: tuple[Address, ...] = self.message[header].addresses
        return [address.addr_spec for address in addresses]

    @property
    def text(self) -> str:
        """The plain-text part, decoded."""
        return self._part("plain")

    @property
    def html(self) -> str:
        """The HTML part, decoded ("" when the e-mail has none)."""
        return self._part("html")

    def links(self) -> list[str]:
        """Every URL in the plain-text part, in order (the HTML part has the same ones)."""
        return URL.findall(self.text)

    def link(self, containing: str) -> str:
        """The first link whose URL contains `containing` ("/confirm/", "/act/")."""
        found = [link for link in self.links() if containing in link]
        assert found, f"no link with {containing!r} in {self.subject!r}: {self.links()}"
        return found[0]

    def is_about(self, action_id: str) -> bool:
        """True when the e-mail links to the page of action `action_id`."""
        return any(f"/act/{action_id}?" in link for link in self.links())

    def _part(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return ""
        content: str = part.get_content()
        return content


class Outbox:
    """The `.eml` files the running product has written, read as they arrive."""

    def __init__(self, directory: Path, product: Process | None = None) -> None:
        self.directory = directory
        self._product = product

    def emails(self) -> list[Email]:
        """Every e-mail written so far, oldest file first."""
        if not self.directory.exists():
            return []
        paths = sorted(self.directory.glob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name))
        return [read(path) for path in paths]

    def find(self, to: str, subject_contains: str | None = None, kind: str | None = None,
             action_id: str | None = None) -> list[Email]:
        """The e-mails to `to`, oldest first; only those whose subject contains
        `subject_contains`, of `kind`, about `action_id` when given."""
        return [email for email in self.emails()
                if to.lower() in (address.lower() for address in email.addresses("To"))
                and (subject_contains is None or subject_contains in email.subject)
                and (kind is None or email.kind == kind)
                and (action_id is None or email.is_about(action_id))]

    def wait_for(self, to: str, subject_contains: str | None = None, kind: str | None = None,
                 action_id: str | None = None, timeout: float = 30.0) -> Email:
        """The first e-mail `find` matches, once it has arrived; fails after `timeout` seconds
        (or at once if the product has exited), listing what the outbox holds instead.

        `kind` is the mailing kind (X-Campaign-Categories), the same in every language:
        "signup_confirmation", "manage_link", "action_launched", "action_updated"…
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(to, subject_contains, kind, action_id)
            if found:
                return found[0]
            if self._product is not None:
                self._product.assert_running()
            if time.monotonic() >= deadline:
                wanted = f"subject containing {subject_contains!r}, kind {kind!r}, " \
                         f"action {action_id!r}"
                raise AssertionError(self._missing(to, wanted, timeout))
            time.sleep(0.1)

    def _missing(self, to: str, wanted: str, timeout: float) -> str:
        held = "\n".join(f"  {', '.join(e.addresses('To'))}  [{e.kind}]  {e.subject}"
                         for e in self.emails()) or "  (nothing)"
        tail = "" if self._product is None else self._product.output()[-3000:]
        return (f"no e-mail to {to} ({wanted}) after {timeout:.0f}s; the outbox holds:\n"
                f"{held}\nproduct log (end):\n{tail}")


def read(path: Path) -> Email:
    """Parse one `.eml` file."""
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return Email(path, message)

"""The embedded default: every recipient's message as an `.eml` file, as SendGrid would send it.

One file per (batch, recipient index), written atomically (temporary file, then rename),
so a retried batch overwrites its own files instead of adding copies and a reader never
sees half a message. Open them with any mail client.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from campaign.mail.errors import InvalidBatch
from campaign.mail.message import Batch, single_line
from campaign.mail.transport import Accepted

DELIVERY_HEADER = "X-Campaign-Delivery"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Unfolded headers (RFC 5322 allows 998 characters): parsed back, values come out exact.
_POLICY = policy.default.clone(max_line_length=998)


class FileTransport:
    """Writes `<batch id>-<index>.eml` files into `outbox_dir`."""

    def __init__(
        self, outbox_dir: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._clock = clock

    def send(self, batch: Batch) -> Accepted:
        """Write one file per recipient; the same batch again rewrites the same files."""
        batch.validate()
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        for index in range(len(batch.personalizations)):
            _write_atomically(self.path_for(batch.batch_id, index),
                              render(batch, index, self._clock()).as_bytes())
        return Accepted(f"file-{_safe(batch.batch_id)}")

    def path_for(self, batch_id: str, index: int) -> Path:
        """Where recipient `index` of batch `batch_id` is written."""
        return self.outbox_dir / f"{_safe(batch_id)}-{index:04d}.eml"


def render(batch: Batch, index: int, now: datetime) -> EmailMessage:
    """Recipient `index`'s message: substitutions applied, their headers and ids set."""
    person = batch.personalizations[index]
    message = EmailMessage(policy=_POLICY)
    try:
        message["From"] = Address(batch.from_name, addr_spec=batch.from_email)
        message["To"] = Address(person.to_name, addr_spec=person.to_email)
        if batch.reply_to:
            message["Reply-To"] = person.render(batch.reply_to)
    except (ValueError, IndexError) as exc:  # the library's message quotes the address
        raise InvalidBatch(f"batch {batch.batch_id}, recipient {index}: "
                           f"not a usable address ({type(exc).__name__})") from None
    # A substituted value must not break the header onto a second line.
    message["Subject"] = single_line(person.render(batch.subject))
    message["Date"] = format_datetime(now)
    domain = batch.from_email.rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{_safe(batch.batch_id)}.{index}@{domain}>"
    for name, value in person.headers.items():
        message[name] = value
    args = batch.custom_args_for(index)
    if args:
        message[DELIVERY_HEADER] = "; ".join(f"{key}={value}" for key, value in args.items())
    if batch.categories:
        message["X-Campaign-Categories"] = ", ".join(batch.categories)
    message.set_content(person.render(batch.text or ""))
    if batch.html:
        message.add_alternative(person.render(batch.html), subtype="html")
    return message


def _write_atomically(path: Path, data: bytes) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _safe(name: str) -> str:
    """`name` usable in a file name and a Message-ID; altered names get a hash to stay unique."""
    safe = _UNSAFE.sub("_", name)[:100]
    if safe == name and safe:
        return safe
    return f"{safe}_{hashlib.sha256(name.encode()).hexdigest()[:12]}"

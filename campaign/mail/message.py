"""The message a transport sends: one batch of one content, personalised per recipient.

It mirrors SendGrid's v3 mail-send model (one request, up to 1,000 personalizations) so
the SendGrid transport is a direct translation and the file transport renders exactly
what SendGrid would. Substitution values go in verbatim, as SendGrid inserts them: a
value meant for the HTML part must already be HTML-escaped, so a value that lands in both
parts has two keys (see campaign.mail.rendering, which also makes the keys unguessable).

Headers are single-line: the subject is collapsed onto one line (`single_line`), and a
recipient whose name, address or headers could break a header is refused by
`recipient_problem`, with a reason that names no one. The composer leaves such a
recipient out before a batch is built, so `validate_batch` only ever refuses a planning bug.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address

from campaign.mail.errors import InvalidBatch

# SendGrid's documented limits for one v3 mail-send request.
MAX_PERSONALIZATIONS = 1_000
MAX_RECIPIENTS = 1_000
MAX_CATEGORIES = 10
MAX_CATEGORY_LENGTH = 255
MAX_CUSTOM_ARGS_BYTES = 10_000
MAX_SUBSTITUTIONS_BYTES = 10_000
# Headers SendGrid refuses in `headers`: it sets them itself.
RESERVED_HEADERS = frozenset({
    "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
    "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc",
})
# C0 and C1 controls (CR, LF, NUL, tab, ESC, NEL …) and Unicode's line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
"""An ASCII dot-atom at a host name: an address the header parser gives back unchanged."""
_CONTROL_RUN = re.compile(r" *[\x00-\x1f\x7f-\x9f\u2028\u2029]+ *")


@dataclass(frozen=True)
class MailConfig:
    """Who campaign e-mail comes from, where its links lead, and who hears about outages."""

    sender_name: str
    sender_email: str
    public_base_url: str
    alert_to: str


@dataclass(frozen=True)
class Personalization:
    """One recipient: address, name, substitutions, headers and opaque ids.

    `headers` carry the recipient's own List-Unsubscribe and List-Unsubscribe-Post;
    `custom_args` carry only opaque ids (delivery_id): SendGrid stores them as non-personal
    data and echoes them in every webhook event.
    """

    to_email: str
    to_name: str
    substitutions: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    custom_args: dict[str, str] = field(default_factory=dict)

    def render(self, template: str) -> str:
        """`template` with this recipient's substitutions applied in one pass, as SendGrid does.

        One pass: a value that happens to contain another key (a name like "-name-") is
        not expanded again.
        """
        return substitute(template, self.substitutions)


@dataclass(frozen=True)
class Batch:
    """One provider request: shared content, per-recipient personalizations, in this order.

    `custom_args` (mailing_id, batch_id) apply to every recipient; a personalization's own
    custom_args are added to them. `batch_id` is ours, not SendGrid's scheduling batch id.
    """

    batch_id: str
    from_email: str
    from_name: str
    reply_to: str | None
    subject: str
    html: str
    text: str
    personalizations: tuple[Personalization, ...]
    custom_args: dict[str, str] = field(default_factory=dict)
    categories: tuple[str, ...] = ()

    def validate(self) -> None:
        """Raise InvalidBatch unless SendGrid would accept this batch's shape."""
        validate_batch(self)

    def custom_args_for(self, index: int) -> dict[str, str]:
        """The ids SendGrid reports back for recipient `index`: the batch's, then its own."""
        return {**self.custom_args, **self.personalizations[index].custom_args}


def substitute(template: str, substitutions: Mapping[str, str]) -> str:
    """Replace every key of `substitutions` in `template`, longest key first, in one pass."""
    if not substitutions:
        return template
    keys = sorted(substitutions, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(key) for key in keys))
    return pattern.sub(lambda match: substitutions[match.group(0)], template)


def single_line(text: str) -> str:
    """`text` fit for a header: every run of line breaks or control characters is one space."""
    return _CONTROL_RUN.sub(" ", text).strip()


def usable_address(address: str) -> bool:
    """True when both transports can put `address` in a To header as it is.

    The common plain address is recognised by a pattern; the header parser, far slower,
    judges the rest (a million-recipient launch checks every address, twice).
    """
    return bool(_PLAIN_ADDRESS.fullmatch(address)) or _parser_accepts(address)


def _parser_accepts(address: str) -> bool:
    """Whether the e-mail header parser reads `address` back unchanged, as a To header."""
    if address.count("@") != 1 or _CONTROL.search(address) or any(c.isspace() for c in address):
        return False
    try:
        return Address(addr_spec=address).addr_spec == address
    except (ValueError, IndexError, HeaderParseError):
        return False
    except AttributeError:  # CPython's parser on an unclosed domain literal: `a@[`
        return False


def recipient_problem(person: Personalization, custom_args: Mapping[str, str]) -> str | None:
    """Why SendGrid would refuse this recipient, or None; the reason names no one.

    `custom_args` are the recipient's own and the batch's, as SendGrid will store them.
    """
    if not usable_address(person.to_email):
        return "not a usable address"
    if _CONTROL.search(person.to_name):
        return "the name contains a line break or control character"
    for name, value in person.headers.items():
        if name.lower() in RESERVED_HEADERS:
            return f"header {name} is reserved by SendGrid"
        if not name or _CONTROL.search(name + value):
            return f"header {name!r} is empty or contains a line break"
    if "" in person.substitutions:
        return "empty substitution key"
    if not _within(person.substitutions, MAX_SUBSTITUTIONS_BYTES):
        return f"substitutions exceed {MAX_SUBSTITUTIONS_BYTES} bytes"
    # custom_args are stored by SendGrid as non-personal data: an address there is a leak.
    if "@" in "".join(custom_args.values()):
        return "custom_args must hold opaque ids, not addresses"
    if not _within(custom_args, MAX_CUSTOM_ARGS_BYTES):
        return f"custom_args exceed {MAX_CUSTOM_ARGS_BYTES} bytes"
    return None


def validate_batch(batch: Batch) -> None:
    """Raise InvalidBatch naming the first broken limit; recipients are named by index only."""
    count = len(batch.personalizations)
    if count == 0:
        raise InvalidBatch(f"batch {batch.batch_id}: no personalizations")
    if count > MAX_PERSONALIZATIONS:
        raise InvalidBatch(f"batch {batch.batch_id}: {count} personalizations, "
                           f"more than SendGrid's {MAX_PERSONALIZATIONS} per request")
    if count > MAX_RECIPIENTS:  # one recipient per personalization: the same bound today
        raise InvalidBatch(f"batch {batch.batch_id}: {count} recipients, "
                           f"more than SendGrid's {MAX_RECIPIENTS} per request")
    _check_envelope(batch)
    seen: dict[str, int] = {}
    for index, person in enumerate(batch.personalizations):
        address = person.to_email.strip().lower()
        if address in seen:
            raise InvalidBatch(f"batch {batch.batch_id}: recipient {index} has the same address "
                               f"as recipient {seen[address]} (SendGrid refuses duplicates)")
        seen[address] = index
        _check_personalization(batch, index, person)


def _check_envelope(batch: Batch) -> None:
    where = f"batch {batch.batch_id}"
    if "@" not in batch.from_email:
        raise InvalidBatch(f"{where}: from_email is not an address")
    if not batch.subject or not (batch.text or batch.html):
        raise InvalidBatch(f"{where}: a subject and a text or HTML body are required")
    for name, value in (("from_name", batch.from_name), ("subject", batch.subject),
                        ("reply_to", batch.reply_to or "")):
        if _CONTROL.search(value):
            raise InvalidBatch(f"{where}: {name} contains a line break or control character")
    if len(batch.categories) > MAX_CATEGORIES or any(
            not c or len(c) > MAX_CATEGORY_LENGTH for c in batch.categories):
        raise InvalidBatch(f"{where}: at most {MAX_CATEGORIES} non-empty categories of at most "
                           f"{MAX_CATEGORY_LENGTH} characters")


def _check_personalization(batch: Batch, index: int, person: Personalization) -> None:
    problem = recipient_problem(person, batch.custom_args_for(index))
    if problem is not None:
        raise InvalidBatch(f"batch {batch.batch_id}, recipient {index}: {problem}")


def _size(mapping: Mapping[str, str]) -> int:
    return len(_JSON.encode(mapping).encode())


def _within(mapping: Mapping[str, str], limit: int) -> bool:
    """Whether `mapping` as JSON takes at most `limit` bytes. A character takes at most six
    (`\\u001f`), a pair eight more (quotes, colon, comma, spaces): when even that bound fits,
    as it does for every usual recipient, nothing needs encoding."""
    characters = sum(map(len, mapping)) + sum(map(len, mapping.values()))
    bound = 2 + 6 * characters + 8 * len(mapping)
    return bound <= limit or _size(mapping) <= limit


_JSON = json.JSONEncoder(ensure_ascii=False)
"""Built once: `json.dumps` with options builds an encoder per call, twice per recipient."""

"""What an urgent action says, and the rules its content must satisfy.

Kept apart from the lifecycle in `action.py` because drafts, revisions, launches and
updates all check the same content with the same two tiers of rules: a draft must be
well-formed (it may still be incomplete); a launched action must also be complete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final
from urllib.parse import urlsplit

from campaign.domain.base import DomainError, carry
from campaign.domain.values import (
    Deadline,
    Target,
    check_deadline,
    check_target,
    require_in_range,
    require_plain_text,
    require_single_line,
    require_text,
    validate_country,
    validate_language,
)

_UA_NUMBER: Final = re.compile(r"[0-9]+/[0-9]{2}")  # ASCII digits, matched whole


@dataclass(frozen=True, kw_only=True)
class ActionContent:
    """Everything an action document carries (the seed: UA 135/10, EUR 58/015/2010).

    `own_language_welcome` is the "or your own language" after the listed `languages`;
    `asks` are in the order printed; `copies_to_diplomats` is "also send copies to
    diplomatic representatives accredited to your country"; `source_links` point to
    further information. The action's timezone is the deadline's.

    `language` is the language the document is written in (its translations are
    `ActionTranslated` events); `languages` are the languages appeals may be written in.
    Actions drafted before `language` existed were all written in English, hence "en".
    Which locales the product ships is not the domain's to know: the API accepts only
    those (campaign.infra.i18n.LOCALES); here the tag is checked for its form.
    """

    case_id: str
    ua_number: str
    index_number: str
    title: str
    country: str
    issued_on: date
    deadline: Deadline
    language: str = "en"
    languages: tuple[str, ...]
    own_language_welcome: bool
    asks: tuple[str, ...]
    targets: tuple[Target, ...]
    copies_to_diplomats: bool
    summary: str
    body: str
    additional_information: str
    source_links: tuple[str, ...]

    @property
    def target_ids(self) -> tuple[str, ...]:
        """Ids of all targets, primary and copy, in printed order."""
        return tuple(t.target_id for t in self.targets)

    @property
    def primary_target_ids(self) -> tuple[str, ...]:
        """Ids of the officials appeals are addressed to (not the copies)."""
        return tuple(t.target_id for t in self.targets if t.role == "primary")


def content_of(source: ActionContent) -> ActionContent:
    """The bare content of a command or event that extends ActionContent."""
    return carry(ActionContent, source)


def check_well_formed(content: ActionContent) -> None:
    """Raise DomainError if any part of the content is malformed (drafts may be incomplete)."""
    require_single_line(require_text(content.case_id, "empty_case_id", "the case id"),
                        "the case id")
    if not _UA_NUMBER.fullmatch(content.ua_number):
        raise DomainError("invalid_ua_number", f"not like 135/10: {content.ua_number!r}")
    require_single_line(content.index_number, "the index number")
    require_single_line(require_text(content.title, "empty_title", "the title"), "the title")
    validate_country(content.country)
    require_in_range(content.issued_on, "the issue date")
    check_deadline(content.deadline)
    for name in ("summary", "body", "additional_information"):
        require_plain_text(getattr(content, name), f"the {name.replace('_', ' ')}")
    validate_language(content.language)
    for tag in content.languages:
        validate_language(tag)
    _check_asks(content.asks)
    _check_targets(content.targets)
    for link in content.source_links:
        _check_link(link)


def check_complete(content: ActionContent) -> None:
    """Raise DomainError unless the content can go out to supporters."""
    if not content.primary_target_ids:
        raise DomainError("no_primary_target", "an action needs an official to write to")
    if not content.asks:
        raise DomainError("no_ask", "an action needs at least one ask")
    if content.deadline.on <= content.issued_on:
        raise DomainError("deadline_not_after_issue", "the deadline must be after the issue date")


def _check_asks(asks: tuple[str, ...]) -> None:
    """Raise DomainError if an ask is blank or holds control characters."""
    for ask in asks:
        require_plain_text(require_text(ask, "empty_ask", "an ask"), "an ask")


def _check_targets(targets: tuple[Target, ...]) -> None:
    """Raise DomainError if two targets share an id (pledges and letters refer to them)."""
    for target in targets:
        check_target(target)
    ids = [t.target_id for t in targets]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise DomainError("duplicate_target", f"target ids used twice: {duplicates}")


def _check_link(link: str) -> None:
    try:
        parts = urlsplit(link)
    except ValueError:  # brackets that hold no IPv6 address
        raise DomainError("invalid_link", f"not an http(s) URL: {link!r}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DomainError("invalid_link", f"not an http(s) URL: {link!r}")

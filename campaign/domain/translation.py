"""An action's text in another language, and the rules a translation must satisfy.

Sections send the same action to their supporters in their own languages. A translation
carries what a supporter reads (title, summary, body, asks, additional information),
never the targets, salutations or addresses: letters go to the officials as the action
names them. Its rules are the original's (a one-line title, asks that say something,
text without control characters) plus two that keep it the *same* action:

- **Everything the original says is translated.** A field the original fills may not be
  left blank: an e-mail or page is in one language only, so a missing body could not be
  filled in from the original, and supporters would read less than the action says. A
  section may add text where the original has none (its own office's address, say).
- **One translated ask per ask, in the original's order.** Campaigners expect each ask to
  be the same appeal in other words: the act page shows the asks beside the letter that
  will be written in one of the action's appeal languages, reminders and stats speak of
  "the asks", and an ask merged or dropped in translation would change what supporters
  demand of the officials. So the number must match; the wording is the translator's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Final

from campaign.domain.action_content import ActionContent
from campaign.domain.base import DomainError, carry
from campaign.domain.values import (
    require_plain_text,
    require_single_line,
    require_text,
    validate_language,
)


@dataclass(frozen=True, kw_only=True)
class ActionText:
    """The parts of an action that are translated, as the original or a translation has them."""

    title: str
    summary: str
    body: str
    asks: tuple[str, ...]
    additional_information: str


TRANSLATED_FIELDS: Final = tuple(f.name for f in fields(ActionText))
"""The names of the translated fields, which are also the content's."""


def text_of(source: object) -> ActionText:
    """The translated fields of an action's content, or of a translation command or event."""
    return carry(ActionText, source)


@dataclass(frozen=True)
class Translation:
    """A translation as the action's state keeps it: its text and the original it renders.

    `original` is the action's text when it was translated. While the action still says
    exactly that, the translation is current. Once a revision or an update changes any of
    it, the translation is outdated and supporters get the action's own language until it
    is translated again: an outdated translation could ask for what the action no longer
    asks, or miss what an update added.
    """

    text: ActionText
    original: ActionText
    translated_at: datetime

    def is_current_for(self, content: ActionContent) -> bool:
        """True while `content` still says what this translation translated."""
        return self.original == text_of(content)


def check_translation(language: str, text: ActionText, content: ActionContent) -> None:
    """Raise DomainError unless `text` may stand for `content` in `language`."""
    validate_language(language)
    if language == content.language:
        raise DomainError("same_language",
                          f"the action is written in {language}: translate it into another")
    require_single_line(require_text(text.title, "empty_title", "the title"), "the title")
    for name in ("summary", "body", "additional_information"):
        what = f"the {name.replace('_', ' ')}"
        require_plain_text(getattr(text, name), what)
        if getattr(content, name).strip() and not getattr(text, name).strip():
            raise DomainError(f"{name}_not_translated", f"the action has {what}: translate it too")
    for ask in text.asks:
        require_plain_text(require_text(ask, "empty_ask", "an ask"), "an ask")
    if len(text.asks) != len(content.asks):
        raise DomainError("asks_mismatch", f"the action has {len(content.asks)} asks: "
                          f"give one translated ask for each, in order, not {len(text.asks)}")

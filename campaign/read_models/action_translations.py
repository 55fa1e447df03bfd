"""Inline projection: each action's translations; and which language a reader gets.

Which language a supporter receives an action in is decided here, once, for everyone who
asks: mail planning (the language of each batch), composing and the act page (the action's
content in that language), and the action's stats (who receives which language, and whose
language still lacks a translation). The rule: the reader's locale, negotiated to a shipped
one, if the action exists in it (its own language or a current translation), else the
action's own language. A translation the action has outgrown (an update changed what it
translated) does not count until it is redone: see campaign/domain/translation.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select

from campaign.domain import action
from campaign.domain.translation import TRANSLATED_FIELDS
from campaign.infra.event_mapping import replay
from campaign.infra.i18n import SOURCE_LOCALE, negotiate
from campaign.infra.tables import action_translations
from events import EventStore, StoredEvent
from events.projections import Mode, latest_per_stream

# Only these change an action's translations or whether they are current.
CHANGES_TRANSLATIONS = frozenset({action.ActionTranslated.type_name,
                                  action.DraftRevised.type_name, action.ActionUpdated.type_name})


class ActionTranslationsProjection:
    """Every translation of every action, marked current or outdated."""

    name = "action_translations"
    mode: Mode = "inline"
    tables: Sequence[Table] = (action_translations,)
    event_types: frozenset[str] | None = CHANGES_TRANSLATIONS
    reads = frozenset({"stream_version"})  # what a rebuild reads of each event

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Rewrite the translations of every action touched, from its replayed state."""
        for last in latest_per_stream(events).values():
            state, _ = replay(self.store, conn, last.stream_id, action.AGGREGATE,
                              to_version=last.stream_version)
            conn.execute(delete(action_translations)
                         .where(action_translations.c.action_id == state.action_id))
            if state.translations and state.content is not None:
                conn.execute(insert(action_translations), [
                    {"action_id": state.action_id, "language": language,
                     **{name: getattr(kept.text, name) for name in TRANSLATED_FIELDS},
                     "asks": list(kept.text.asks), "translated_at": kept.translated_at,
                     "current": kept.is_current_for(state.content)}
                    for language, kept in sorted(state.translations.items())])


@dataclass(frozen=True)
class ActionLanguages:
    """The languages one action can be read in: its own, and its current translations."""

    own: str
    translated: frozenset[str]

    def received_by(self, locale: str | None) -> str:
        """The language a reader whose locale is `locale` receives the action in."""
        wanted = negotiate(locale)
        return wanted if wanted == self.own or wanted in self.translated else self.own

    def tally(self, locales: Iterable[str | None]) -> tuple[dict[str, int], dict[str, int]]:
        """How many of these readers receive each language, and how many, per locale of
        theirs, receive another language for want of a translation."""
        receiving: Counter[str] = Counter()
        missing: Counter[str] = Counter()
        for locale in locales:
            language = self.received_by(locale)
            receiving[language] += 1
            if language != negotiate(locale):
                missing[negotiate(locale)] += 1
        return dict(sorted(receiving.items())), dict(sorted(missing.items()))


def languages_of(conn: Connection, action_id: str, document: Mapping[str, Any]
                 ) -> ActionLanguages:
    """The languages the action whose read-model document is `document` can be read in."""
    current = conn.execute(select(action_translations.c.language).where(
        action_translations.c.action_id == action_id, action_translations.c.current.is_(True)))
    return ActionLanguages(own_language(document), frozenset(current.scalars()))


def own_language(document: Mapping[str, Any]) -> str:
    """The language an action is written in; documents from before actions had one are
    English (as their events read: `ActionContent.language`)."""
    language: str = document.get("language", SOURCE_LOCALE)
    return language


def in_language(conn: Connection, action_id: str, document: dict[str, Any], locale: str | None
                ) -> tuple[dict[str, Any], str]:
    """The action's document as a reader in `locale` receives it, and the language it is in.

    Title, summary, body, asks and additional information are replaced by the current
    translation into the reader's language if there is one; targets, salutations and
    addresses stay as written. Else the document is returned as it is, in its own language.
    """
    own = own_language(document)
    language = languages_of(conn, action_id, document).received_by(locale)
    row = None if language == own else conn.execute(select(action_translations).where(
        action_translations.c.action_id == action_id,
        action_translations.c.language == language)).one_or_none()
    if row is None:  # its own language (or a draft's translation dropped a moment ago)
        return document, own
    text = {name: getattr(row, name) for name in TRANSLATED_FIELDS}
    return {**document, **text, "asks": list(row.asks)}, language

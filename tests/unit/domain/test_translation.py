"""Translating an action: given these events, when TranslateAction, then these events or a no."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from campaign.demo import ua_135_10 as seed
from campaign.demo import ua_135_10_ru as ru
from campaign.domain import action
from campaign.domain.action import (
    ActionClosed,
    ActionDrafted,
    ActionLaunched,
    ActionTranslated,
    ActionUpdated,
    DeadlineExtended,
    DraftRevised,
    TranslateAction,
)
from campaign.domain.base import DomainEvent
from campaign.domain.translation import text_of
from campaign.domain.values import Deadline
from tests.unit.domain.scenario import refusal

AT = datetime(2010, 9, 16, 12, tzinfo=UTC)
DRAFTED = ActionDrafted(**vars(seed.DRAFT))
LAUNCHED = ActionLaunched(**vars(seed.LAUNCH))
CLOSED = ActionClosed(seed.ACTION_ID, "released", "Released on appeal.", AT)
IN_RUSSIAN = TranslateAction(
    action_id=seed.ACTION_ID, language="ru", translated_at=AT, title=ru.TITLE, summary=ru.SUMMARY,
    body=ru.BODY, asks=ru.ASKS, additional_information=ru.ADDITIONAL_INFORMATION)
TRANSLATED = ActionTranslated(**vars(IN_RUSSIAN))


def when(given: list[DomainEvent], command: action.Command) -> list[DomainEvent]:
    return action.decide(action.replay(given), command)


def refused(given: list[DomainEvent], command: action.Command) -> str:
    return refusal(lambda: when(given, command))


def russian(**changes: object) -> TranslateAction:
    return replace(IN_RUSSIAN, **changes)  # type: ignore[arg-type]


def updated(**changes: object) -> ActionUpdated:
    return ActionUpdated(action_id=seed.ACTION_ID, number=6, published_at=AT,
                         **changes)  # type: ignore[arg-type]


def test_a_draft_is_translated_and_its_state_holds_the_translation_as_current() -> None:
    assert when([DRAFTED], IN_RUSSIAN) == [TRANSLATED]

    state = action.replay([DRAFTED, TRANSLATED])
    assert state.current_translation("ru") == text_of(IN_RUSSIAN)
    assert state.current_translation("ky") is None
    assert state.translations["ru"].translated_at == AT


def test_a_launched_action_is_translated_and_a_second_translation_replaces_the_first() -> None:
    corrected = russian(title="ПРАВОЗАЩИТНИК ОСУЖДЁН ПОЖИЗНЕННО", translated_at=AT.replace(hour=13))

    assert when([DRAFTED, LAUNCHED, TRANSLATED], corrected) == [ActionTranslated(**vars(corrected))]
    state = action.replay([DRAFTED, LAUNCHED, TRANSLATED, ActionTranslated(**vars(corrected))])
    current = state.current_translation("ru")
    assert current is not None and current.title == "ПРАВОЗАЩИТНИК ОСУЖДЁН ПОЖИЗНЕННО"


def test_a_closed_action_or_one_never_drafted_takes_no_translation() -> None:
    assert refused([DRAFTED, LAUNCHED, CLOSED], IN_RUSSIAN) == "action_closed"
    assert refused([], IN_RUSSIAN) == "unknown_action"


def test_an_action_is_not_translated_into_its_own_language() -> None:
    assert refused([DRAFTED], russian(language="en")) == "same_language"
    in_russian = replace(DRAFTED, language="ru")
    assert refused([in_russian], IN_RUSSIAN) == "same_language"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"language": "Russian"}, "invalid_language"),
        ({"language": "ru-ru"}, "invalid_language"),
        ({"title": " "}, "empty_title"),
        ({"title": "ПРАВОЗАЩИТНИК\nОСУЖДЁН"}, "not_single_line"),
        ({"summary": "Азимжан\x07Аскаров"}, "control_character"),
        ({"asks": (*ru.ASKS[:2], " ")}, "empty_ask"),
        ({"asks": ru.ASKS[:2]}, "asks_mismatch"),
        ({"asks": (*ru.ASKS, "призывая обеспечить ему медицинскую помощь.")}, "asks_mismatch"),
        ({"body": ""}, "body_not_translated"),
        ({"summary": "  "}, "summary_not_translated"),
        ({"additional_information": ""}, "additional_information_not_translated"),
        ({"translated_at": datetime(2010, 9, 16, 12)}, "naive_datetime"),
    ],
)
def test_a_translation_breaking_a_rule_is_refused_naming_it(
    changes: dict[str, object], code: str
) -> None:
    assert refused([DRAFTED], russian(**changes)) == code


def test_a_translation_may_add_what_the_original_leaves_empty() -> None:
    no_more = replace(DRAFTED, additional_information="")
    with_office = russian(additional_information="Обращения можно передать в офис секции.")

    assert when([no_more], with_office) == [ActionTranslated(**vars(with_office))]


def test_an_update_that_changes_the_translated_text_outdates_the_translation() -> None:
    new_ask = updated(asks=(*seed.ASKS, "Calling for him to receive medical care."))

    state = action.replay([DRAFTED, LAUNCHED, TRANSLATED, new_ask])

    assert state.current_translation("ru") is None
    assert state.translations["ru"].text == text_of(IN_RUSSIAN)  # kept, to be redone
    four = russian(asks=(*ru.ASKS, "призывая обеспечить ему медицинскую помощь."))
    assert refused([DRAFTED, LAUNCHED, TRANSLATED, new_ask], IN_RUSSIAN) == "asks_mismatch"
    again = action.replay([DRAFTED, LAUNCHED, TRANSLATED, new_ask, ActionTranslated(**vars(four))])
    assert again.current_translation("ru") == text_of(four)


def test_an_update_that_leaves_the_text_as_it_was_keeps_the_translation_current() -> None:
    later = Deadline(on=date(2010, 11, 10), timezone=seed.TIMEZONE)
    restated = updated(title=seed.TITLE, targets=(seed.MINISTER, seed.PRESIDENT))
    extended = DeadlineExtended(seed.ACTION_ID, 6, seed.DEADLINE, later, AT)

    state = action.replay([DRAFTED, LAUNCHED, TRANSLATED, restated, extended])

    assert state.current_translation("ru") == text_of(IN_RUSSIAN)


def test_a_revision_into_the_language_of_a_translation_drops_that_translation() -> None:
    into_russian = DraftRevised(**{**vars(seed.CONTENT), "language": "ru"},
                                action_id=seed.ACTION_ID, revised_at=AT)

    state = action.replay([DRAFTED, TRANSLATED, into_russian])

    assert "ru" not in state.translations
    into_english = russian(language="en")  # now another language than the action's
    assert when([DRAFTED, TRANSLATED, into_russian], into_english) == [
        ActionTranslated(**vars(into_english))]


def test_a_draft_in_a_malformed_language_is_refused() -> None:
    assert refusal(lambda: when([], replace(seed.DRAFT, language="Russian"))) == (
        "invalid_language")

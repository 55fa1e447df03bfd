"""Shared value objects: deadlines, local times, targets, countries, languages, e-mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from campaign.domain.countries import ISO_3166_ALPHA_2
from campaign.domain.values import (
    AtLocalTime,
    Deadline,
    LocalDateTime,
    OnDate,
    Target,
    normalise_email,
    require_aware,
    validate_country,
    validate_email,
    validate_language,
)
from tests.unit.domain.scenario import refusal


def test_a_deadline_ends_when_the_day_after_the_printed_date_starts_in_its_timezone() -> None:
    deadline = Deadline(on=date(2010, 10, 27), timezone="Asia/Bishkek")

    assert deadline.ends_at() == datetime(2010, 10, 27, 18, 0, tzinfo=UTC)
    assert deadline.ends_at().tzinfo is UTC


def test_a_deadline_follows_summer_time_of_its_zone() -> None:
    # Europe/London is on BST (UTC+1) at midnight starting 31 October 2010.
    deadline = Deadline(on=date(2010, 10, 30), timezone="Europe/London")

    assert deadline.ends_at() == datetime(2010, 10, 30, 23, 0, tzinfo=UTC)


def test_a_date_only_deadline_keeps_its_instant_when_deadlines_can_have_a_time() -> None:
    assert Deadline(on=date(2027, 1, 20), timezone="Asia/Bishkek", time=None).ends_at() == (
        datetime(2027, 1, 20, 18, 0, tzinfo=UTC))  # midnight starting 21 January in Bishkek


def test_a_deadline_with_a_time_ends_at_that_local_time_on_its_day() -> None:
    deadline = Deadline(on=date(2027, 1, 20), timezone="Asia/Bishkek", time=time(17, 0))

    assert deadline.ends_at() == datetime(2027, 1, 20, 11, 0, tzinfo=UTC)  # Bishkek is UTC+6


def test_a_deadline_time_follows_summer_time_and_reads_a_skipped_time_before_the_change(
) -> None:
    summer = Deadline(on=date(2027, 7, 1), timezone="Europe/London", time=time(17, 0))
    skipped = Deadline(on=date(2027, 3, 28), timezone="Europe/London", time=time(1, 30))

    assert summer.ends_at() == datetime(2027, 7, 1, 16, 0, tzinfo=UTC)
    assert skipped.ends_at() == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # still GMT's offset


def test_a_deadline_time_with_an_offset_is_refused() -> None:
    aware = time(17, 0, tzinfo=UTC)

    assert refusal(lambda: Deadline(date(2027, 1, 20), "UTC", aware)) == "invalid_local_time"


@pytest.mark.parametrize("name", ["Asia/Bishkik", "localtime", "", "../etc/passwd", "asia/bishkek"])
def test_a_deadline_in_an_unknown_timezone_is_refused(name: str) -> None:
    assert refusal(lambda: Deadline(on=date(2010, 10, 27), timezone=name)) == "invalid_timezone"


def test_a_local_date_time_becomes_an_instant_in_utc() -> None:
    hearing = LocalDateTime(at=datetime(2020, 5, 13, 14, 0), timezone="Asia/Bishkek")

    assert hearing.instant() == datetime(2020, 5, 13, 8, 0, tzinfo=UTC)


def test_a_local_date_time_with_an_offset_is_refused() -> None:
    aware = datetime(2020, 5, 13, 14, 0, tzinfo=timezone(timedelta(hours=6)))

    assert refusal(lambda: LocalDateTime(at=aware, timezone="Asia/Bishkek")) == "invalid_local_time"


def test_an_occurrence_knows_its_calendar_day() -> None:
    local = LocalDateTime(at=datetime(2020, 5, 13, 23, 30), timezone="Asia/Bishkek")

    assert OnDate(date(2010, 6, 15)).day == date(2010, 6, 15)
    assert AtLocalTime(local).day == date(2020, 5, 13)


def test_the_country_list_holds_the_249_assigned_alpha_2_codes() -> None:
    assert len(ISO_3166_ALPHA_2) == 249
    assert all(len(code) == 2 and code.isupper() for code in ISO_3166_ALPHA_2)
    assert {"KG", "GB", "SS", "BQ", "AX"} <= ISO_3166_ALPHA_2


@pytest.mark.parametrize("code", ["kg", "UK", "XK", "KGZ", "", "EU"])
def test_an_unassigned_or_lowercase_country_code_is_refused(code: str) -> None:
    assert refusal(lambda: validate_country(code)) == "invalid_country"


@pytest.mark.parametrize("tag", ["ru", "ky", "en", "pt-BR", "sr-Latn-RS", "zh-Hant", "es-419"])
def test_language_tags_in_canonical_form_are_accepted(tag: str) -> None:
    assert validate_language(tag) == tag


@pytest.mark.parametrize("tag", ["", "english", "pt_BR", "pt-br", "EN", "en-", "en-US-x-y"])
def test_malformed_language_tags_are_refused(tag: str) -> None:
    assert refusal(lambda: validate_language(tag)) == "invalid_language"


@pytest.mark.parametrize("email", ["pressa@mail.mvd.kg", "a.b+c@example.org"])
def test_plausible_email_addresses_are_accepted(email: str) -> None:
    assert validate_email(email) == email


@pytest.mark.parametrize(
    "email",
    ["", "no-at-sign", "a@b", "a@@b.org", "a@b@c.org", "@b.org", "a b@c.org", "a@b.", "a@.",
     "x" * 250 + "@b.org"],
)
def test_impossible_email_addresses_are_refused(email: str) -> None:
    assert refusal(lambda: validate_email(email)) == "invalid_email"


def test_addresses_are_normalised_for_the_blind_index_by_stripping_and_case_folding() -> None:
    assert normalise_email("  Pressa@Mail.MVD.kg \n") == "pressa@mail.mvd.kg"
    assert normalise_email("Straße@b.de") == "strasse@b.de"


def test_a_naive_instant_is_refused() -> None:
    assert refusal(lambda: require_aware(datetime(2010, 9, 15), "at")) == "naive_datetime"


def _target(**changes: object) -> Target:
    values: dict[str, object] = {
        "target_id": "president", "name": "Roza Otunbaeva", "title": "President",
        "country": "KG", "role": "copy",
    }
    return Target(**{**values, **changes})  # type: ignore[arg-type]


def test_a_target_needs_only_id_name_title_country_and_role() -> None:
    target = _target()

    assert (target.email, target.salutation, target.fax, target.address_lines) == (
        None, None, None, ()
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"target_id": "The President"}, "invalid_target_id"),
        ({"target_id": ""}, "invalid_target_id"),
        ({"name": " "}, "invalid_target"),
        ({"country": "Kyrgyzstan"}, "invalid_country"),
        ({"role": "cc"}, "invalid_target"),
        ({"email": "admin at kyrgyz-el.kg"}, "invalid_email"),
    ],
)
def test_a_malformed_target_is_refused(changes: dict[str, object], code: str) -> None:
    assert refusal(lambda: _target(**changes)) == code

"""The domain's own boundaries: sane years every zone converts, one-line text, time rules.

Properties over every IANA zone and every Unicode category, then the rules of time and
reference each aggregate applies, as given-when-then examples.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.demo import ua_135_10 as seed
from campaign.domain import action, case, partner, pledge, supporter
from campaign.domain.action import ActionDrafted, LaunchAction
from campaign.domain.base import DomainError
from campaign.domain.values import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    AtLocalTime,
    Deadline,
    LocalDateTime,
    OnDate,
    check_deadline,
    check_occurrence,
    is_single_line,
    require_plain_text,
    validate_timezone,
)
from tests.unit.domain.scenario import refusal

FIRST_DAY, LAST_DAY = date(EARLIEST_YEAR, 1, 1), date(LATEST_YEAR, 12, 31)
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
EXAMPLES = settings(max_examples=40, deadline=None)


@cache
def every_zone() -> tuple[ZoneInfo, ...]:
    names = []
    for name in sorted(available_timezones()):
        try:
            names.append(validate_timezone(name))
        except DomainError:
            continue  # not a zone name: "localtime", "Factory"
    return tuple(ZoneInfo(name) for name in names)


zones = st.sampled_from(every_zone()).map(lambda zone: zone.key)
days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
wall_times = st.datetimes(min_value=datetime.combine(FIRST_DAY, time()),
                          max_value=datetime.combine(LAST_DAY, time.max))
outside = st.dates(max_value=FIRST_DAY - timedelta(days=1)) | st.dates(
    min_value=LAST_DAY + timedelta(days=1))


def readable_everywhere(instant: datetime) -> None:
    """Converting `instant` to any zone works: no reader can overflow on it."""
    for zone in every_zone():
        assert instant.astimezone(zone).utcoffset() is not None


# Time: every date in the sane years converts in every zone; no other date exists


@EXAMPLES
@given(on=days, zone=zones)
def test_every_deadline_in_the_sane_years_ends_at_an_instant_every_zone_can_read(
    on: date, zone: str
) -> None:
    readable_everywhere(Deadline(on=on, timezone=zone).ends_at())


@EXAMPLES
@given(at=wall_times, zone=zones)
def test_every_local_time_in_the_sane_years_is_an_instant_every_zone_can_read(
    at: datetime, zone: str
) -> None:
    readable_everywhere(LocalDateTime(at=at, timezone=zone).instant())


@EXAMPLES
@given(on=outside, zone=zones)
def test_no_deadline_date_or_local_time_outside_the_sane_years_gets_in(
    on: date, zone: str
) -> None:
    at = datetime.combine(on, time(12))
    assert refusal(lambda: check_deadline(Deadline(on=on, timezone=zone))) == "date_out_of_range"
    assert refusal(lambda: check_occurrence(OnDate(on=on))) == "date_out_of_range"
    local = AtLocalTime(LocalDateTime(at=at, timezone=zone))
    assert refusal(lambda: check_occurrence(local)) == "date_out_of_range"


@EXAMPLES
@given(on=outside, zone=zones)
def test_a_value_stored_before_the_rule_still_decodes(on: date, zone: str) -> None:
    """Built as the codec builds it from the log: the case it belongs to stays usable."""
    assert Deadline(on=on, timezone=zone).on == on
    assert LocalDateTime(at=datetime.combine(on, time(12)), timezone=zone).at.date() == on


def test_the_edges_of_the_sane_years_in_the_furthest_zones_still_convert() -> None:
    last = Deadline(on=LAST_DAY, timezone="Pacific/Kiritimati")  # UTC+14
    first = LocalDateTime(at=datetime.combine(FIRST_DAY, time()), timezone="Etc/GMT+12")

    readable_everywhere(last.ends_at())
    readable_everywhere(first.instant())


# Text: single-line for headers and subjects; plain text for paragraphs

# Every category (surrogates and controls included), and the characters that matter most:
# line breaks, tab, NUL, separators, marks, joiners, a combining accent, an emoji.
SPECIAL = "\r\n\t\x00\x85\u2028\u2029\u200e\u200f\u061c\u200c\u200d\u0301\U0001f469"
characters = st.characters(exclude_categories=()) | st.sampled_from(SPECIAL + BIDI_CONTROLS)


def forbidden_in_a_line(ch: str) -> bool:
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


@EXAMPLES
@given(text=st.text(characters, max_size=40))
def test_a_line_is_any_text_without_controls_separators_or_bidi_overrides(text: str) -> None:
    assert is_single_line(text) == (not any(forbidden_in_a_line(ch) for ch in text))


@EXAMPLES
@given(text=st.text(characters, max_size=40))
def test_plain_text_takes_line_breaks_and_tabs_but_no_other_control(text: str) -> None:
    bad = any(ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cs") for ch in text)
    if bad:
        assert refusal(lambda: require_plain_text(text, "the text")) == "control_character"
    else:
        assert require_plain_text(text, "the text") == text


@pytest.mark.parametrize("name", [
    "\u0645\u06cc\u200c\u0631\u062d\u06cc\u0645\u06cc",  # Persian, zero-width non-joiner
    "\u200f\u05d3\u05e0\u05d4 \u05db\u05d4\u05df",  # Hebrew after a right-to-left mark
    "Jos\u0065\u0301 \u0141\u00f3d\u017a",  # a combining acute accent, Polish letters
    "\U0001f469\u200d\U0001f52c Ada",  # an emoji sequence with a zero-width joiner
    "\u0905\u0928\u094d\u200d\u0924",  # Devanagari with a joiner
])
def test_real_names_with_marks_joiners_and_combining_characters_are_single_lines(
    name: str
) -> None:
    assert is_single_line(name)


@pytest.mark.parametrize("text", [
    "Ada\r\nBcc: x@y.org", "Ada\n", "Ada\tLovelace", "Ada\x00", "Ada\x85", "Ada\u2028",
    "\u202eecivres", "Ada\u2066", "\ud800",
])
def test_line_breaks_controls_and_bidi_overrides_are_not_single_lines(text: str) -> None:
    assert not is_single_line(text)


# Rules each aggregate applies

AT = datetime(2010, 9, 16, 12, tzinfo=UTC)
YEAR_ONE = datetime(1, 1, 1, 12, tzinfo=timezone(timedelta(hours=14)))
DRAFTED = ActionDrafted(**vars(seed.DRAFT))


def test_an_action_whose_deadline_has_passed_is_not_launched() -> None:
    state = action.replay([DRAFTED])
    ends = seed.DEADLINE.ends_at()

    assert refusal(lambda: action.decide(state, LaunchAction(seed.ACTION_ID, ends))) == (
        "deadline_passed")
    just_in_time = action.decide(state, LaunchAction(seed.ACTION_ID, ends - timedelta(seconds=1)))
    assert [type(e).__name__ for e in just_in_time] == ["ActionLaunched"]


def test_an_instant_outside_the_sane_years_never_reaches_the_log() -> None:
    state = action.replay([DRAFTED])

    assert refusal(lambda: action.decide(state, LaunchAction(seed.ACTION_ID, YEAR_ONE))) == (
        "date_out_of_range")
    open_case = replace(seed.OPEN_CASE, opened_at=datetime(9999, 1, 1, tzinfo=UTC))
    assert refusal(lambda: case.decide(case.initial_state(), open_case)) == "date_out_of_range"


@pytest.mark.parametrize(("changes", "code"), [
    ({"issued_on": date(1, 1, 1)}, "date_out_of_range"),
    ({"title": "HUMAN RIGHTS\r\nDEFENDER"}, "not_single_line"),
    ({"index_number": "EUR 58/015/2010\n"}, "not_single_line"),
    ({"ua_number": "135/10\n"}, "invalid_ua_number"),
    ({"ua_number": "\u0661\u0663\u0665/\u0661\u0660"}, "invalid_ua_number"),
    ({"languages": ("ru\n",)}, "invalid_language"),
    ({"body": "Ring\x07"}, "control_character"),
    ({"asks": ("Free him\x00",)}, "control_character"),
])
def test_an_action_with_text_or_dates_no_reader_can_take_is_not_drafted(
    changes: dict[str, object], code: str
) -> None:
    draft = replace(seed.DRAFT, **changes)  # type: ignore[arg-type]

    assert refusal(lambda: action.decide(action.initial_state(), draft)) == code


def letter(sent_on: date) -> pledge.ConfirmLetter:
    return pledge.ConfirmLetter(
        action_id=seed.ACTION_ID, supporter_id="s-1", letter_id="l-1",
        target_id="minister-interior", channel="post", sent_on=sent_on, confirmed_at=AT,
        action_issued_on=seed.ISSUED_ON)


PLEDGED = pledge.Pledged(
    action_id=seed.ACTION_ID, supporter_id="s-1", target_ids=("minister-interior",),
    letters_promised=1, pledged_at=AT, due_at=seed.DEADLINE.ends_at())


def test_a_letter_is_sent_on_or_after_the_day_its_action_was_issued() -> None:
    state = pledge.replay([PLEDGED])
    day_before = seed.ISSUED_ON - timedelta(days=1)

    assert refusal(lambda: pledge.decide(state, letter(day_before))) == "sent_before_issue"
    assert refusal(lambda: pledge.decide(state, letter(date(1, 1, 1)))) == "date_out_of_range"
    assert pledge.decide(state, letter(seed.ISSUED_ON))


@pytest.mark.parametrize("letters", [0, 101, True])
def test_a_pledge_promises_a_whole_number_of_letters_from_1_to_100(letters: int) -> None:
    command = pledge.MakePledge(
        action_id=seed.ACTION_ID, supporter_id="s-1", target_ids=(), letters_promised=letters,
        pledged_at=AT, action_open=True, action_target_ids=("minister-interior",),
        due_at=seed.DEADLINE.ends_at())

    assert refusal(lambda: pledge.decide(pledge.initial_state(), command)) == (
        "invalid_letters_promised")


def test_a_supporter_name_is_one_line_and_is_not_echoed_when_refused() -> None:
    command = supporter.RegisterSupporter(
        supporter_id="s-1", email="ada@example.org", name="Ada\r\nBcc: x@y.org", locale="en",
        country="GB", timezone="Europe/London", registered_at=AT)

    with pytest.raises(DomainError) as refused:
        supporter.decide(supporter.initial_state(), command)

    assert refused.value.code == "not_single_line"
    assert "Bcc" not in refused.value.message


@pytest.mark.parametrize(("changes", "code"), [
    ({"subject_name": "Azimzhan\nAskarov"}, "not_single_line"),
    ({"tags": ("prisoner\r\n",)}, "not_single_line"),
    ({"summary": "Sentenced\x1b[31m"}, "control_character"),
])
def test_a_case_with_text_no_reader_can_take_is_not_opened(
    changes: dict[str, object], code: str
) -> None:
    command = replace(seed.OPEN_CASE, **changes)  # type: ignore[arg-type]

    assert refusal(lambda: case.decide(case.initial_state(), command)) == code


@pytest.mark.parametrize(("name", "url"), [
    ("Bir Duino\r\nKyrgyzstan", "https://partner.example.org/hooks"),
    ("Bir Duino", "https://partner.example.org/hooks\r\nHost: evil.example"),
])
def test_a_partners_name_and_webhook_url_are_one_line(name: str, url: str) -> None:
    command = partner.RegisterPartner(
        partner_id="bir-duino", name=name, contact_email="a@b.org", webhook_url=url,
        case_ids=(), action_ids=(), countries=("KG",), event_types=partner.PARTNER_EVENT_TYPES,
        auto_approve_developments=False, registered_at=AT)

    assert refusal(lambda: partner.decide(partner.initial_state(), command)) == (
        "not_single_line")

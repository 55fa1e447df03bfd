"""The event codec: every event type survives JSON and comes back equal."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any, get_type_hints

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaign.demo import ua_135_10 as seed
from campaign.domain import (
    action,
    case,
    letter_reports,
    mailing,
    operations,
    partner,
    pledge,
    supporter,
)
from campaign.domain.action_content import ActionContent
from campaign.domain.base import DomainEvent
from campaign.domain.codec import (
    EVENT_TYPES,
    CodecError,
    from_data,
    from_plain,
    to_data,
    to_plain,
)
from campaign.domain.values import (
    EARLIEST_YEAR,
    LATEST_YEAR,
    Deadline,
    LocalDateTime,
    OnDate,
    Target,
)
from tests.unit.domain.scenario import run_all

ZONES = ["Asia/Bishkek", "Europe/London", "America/Sao_Paulo", "UTC"]
ALL_EVENT_CLASSES = [*case.EVENTS, *action.EVENTS, *supporter.EVENTS, *pledge.EVENTS,
                     *mailing.EVENTS, *partner.EVENTS, *letter_reports.EVENTS,
                     *operations.EVENTS]

instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=6)), timezone(-timedelta(hours=3))]),
)
wall_times = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))
days = st.dates(min_value=date(EARLIEST_YEAR, 1, 1), max_value=date(LATEST_YEAR, 12, 31))
# What a header may hold: no control characters, line separators or bidi overrides.
lines = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"),
                              exclude_characters="\u202a\u202b\u202c\u202d\u202e"
                                                 "\u2066\u2067\u2068\u2069"))
st.register_type_strategy(
    Deadline, st.builds(Deadline, on=days, timezone=st.sampled_from(ZONES),
                        time=st.none() | st.times())
)
st.register_type_strategy(OnDate, st.builds(OnDate, on=days))
st.register_type_strategy(
    LocalDateTime, st.builds(LocalDateTime, at=wall_times, timezone=st.sampled_from(ZONES))
)
st.register_type_strategy(
    Target,
    st.builds(
        Target,
        target_id=st.from_regex(r"\A[a-z0-9]{1,8}(-[a-z0-9]{1,8})?\Z"),
        name=lines.filter(str.strip),
        title=lines,
        organisation=st.none() | lines,
        address_lines=st.lists(lines, max_size=3).map(tuple),
        fax=st.none() | lines,
        salutation=st.none() | lines,
        country=st.sampled_from(["KG", "GB", "BR"]),
        email=st.none() | st.just("pressa@mail.mvd.kg"),
    ),
)


def events_of(cls: type[DomainEvent]) -> st.SearchStrategy[DomainEvent]:
    """Arbitrary events of `cls`, with aware instants wherever an instant is declared."""
    hints = get_type_hints(cls)
    overrides: dict[str, Any] = {
        f.name: instants for f in fields(cls) if hints[f.name] is datetime
    }
    return st.builds(cls, **overrides)


def test_the_registry_names_every_event_of_every_aggregate_by_its_class_name() -> None:
    assert sorted(EVENT_TYPES) == sorted(c.__name__ for c in ALL_EVENT_CLASSES)
    assert all(EVENT_TYPES[c.type_name] is c for c in ALL_EVENT_CLASSES)
    assert {c.type_name: c.schema_version for c in ALL_EVENT_CLASSES
            if c.schema_version != 1} == {"PartnerRegistered": 2}


@pytest.mark.parametrize("cls", ALL_EVENT_CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_every_event_type_round_trips_through_json(cls: type[DomainEvent], data: Any) -> None:
    event = data.draw(events_of(cls))

    stored = json.loads(json.dumps(to_data(event)))

    assert from_data(event.type_name, stored) == event


def seed_events() -> list[DomainEvent]:
    _, action_log = run_all(
        action.decide, action.evolve, action.initial_state(), seed.ACTION_COMMANDS
    )
    _, case_log = run_all(case.decide, case.evolve, case.initial_state(), seed.CASE_COMMANDS)
    return [*action_log, *case_log]


def test_the_seed_events_round_trip_through_json() -> None:
    for event in seed_events():
        assert from_data(event.type_name, json.loads(json.dumps(to_data(event)))) == event


def test_dates_instants_and_local_times_have_readable_json_forms() -> None:
    drafted, *_ = seed_events()
    hearing = seed_events()[-1]

    data, hearing_data = to_data(drafted), to_data(hearing)

    assert data["deadline"] == {"on": "2010-10-27", "timezone": "Asia/Bishkek", "time": None}
    assert data["language"] == "en"
    assert data["drafted_at"] == "2010-09-15T06:00:00+00:00"
    assert data["targets"][1]["email"] is None
    assert data["languages"] == ["ru", "ky", "en"]
    assert hearing_data["occurred"] == {
        "type": "AtLocalTime",
        "local": {"at": "2020-05-13T14:00:00", "timezone": "Asia/Bishkek"},
    }


def test_an_action_drafted_before_actions_had_a_language_or_a_deadline_time_still_loads(
) -> None:
    drafted = seed_events()[0]
    stored = to_data(drafted)
    del stored["language"]
    del stored["deadline"]["time"]

    old = from_data("ActionDrafted", stored)

    assert isinstance(old, action.ActionDrafted)
    assert (old.language, old.deadline.time) == ("en", None)
    assert old == drafted  # the seed is written in English, to a date-only deadline


def test_a_deadline_time_is_stored_as_a_local_wall_time_and_read_back() -> None:
    deadline = Deadline(on=date(2027, 1, 20), timezone="Asia/Bishkek", time=time(17, 0))

    plain = to_plain(deadline)

    assert plain == {"on": "2027-01-20", "timezone": "Asia/Bishkek", "time": "17:00:00"}
    assert from_plain(Deadline, plain) == deadline


def test_a_stored_deadline_time_with_an_offset_is_refused() -> None:
    with pytest.raises(CodecError, match="without offset"):
        from_plain(Deadline, {"on": "2027-01-20", "timezone": "UTC", "time": "17:00:00+06:00"})


def test_instants_are_stored_in_utc() -> None:
    bishkek = timezone(timedelta(hours=6))
    event = action.ActionLaunched("a", datetime(2010, 9, 15, 12, tzinfo=bishkek))

    assert to_data(event) == {"action_id": "a", "launched_at": "2010-09-15T06:00:00+00:00"}


def test_value_objects_and_content_convert_to_plain_data_and_back() -> None:
    plain = to_plain(seed.CONTENT)

    assert plain["ua_number"] == "135/10"
    assert from_plain(ActionContent, json.loads(json.dumps(plain))) == seed.CONTENT


def test_a_naive_instant_cannot_be_encoded() -> None:
    with pytest.raises(CodecError, match="launched_at"):
        to_data(action.ActionLaunched("a", datetime(2010, 9, 15)))


def test_a_value_of_the_wrong_type_cannot_be_encoded() -> None:
    at = seed.LAUNCH.launched_at
    wrong = action.ActionUpdated(action_id="a", number="5", published_at=at)  # type: ignore[arg-type]

    with pytest.raises(CodecError, match="number"):
        to_data(wrong)


@pytest.mark.parametrize(
    ("type_name", "data", "complaint"),
    [
        ("ActionTeleported", {}, "unknown event type"),
        ("ActionLaunched", {"action_id": "a"}, "launched_at"),
        ("ActionLaunched", {"action_id": "a", "launched_at": "2010-09-15T06:00:00"}, "offset"),
        ("ActionLaunched", {"action_id": "a", "launched_at": "15/09/2010"}, "ISO 8601"),
        ("ActionLaunched", {"action_id": 7, "launched_at": "2010-09-15T06:00:00Z"}, "str"),
        ("ActionLaunched", {"action_id": "a", "launched_at": "2010-09-15T06:00Z", "x": 1},
         "unknown fields"),
        ("ActionClosed", {"action_id": "a", "reason": "bored", "note": "",
                          "closed_at": "2010-09-15T06:00:00+00:00"}, "one of"),
        ("DeadlineExtended", {"action_id": "a", "update_number": 1,
                              "old_deadline": {"on": "2010-10-27", "timezone": "Mars/Base"},
                              "new_deadline": {"on": "2010-10-28", "timezone": "UTC"},
                              "extended_at": "2010-09-15T06:00:00+00:00"}, "timezone"),
    ],
)
def test_stored_data_that_does_not_fit_its_type_is_refused(
    type_name: str, data: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(CodecError, match=complaint):
        from_data(type_name, data)


def test_an_occurrence_of_an_unknown_kind_is_refused() -> None:
    hearing = to_data(seed_events()[-1])
    hearing["occurred"] = {"type": "Someday"}

    with pytest.raises(CodecError, match="Someday"):
        from_data("DevelopmentRecorded", hearing)


def test_a_date_field_refuses_a_datetime() -> None:
    event = case.DevelopmentRecorded(
        **{**vars(seed_events()[-2]), "occurred": OnDate(datetime(2010, 9, 15, tzinfo=UTC))}
    )

    with pytest.raises(CodecError, match="occurred.on"):
        to_data(event)


def test_a_sample_seed_date_is_encoded_as_iso() -> None:
    assert to_plain(OnDate(date(2010, 6, 15))) == {"on": "2010-06-15"}

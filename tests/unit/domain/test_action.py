"""UrgentAction: given these events, when this command, then these events (or this refusal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from campaign.demo import ua_135_10 as seed
from campaign.domain import action
from campaign.domain.action import (
    ActionClosed,
    ActionDrafted,
    ActionLaunched,
    ActionUpdated,
    CloseAction,
    DeadlineExtended,
    DraftRevised,
    LaunchAction,
    PublishUpdate,
    ReviseDraft,
)
from campaign.domain.base import DomainEvent
from campaign.domain.values import Deadline
from tests.unit.domain.scenario import refusal

AT = datetime(2010, 9, 16, 12, tzinfo=UTC)
DRAFTED = ActionDrafted(**vars(seed.DRAFT))
LAUNCHED = ActionLaunched(**vars(seed.LAUNCH))
CLOSE = CloseAction(seed.ACTION_ID, "released", "Released on appeal.", AT)
CLOSED = ActionClosed(**vars(CLOSE))
LATER_DEADLINE = Deadline(on=date(2010, 11, 10), timezone="Asia/Bishkek")


def when(given: list[DomainEvent], command: action.Command) -> list[DomainEvent]:
    return action.decide(action.replay(given), command)


def refused(given: list[DomainEvent], command: action.Command) -> str:
    return refusal(lambda: when(given, command))


def drafted(**changes: object) -> ActionDrafted:
    return replace(DRAFTED, **changes)  # type: ignore[arg-type]


def revise(**changes: object) -> ReviseDraft:
    values = {**vars(seed.CONTENT), **changes}
    return ReviseDraft(**values, action_id=seed.ACTION_ID, revised_at=AT)


def update(number: int, **changes: object) -> PublishUpdate:
    return PublishUpdate(
        action_id=seed.ACTION_ID, number=number, published_at=AT, **changes  # type: ignore[arg-type]
    )


def updated(number: int, **changes: object) -> ActionUpdated:
    return ActionUpdated(
        action_id=seed.ACTION_ID, number=number, published_at=AT, **changes  # type: ignore[arg-type]
    )


COPY_ONLY = (seed.PRESIDENT,)

# Drafting and revising


def test_drafting_an_action_records_its_whole_content() -> None:
    assert when([], seed.DRAFT) == [DRAFTED]
    state = action.replay([DRAFTED])
    assert (state.status, state.content, state.is_open) == ("drafted", seed.CONTENT, False)


def test_an_action_id_is_drafted_only_once() -> None:
    assert refused([DRAFTED], seed.DRAFT) == "already_exists"


def test_a_draft_may_be_incomplete() -> None:
    incomplete = replace(seed.DRAFT, asks=(), targets=COPY_ONLY, deadline=seed.DEADLINE)
    incomplete = replace(incomplete, issued_on=date(2010, 10, 27))

    assert when([], incomplete) == [ActionDrafted(**vars(incomplete))]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"ua_number": "135-10"}, "invalid_ua_number"),
        ({"ua_number": "135/2010"}, "invalid_ua_number"),
        ({"case_id": ""}, "empty_case_id"),
        ({"title": ""}, "empty_title"),
        ({"country": "Kyrgyzstan"}, "invalid_country"),
        ({"languages": ("ru", "Kyrgyz")}, "invalid_language"),
        ({"asks": ("Calling for his release;", " ")}, "empty_ask"),
        ({"targets": (seed.MINISTER, seed.MINISTER)}, "duplicate_target"),
        ({"source_links": ("www.amnesty.org/en/library",)}, "invalid_link"),
        ({"source_links": ("http://[amnesty.org/en",)}, "invalid_link"),  # no IPv6 inside
        ({"drafted_at": datetime(2010, 9, 15)}, "naive_datetime"),
    ],
)
def test_a_malformed_draft_is_refused(changes: dict[str, object], code: str) -> None:
    assert refused([], replace(seed.DRAFT, **changes)) == code  # type: ignore[arg-type]


def test_a_draft_can_be_revised_with_any_deadline() -> None:
    early = Deadline(on=date(2010, 9, 1), timezone="Asia/Bishkek")
    command = revise(deadline=early)

    assert when([DRAFTED], command) == [DraftRevised(**vars(command))]
    assert action.replay([DRAFTED, DraftRevised(**vars(command))]).deadline == early


def test_a_malformed_revision_is_refused() -> None:
    assert refused([DRAFTED], revise(ua_number="x")) == "invalid_ua_number"


def test_only_a_draft_can_be_revised() -> None:
    assert refused([DRAFTED, LAUNCHED], revise()) == "not_a_draft"
    assert refused([], revise()) == "unknown_action"


# Launching


def test_launching_a_complete_draft_opens_the_action() -> None:
    assert when([DRAFTED], seed.LAUNCH) == [LAUNCHED]
    state = action.replay([DRAFTED, LAUNCHED])
    assert (state.status, state.is_open) == ("launched", True)
    assert state.launched_at == LAUNCHED.launched_at


def test_an_action_without_a_primary_target_is_not_launched() -> None:
    assert refused([drafted(targets=COPY_ONLY)], seed.LAUNCH) == "no_primary_target"
    assert refused([drafted(targets=())], seed.LAUNCH) == "no_primary_target"


def test_an_action_without_an_ask_is_not_launched() -> None:
    assert refused([drafted(asks=())], seed.LAUNCH) == "no_ask"


@pytest.mark.parametrize("deadline_on", [date(2010, 9, 15), date(2010, 9, 14)])
def test_an_action_whose_deadline_is_not_after_its_issue_date_is_not_launched(
    deadline_on: date,
) -> None:
    deadline = Deadline(on=deadline_on, timezone="Asia/Bishkek")

    assert refused([drafted(deadline=deadline)], seed.LAUNCH) == "deadline_not_after_issue"


def test_an_action_is_launched_only_from_a_draft() -> None:
    assert refused([DRAFTED, LAUNCHED], seed.LAUNCH) == "not_a_draft"
    assert refused([], seed.LAUNCH) == "unknown_action"


def test_a_launch_time_must_be_an_instant() -> None:
    naive = LaunchAction(seed.ACTION_ID, datetime(2010, 9, 15))

    assert refused([DRAFTED], naive) == "naive_datetime"


# Updates


def test_an_update_replaces_the_fields_it_carries_and_keeps_the_action_open() -> None:
    command = update(1, title="JAILED FOR LIFE", asks=seed.ASKS[1:])
    event = updated(1, title="JAILED FOR LIFE", asks=seed.ASKS[1:])

    assert when([DRAFTED, LAUNCHED], command) == [event]
    state = action.replay([DRAFTED, LAUNCHED, event])
    assert state.content is not None
    assert (state.content.title, state.content.asks) == ("JAILED FOR LIFE", seed.ASKS[1:])
    assert (state.content.body, state.update_number, state.is_open) == (seed.BODY, 1, True)
    assert state.last_updated_at == AT


def test_update_numbers_may_jump_but_never_repeat_or_go_back() -> None:
    given: list[DomainEvent] = [DRAFTED, LAUNCHED, updated(5)]

    assert when([DRAFTED, LAUNCHED], update(5)) == [updated(5)]
    assert refused(given, update(5)) == "update_number_not_increasing"
    assert refused(given, update(4)) == "update_number_not_increasing"
    assert refused([DRAFTED, LAUNCHED], update(0)) == "update_number_not_increasing"
    assert when(given, update(6)) == [updated(6)]


def test_a_draft_takes_no_updates() -> None:
    assert refused([DRAFTED], update(1)) == "action_not_launched"
    assert refused([], update(1)) == "unknown_action"


def test_an_update_must_leave_an_ask_and_a_primary_target() -> None:
    assert refused([DRAFTED, LAUNCHED], update(1, asks=())) == "no_ask"
    assert refused([DRAFTED, LAUNCHED], update(1, targets=COPY_ONLY)) == "no_primary_target"


def test_an_update_must_leave_well_formed_content() -> None:
    assert refused([DRAFTED, LAUNCHED], update(1, title="")) == "empty_title"
    twice = (seed.MINISTER, seed.MINISTER)
    assert refused([DRAFTED, LAUNCHED], update(1, targets=twice)) == "duplicate_target"


def test_an_update_moving_the_deadline_later_also_extends_the_deadline() -> None:
    events = when([DRAFTED, LAUNCHED], update(2, deadline=LATER_DEADLINE))

    assert events == [
        updated(2),
        DeadlineExtended(seed.ACTION_ID, 2, seed.DEADLINE, LATER_DEADLINE, AT),
    ]
    assert action.replay([DRAFTED, LAUNCHED, *events]).deadline == LATER_DEADLINE


def test_an_update_restating_the_deadline_extends_nothing() -> None:
    assert when([DRAFTED, LAUNCHED], update(2, deadline=seed.DEADLINE)) == [updated(2)]


@pytest.mark.parametrize(
    "earlier",
    [
        Deadline(on=date(2010, 10, 26), timezone="Asia/Bishkek"),
        # Same date further east ends earlier: 27 Oct in Tokyo ends before it does in Bishkek.
        Deadline(on=date(2010, 10, 27), timezone="Asia/Tokyo"),
    ],
)
def test_a_launched_actions_deadline_never_moves_earlier(earlier: Deadline) -> None:
    assert refused([DRAFTED, LAUNCHED], update(2, deadline=earlier)) == "deadline_moved_backwards"


def test_the_published_time_must_be_an_instant() -> None:
    command = replace(update(1), published_at=datetime(2010, 9, 16))

    assert refused([DRAFTED, LAUNCHED], command) == "naive_datetime"


# Closing


def test_closing_a_launched_action_stops_it() -> None:
    assert when([DRAFTED, LAUNCHED], CLOSE) == [CLOSED]
    state = action.replay([DRAFTED, LAUNCHED, CLOSED])
    assert (state.status, state.is_open) == ("closed", False)
    assert (state.close_reason, state.close_note, state.closed_at) == ("released", CLOSE.note, AT)


def test_only_a_launched_action_can_be_closed() -> None:
    assert refused([DRAFTED], CLOSE) == "action_not_launched"
    assert refused([], CLOSE) == "unknown_action"


def test_closing_needs_a_known_reason() -> None:
    command = replace(CLOSE, reason="bored")  # type: ignore[arg-type]

    assert refused([DRAFTED, LAUNCHED], command) == "invalid_close_reason"


@pytest.mark.parametrize(
    "command", [revise(), seed.LAUNCH, update(9), CLOSE], ids=lambda c: type(c).__name__
)
def test_a_closed_action_takes_nothing_more(command: action.Command) -> None:
    assert refused([DRAFTED, LAUNCHED, CLOSED], command) == "action_closed"


# State


def test_the_state_exposes_what_the_read_side_needs() -> None:
    state = action.replay([DRAFTED, LAUNCHED])

    assert state.target_ids == ("minister-interior", "general-prosecutor", "president")
    assert state.content is not None
    assert state.content.primary_target_ids == ("minister-interior", "general-prosecutor")
    assert state.deadline == seed.DEADLINE
    assert (action.initial_state().deadline, action.initial_state().target_ids) == (None, ())


def test_evolving_leaves_the_earlier_state_untouched() -> None:
    before = action.replay([DRAFTED, LAUNCHED])

    action.evolve(before, CLOSED)
    action.evolve(before, updated(3, asks=()))

    assert (before.status, before.update_number) == ("launched", 0)
    assert before.content == seed.CONTENT


def test_the_stream_of_an_action_is_named_after_it() -> None:
    assert action.action_stream("ua-135-10") == "action-ua-135-10"

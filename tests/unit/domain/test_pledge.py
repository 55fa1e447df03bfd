"""Pledge: given these events, when this command, then these events (or this refusal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from campaign.demo import ua_135_10 as seed
from campaign.domain import pledge
from campaign.domain.base import DomainEvent, carry
from campaign.domain.pledge import (
    CancelPledge,
    ConfirmLetter,
    LapsePledge,
    LetterConfirmed,
    MakePledge,
    MoveDueDate,
    PledgeCancelled,
    Pledged,
    PledgeDueDateMoved,
    PledgeFulfilled,
    PledgeLapsed,
)
from tests.unit.domain.scenario import refusal

ACTION, SUPPORTER = seed.ACTION_ID, "s-1"
AT = datetime(2010, 9, 16, 12, tzinfo=UTC)
DUE = seed.DEADLINE.ends_at()
LATE = DUE + timedelta(days=3)
ALL_TARGETS = ("minister-interior", "general-prosecutor", "president")
WHO = {"action_id": ACTION, "supporter_id": SUPPORTER}

PLEDGE = MakePledge(
    **WHO, target_ids=(), letters_promised=2, pledged_at=AT,
    action_open=True, action_target_ids=ALL_TARGETS, due_at=DUE,
)
PLEDGED = Pledged(
    **WHO, target_ids=ALL_TARGETS, letters_promised=2, pledged_at=AT, due_at=DUE
)
LAPSED = PledgeLapsed(**WHO, letters_confirmed=0, lapsed_at=LATE)
CANCEL = CancelPledge(**WHO, reason="action_closed", at=AT)
CANCELLED = PledgeCancelled(**WHO, reason="action_closed", cancelled_at=AT)


def letter(n: int, target_id: str = "minister-interior", at: datetime = AT) -> ConfirmLetter:
    return ConfirmLetter(
        **WHO, letter_id=f"letter-{n}", target_id=target_id, channel="post",
        sent_on=date(2010, 9, 16), confirmed_at=at, action_issued_on=seed.ISSUED_ON,
    )


def confirmed(n: int, target_id: str = "minister-interior", at: datetime = AT) -> LetterConfirmed:
    return carry(LetterConfirmed, letter(n, target_id, at))


FULFILLED = PledgeFulfilled(**WHO, letters_confirmed=2, fulfilled_at=AT)


def when(given: list[DomainEvent], command: pledge.Command) -> list[DomainEvent]:
    return pledge.decide(pledge.replay(given), command)


def refused(given: list[DomainEvent], command: pledge.Command) -> str:
    return refusal(lambda: when(given, command))


def test_one_pledge_per_supporter_per_action_by_its_stream_name() -> None:
    assert pledge.pledge_stream("ua-135-10", "s-1") == "pledge-ua-135-10-s-1"


# Pledging


def test_pledging_to_no_particular_target_means_all_of_the_actions_targets() -> None:
    assert when([], PLEDGE) == [PLEDGED]
    state = pledge.replay([PLEDGED])
    assert (state.status, state.is_open, state.target_ids, state.due_at) == (
        "open", True, ALL_TARGETS, DUE
    )


def test_chosen_targets_are_kept_in_order_once_each() -> None:
    chosen = ("president", "minister-interior", "president")

    [event] = when([], replace(PLEDGE, target_ids=chosen))

    assert event == replace(PLEDGED, target_ids=("president", "minister-interior"))


def test_no_pledge_is_taken_for_an_action_that_is_not_open() -> None:
    assert refused([], replace(PLEDGE, action_open=False)) == "action_not_open"


def test_a_pledge_to_someone_who_is_not_a_target_is_refused() -> None:
    assert refused([], replace(PLEDGE, target_ids=("ombudsman",))) == "unknown_target"
    assert refused([], replace(PLEDGE, action_target_ids=())) == "unknown_target"


@pytest.mark.parametrize("promised", [0, -1])
def test_a_pledge_promises_at_least_one_letter(promised: int) -> None:
    assert refused([], replace(PLEDGE, letters_promised=promised)) == "invalid_letters_promised"


@pytest.mark.parametrize("field", ["pledged_at", "due_at"])
def test_a_pledge_needs_aware_instants(field: str) -> None:
    naive = replace(PLEDGE, **{field: datetime(2010, 9, 16)})  # type: ignore[arg-type]

    assert refused([], naive) == "naive_datetime"


def test_pledging_the_same_again_changes_nothing_even_once_the_action_closed() -> None:
    assert when([PLEDGED], PLEDGE) == []
    assert when([PLEDGED], replace(PLEDGE, action_open=False, pledged_at=LATE)) == []


def test_pledging_something_else_a_second_time_is_refused() -> None:
    assert refused([PLEDGED], replace(PLEDGE, letters_promised=3)) == "already_pledged"
    assert refused([PLEDGED], replace(PLEDGE, target_ids=("president",))) == "already_pledged"


@pytest.mark.parametrize(
    "command",
    [letter(1), LapsePledge(**WHO, at=LATE), CANCEL, MoveDueDate(**WHO, new_due_at=LATE, at=AT)],
    ids=lambda c: type(c).__name__,
)
def test_commands_without_a_pledge_are_refused(command: pledge.Command) -> None:
    assert refused([], command) == "no_pledge"


# Letters


def test_confirming_a_letter_records_it() -> None:
    assert when([PLEDGED], letter(1)) == [confirmed(1)]
    state = pledge.replay([PLEDGED, confirmed(1)])
    assert (state.letters_confirmed, state.is_open) == (1, True)
    assert state.letters["letter-1"].channel == "post"


def test_a_letter_cannot_be_confirmed_days_before_it_is_sent() -> None:
    from_the_future = replace(letter(1), sent_on=AT.date() + timedelta(days=2))
    next_day_elsewhere = replace(letter(1), sent_on=AT.date() + timedelta(days=1))

    assert refusal(lambda: when([PLEDGED], from_the_future)) == "sent_in_future"
    assert when([PLEDGED], next_day_elsewhere) == [carry(LetterConfirmed, next_day_elsewhere)]


def test_the_letter_that_keeps_the_promise_fulfils_the_pledge() -> None:
    events = when([PLEDGED, confirmed(1)], letter(2, "president"))

    assert events == [confirmed(2, "president"), FULFILLED]
    assert pledge.replay([PLEDGED, confirmed(1), *events]).status == "fulfilled"


def test_letters_after_fulfilment_still_count_but_fulfil_nothing_again() -> None:
    given: list[DomainEvent] = [PLEDGED, confirmed(1), confirmed(2), FULFILLED]

    assert when(given, letter(3)) == [confirmed(3)]
    assert pledge.replay([*given, confirmed(3)]).letters_confirmed == 3


def test_a_lapsed_pledge_records_late_letters_but_is_never_fulfilled() -> None:
    given: list[DomainEvent] = [PLEDGED, LAPSED, confirmed(1, at=LATE)]

    assert when(given, letter(2, at=LATE)) == [confirmed(2, at=LATE)]
    state = pledge.replay([*given, confirmed(2, at=LATE)])
    assert (state.status, state.letters_confirmed) == ("lapsed", 2)


def test_confirming_the_same_letter_again_changes_nothing() -> None:
    assert when([PLEDGED, confirmed(1)], replace(letter(1), confirmed_at=LATE)) == []


def test_reusing_a_letter_id_for_another_letter_is_refused() -> None:
    other = letter(1, "president")

    assert refused([PLEDGED, confirmed(1)], other) == "duplicate_letter"


def test_a_letter_to_an_official_outside_the_pledge_is_refused() -> None:
    narrow = replace(PLEDGED, target_ids=("president",))

    assert refused([narrow], letter(1, "minister-interior")) == "unknown_target"


def test_a_cancelled_pledge_takes_no_letter() -> None:
    assert refused([PLEDGED, CANCELLED], letter(1)) == "pledge_cancelled"


def test_a_letter_needs_a_known_channel() -> None:
    command = replace(letter(1), channel="pigeon")  # type: ignore[arg-type]

    assert refused([PLEDGED], command) == "invalid_channel"


# Lapsing


def test_an_open_pledge_lapses_once_its_due_time_has_come() -> None:
    assert when([PLEDGED], LapsePledge(**WHO, at=DUE)) == [replace(LAPSED, lapsed_at=DUE)]
    assert when([PLEDGED, confirmed(1)], LapsePledge(**WHO, at=LATE)) == [
        replace(LAPSED, letters_confirmed=1)
    ]


def test_a_pledge_does_not_lapse_before_it_is_due() -> None:
    early = LapsePledge(**WHO, at=DUE - timedelta(seconds=1))

    assert refused([PLEDGED], early) == "not_due"


@pytest.mark.parametrize(
    "ended", [[FULFILLED], [LAPSED], [CANCELLED]], ids=["fulfilled", "lapsed", "cancelled"]
)
def test_a_pledge_that_is_no_longer_open_does_not_lapse(ended: list[DomainEvent]) -> None:
    assert when([PLEDGED, *ended], LapsePledge(**WHO, at=LATE)) == []


# Cancelling


def test_cancelling_an_open_pledge_records_why() -> None:
    assert when([PLEDGED], CANCEL) == [CANCELLED]
    assert pledge.replay([PLEDGED, CANCELLED]).status == "cancelled"


@pytest.mark.parametrize(
    "ended", [[FULFILLED], [LAPSED], [CANCELLED]], ids=["fulfilled", "lapsed", "cancelled"]
)
def test_cancelling_a_pledge_that_is_no_longer_open_changes_nothing(
    ended: list[DomainEvent],
) -> None:
    assert when([PLEDGED, *ended], CANCEL) == []


def test_cancelling_needs_a_known_reason() -> None:
    command = replace(CANCEL, reason="bored")  # type: ignore[arg-type]

    assert refused([PLEDGED], command) == "invalid_reason"


# Moving the due date


def test_an_open_pledge_follows_a_later_deadline() -> None:
    command = MoveDueDate(**WHO, new_due_at=LATE, at=AT)
    moved = PledgeDueDateMoved(**WHO, old_due_at=DUE, new_due_at=LATE, moved_at=AT)

    assert when([PLEDGED], command) == [moved]
    state = pledge.replay([PLEDGED, moved])
    assert state.due_at == LATE
    assert refused([PLEDGED, moved], LapsePledge(**WHO, at=DUE)) == "not_due"


@pytest.mark.parametrize("new_due_at", [DUE, DUE - timedelta(hours=1)])
def test_a_due_date_never_moves_earlier_or_nowhere(new_due_at: datetime) -> None:
    assert when([PLEDGED], MoveDueDate(**WHO, new_due_at=new_due_at, at=AT)) == []


@pytest.mark.parametrize(
    "ended", [[FULFILLED], [LAPSED], [CANCELLED]], ids=["fulfilled", "lapsed", "cancelled"]
)
def test_a_pledge_that_is_no_longer_open_keeps_its_due_date(ended: list[DomainEvent]) -> None:
    assert when([PLEDGED, *ended], MoveDueDate(**WHO, new_due_at=LATE, at=AT)) == []


def test_a_new_due_date_must_be_an_instant() -> None:
    command = MoveDueDate(**WHO, new_due_at=datetime(2010, 11, 1), at=AT)

    assert refused([PLEDGED], command) == "naive_datetime"


def test_evolving_leaves_the_earlier_state_untouched() -> None:
    before = pledge.replay([PLEDGED])

    pledge.evolve(before, confirmed(1))

    assert before.letters == {} and before.letters_confirmed == 0


def test_a_lapse_time_must_be_an_instant() -> None:
    assert refused([PLEDGED], LapsePledge(**WHO, at=datetime(2010, 11, 1))) == "naive_datetime"

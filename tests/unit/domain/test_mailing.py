"""Mailing: given these events, when this command, then these events (or this refusal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from campaign.domain import mailing
from campaign.domain.base import DomainEvent
from campaign.domain.codec import from_data, to_data
from campaign.domain.mailing import (
    BatchAccepted,
    BatchesPlanned,
    BatchFailed,
    BatchPlan,
    MailingCompleted,
    MailingPlanned,
    PlanBatches,
    PlanMailing,
    RecipientFailure,
    RecordBatchAccepted,
    RecordBatchFailed,
)
from tests.unit.domain.scenario import refusal

AT = datetime(2010, 9, 15, 9, tzinfo=UTC)
BATCHES = (BatchPlan("m-1", "action_launched", "en", 1000),
           BatchPlan("m-2", "action_launched", "ru", 3))
PLAN = PlanMailing("m", "action_launched", "ua-135-10", "azimzhan-askarov", "e-1", BATCHES, AT)
PLANNED = MailingPlanned(**vars(PLAN))


def when(given: list[DomainEvent], command: mailing.Command) -> list[DomainEvent]:
    return mailing.decide(mailing.replay(given), command)


def accept(batch_id: str, message_id: str = "sg-1") -> RecordBatchAccepted:
    return RecordBatchAccepted("m", batch_id, message_id, AT)


def test_planning_records_every_batch_once() -> None:
    assert when([], PLAN) == [PLANNED]
    assert when([PLANNED], PLAN) == []  # the same cause planned again: nothing new


def test_a_mailing_with_nobody_to_write_to_is_complete_at_once() -> None:
    empty = PlanMailing("m", "action_closed", "a", "c", "e", (), AT)

    assert when([], empty) == [MailingPlanned(**vars(empty)), MailingCompleted("m", 0, 0, AT)]


@pytest.mark.parametrize("batches, code", [
    ((BatchPlan("b", "t", "en", 1), BatchPlan("b", "t", "ru", 1)), "duplicate_batch"),
    ((BatchPlan("b", "t", "en", 1001),), "invalid_batch"),
    ((BatchPlan("b", "t", "en", 0),), "invalid_batch"),
])
def test_batches_are_unique_and_hold_one_to_a_thousand_recipients(
    batches: tuple[BatchPlan, ...], code: str
) -> None:
    plan = PlanMailing("m", "action_launched", "a", "c", "e", batches, AT)

    assert refusal(lambda: when([], plan)) == code


@pytest.mark.parametrize("changes", [
    {"action_id": None},
    {"kind": "signup_confirmation"},
], ids=["action mailing without action", "confirmation naming an action"])
def test_only_mailings_about_an_action_name_one(changes: dict[str, object]) -> None:
    plan = replace(PLAN, **changes)  # type: ignore[arg-type]
    assert refusal(lambda: when([], plan)) == "invalid_mailing"


def test_the_last_outcome_completes_the_mailing() -> None:
    first = BatchAccepted("m", "m-1", "sg-1", AT)

    assert when([PLANNED], accept("m-1")) == [first]
    assert when([PLANNED, first], RecordBatchFailed("m", "m-2", 413, "too large", AT)) == [
        BatchFailed("m", "m-2", 413, "too large", AT), MailingCompleted("m", 1, 1, AT)]


def test_a_redelivered_outcome_records_nothing() -> None:
    first = BatchAccepted("m", "m-1", "sg-1", AT)

    assert when([PLANNED, first], accept("m-1", "sg-2")) == []
    assert when([PLANNED, first], RecordBatchFailed("m", "m-1", 500, "late", AT)) == []


def test_outcomes_need_a_planned_mailing_and_one_of_its_batches() -> None:
    assert refusal(lambda: when([], accept("m-1"))) == "unknown_mailing"
    assert refusal(lambda: when([PLANNED], accept("m-9"))) == "unknown_batch"


def test_recipients_left_out_of_a_batch_are_listed_with_its_outcome() -> None:
    left_out = (RecipientFailure("d-7", "s-7", "the deadline cannot be shown"),)

    assert when([PLANNED], RecordBatchAccepted("m", "m-1", "sg-1", AT, left_out)) == [
        BatchAccepted("m", "m-1", "sg-1", AT, left_out)]
    assert when([PLANNED], RecordBatchFailed("m", "m-1", 0, "invalid", AT, left_out)) == [
        BatchFailed("m", "m-1", 0, "invalid", AT, left_out)]


@pytest.mark.parametrize("failure", [RecipientFailure("", "s-7", "why"),
                                     RecipientFailure("d-7", "s-7", "")])
def test_a_recipient_failure_names_its_delivery_and_a_reason(failure: RecipientFailure) -> None:
    command = RecordBatchAccepted("m", "m-1", "sg-1", AT, (failure,))

    assert refusal(lambda: when([PLANNED], command)) == "invalid_failure"


def test_an_outcome_stored_before_failures_were_listed_reads_as_having_none() -> None:
    stored = {"mailing_id": "m", "batch_id": "m-1", "message_id": "sg-1",
              "accepted_at": "2010-09-15T09:00:00+00:00"}

    assert from_data("BatchAccepted", stored) == BatchAccepted("m", "m-1", "sg-1", AT)
    with_failure = BatchAccepted("m", "m-1", "sg-1", AT, (RecipientFailure("d", "s", "why"),))
    assert from_data("BatchAccepted", to_data(with_failure)) == with_failure


# A mailing planned in parts: the first with the plan, each later one after the one before.
FIRST_PART = replace(PLANNED, batches=BATCHES[:1], more_to_plan=True, planned_through="s-400")
SECOND = (BatchPlan("m-2", "action_launched", "ru", 3),)


def next_part(after: str | None, batches: tuple[BatchPlan, ...] = SECOND, more: bool = False,
              through: str | None = "s-900") -> PlanBatches:
    return PlanBatches("m", after, batches, more, through, AT)


def test_a_later_part_adds_its_batches_after_the_part_before() -> None:
    part = BatchesPlanned("m", SECOND, True, "s-900", AT)

    assert when([FIRST_PART], next_part("s-400", more=True)) == [part]
    state = mailing.replay([FIRST_PART, part])
    assert set(state.batches) == {"m-1", "m-2"}
    assert (state.more_to_plan, state.planned_through) == (True, "s-900")


def test_a_part_planned_before_plans_nothing_again() -> None:
    part = BatchesPlanned("m", SECOND, True, "s-900", AT)

    assert when([FIRST_PART, part], next_part("s-400", more=True)) == []
    assert when([PLANNED], next_part(None)) == []  # planned in one part: nothing follows


def test_a_part_needs_a_planned_mailing_and_batch_ids_not_used_before() -> None:
    assert refusal(lambda: when([], next_part(None))) == "unknown_mailing"
    reused = (BatchPlan("m-1", "action_launched", "en", 5),)
    assert refusal(lambda: when([FIRST_PART], next_part("s-400", reused))) == "duplicate_batch"
    too_large = (BatchPlan("m-3", "action_launched", "en", 1001),)
    assert refusal(lambda: when([FIRST_PART], next_part("s-400", too_large))) == "invalid_batch"


def test_a_mailing_with_parts_still_to_plan_is_not_complete_when_every_batch_has_an_outcome(
) -> None:
    accepted = BatchAccepted("m", "m-1", "sg-1", AT)

    assert when([FIRST_PART], accept("m-1")) == [accepted]
    assert not mailing.replay([FIRST_PART, accepted]).complete


def test_the_last_part_completes_the_mailing_once_every_batch_has_an_outcome() -> None:
    accepted = BatchAccepted("m", "m-1", "sg-1", AT)
    last = BatchesPlanned("m", SECOND, False, "s-900", AT)

    assert when([FIRST_PART], next_part("s-400")) == [last]
    assert when([FIRST_PART, last], accept("m-2")) == [
        BatchAccepted("m", "m-2", "sg-1", AT)]  # m-1 has no outcome yet
    assert when([FIRST_PART, accepted, last], accept("m-2")) == [
        BatchAccepted("m", "m-2", "sg-1", AT), MailingCompleted("m", 2, 0, AT)]


def test_a_last_part_with_nobody_in_it_completes_a_mailing_whose_batches_are_all_settled(
) -> None:
    accepted = BatchAccepted("m", "m-1", "sg-1", AT)

    assert when([FIRST_PART, accepted], next_part("s-400", (), through="s-400")) == [
        BatchesPlanned("m", (), False, "s-400", AT), MailingCompleted("m", 1, 0, AT)]


def test_a_first_part_with_nobody_in_it_but_more_to_plan_is_not_complete() -> None:
    empty = replace(PLAN, batches=(), more_to_plan=True, planned_through="s-400")

    assert when([], empty) == [MailingPlanned(**vars(empty))]


def test_a_plan_stored_before_parts_existed_reads_as_planned_in_one_part() -> None:
    stored = to_data(PLANNED)
    del stored["more_to_plan"], stored["planned_through"]

    assert from_data("MailingPlanned", stored) == PLANNED
    assert not mailing.replay([from_data("MailingPlanned", stored)]).more_to_plan

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
    BatchFailed,
    BatchPlan,
    MailingCompleted,
    MailingPlanned,
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

"""Case: given these events, when this command, then these events (or this refusal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from campaign.demo import ua_135_10 as seed
from campaign.domain import case
from campaign.domain.base import DomainEvent
from campaign.domain.case import (
    ApproveDevelopment,
    CaseClosed,
    CaseOpened,
    CloseCase,
    DevelopmentApproved,
    DevelopmentRecorded,
    DevelopmentRejected,
    DevelopmentSource,
    RejectDevelopment,
)
from campaign.domain.values import OnDate
from tests.unit.domain.scenario import refusal, run_all

LATER = datetime(2010, 9, 20, tzinfo=UTC)
OPENED = CaseOpened(**vars(seed.OPEN_CASE))
DETAINED = seed.DEVELOPMENTS_2010[0]
DETAINED_RECORDED = DevelopmentRecorded(
    **{k: v for k, v in vars(DETAINED).items() if k != "requires_approval"}, pending_approval=False
)
HEARING = seed.SUPREME_COURT_HEARING
HEARING_RECORDED = DevelopmentRecorded(
    **{k: v for k, v in vars(HEARING).items() if k != "requires_approval"}, pending_approval=True
)
CLOSED = CaseClosed(case_id=seed.CASE_ID, outcome="Died in custody, 25 July 2020.", closed_at=LATER)


def when(given: list[DomainEvent], command: case.Command) -> list[DomainEvent]:
    return case.decide(case.replay(given), command)


def refused(given: list[DomainEvent], command: case.Command) -> str:
    return refusal(lambda: when(given, command))


def approve(development_id: str) -> ApproveDevelopment:
    return ApproveDevelopment(seed.CASE_ID, development_id, approved_at=LATER)


def test_opening_a_case_records_everything_about_its_subject() -> None:
    assert when([], seed.OPEN_CASE) == [OPENED]


def test_a_case_cannot_be_opened_twice() -> None:
    assert refused([OPENED], seed.OPEN_CASE) == "already_exists"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"subject_name": ""}, "empty_subject_name"),
        ({"subject_kind": "crowd"}, "invalid_subject_kind"),
        ({"country": "Kyrgyzstan"}, "invalid_country"),
        ({"summary": "  "}, "empty_summary"),
        ({"tags": ("torture", "")}, "invalid_tag"),
        ({"opened_at": datetime(2010, 9, 15)}, "naive_datetime"),
    ],
)
def test_a_case_with_malformed_facts_is_not_opened(changes: dict[str, object], code: str) -> None:
    assert refused([], replace(seed.OPEN_CASE, **changes)) == code  # type: ignore[arg-type]


def test_recording_a_development_adds_it_to_the_history() -> None:
    events = when([OPENED], DETAINED)

    assert events == [DETAINED_RECORDED]
    state = case.replay([OPENED, *events])
    assert state.developments[DETAINED.development_id].occurred == OnDate(date(2010, 6, 15))


def test_nothing_is_recorded_on_a_case_that_was_never_opened() -> None:
    assert refused([], DETAINED) == "unknown_case"


def test_nothing_new_is_recorded_on_a_closed_case() -> None:
    assert refused([OPENED, CLOSED], DETAINED) == "case_closed"


def test_recording_the_same_development_again_changes_nothing_even_later() -> None:
    retry = replace(DETAINED, recorded_at=LATER)

    assert when([OPENED, DETAINED_RECORDED], retry) == []
    assert when([OPENED, DETAINED_RECORDED, CLOSED], retry) == []


def test_reusing_a_development_id_for_other_content_is_refused() -> None:
    other = replace(DETAINED, summary="Something else entirely.")

    assert refused([OPENED, DETAINED_RECORDED], other) == "duplicate_development"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"summary": ""}, "empty_summary"),
        ({"kind": "arrested"}, "unknown_development_kind"),
        ({"source": DevelopmentSource(kind="partner")}, "partner_id_required"),
        ({"source": DevelopmentSource(kind="partner", partner_id="")}, "partner_id_required"),
        ({"source": DevelopmentSource(kind="campaigner", partner_id="x")}, "invalid_source"),
        ({"source": DevelopmentSource(kind="rumour")}, "invalid_source"),  # type: ignore[arg-type]
        ({"recorded_at": datetime(2010, 9, 15)}, "naive_datetime"),
    ],
)
def test_a_malformed_development_is_refused(changes: dict[str, object], code: str) -> None:
    assert refused([OPENED], replace(DETAINED, **changes)) == code  # type: ignore[arg-type]


def test_a_development_that_requires_approval_is_recorded_as_pending() -> None:
    assert when([OPENED], HEARING) == [HEARING_RECORDED]
    assert case.replay([OPENED, HEARING_RECORDED]).developments[
        HEARING.development_id
    ].pending_approval


def test_approving_a_pending_development_makes_it_visible() -> None:
    events = when([OPENED, HEARING_RECORDED], approve(HEARING.development_id))

    assert events == [DevelopmentApproved(seed.CASE_ID, HEARING.development_id, LATER)]
    approved = case.replay([OPENED, HEARING_RECORDED, *events]).developments
    assert not approved[HEARING.development_id].pending_approval
    assert approved[HEARING.development_id].approved_at == LATER


def test_a_pending_development_can_still_be_approved_after_the_case_closed() -> None:
    assert when([OPENED, HEARING_RECORDED, CLOSED], approve(HEARING.development_id)) != []


def test_approving_a_development_that_is_not_pending_is_refused() -> None:
    assert refused([OPENED, DETAINED_RECORDED], approve(DETAINED.development_id)) == "not_pending"


def test_approving_twice_is_refused() -> None:
    given: list[DomainEvent] = [
        OPENED, HEARING_RECORDED, *when([OPENED, HEARING_RECORDED], approve(HEARING.development_id))
    ]
    assert refused(given, approve(HEARING.development_id)) == "not_pending"


def test_approving_an_unknown_development_is_refused() -> None:
    assert refused([OPENED], approve("nope")) == "unknown_development"
    assert refused([], approve("nope")) == "unknown_case"


def reject(development_id: str, reason: str = "Not confirmed by a second source."
           ) -> RejectDevelopment:
    return RejectDevelopment(seed.CASE_ID, development_id, reason, rejected_at=LATER)


def test_rejecting_a_pending_development_keeps_it_hidden_with_the_reason() -> None:
    events = when([OPENED, HEARING_RECORDED], reject(HEARING.development_id))

    assert events == [DevelopmentRejected(seed.CASE_ID, HEARING.development_id,
                                          "Not confirmed by a second source.", LATER)]
    rejected = case.replay([OPENED, HEARING_RECORDED, *events]).developments[
        HEARING.development_id]
    assert (rejected.pending_approval, rejected.approved_at, rejected.rejected_at,
            rejected.rejection_reason) == (False, None, LATER, "Not confirmed by a second source.")


def test_a_rejected_development_cannot_be_approved_nor_rejected_again() -> None:
    given: list[DomainEvent] = [
        OPENED, HEARING_RECORDED, *when([OPENED, HEARING_RECORDED], reject(HEARING.development_id))
    ]
    assert refused(given, approve(HEARING.development_id)) == "not_pending"
    assert refused(given, reject(HEARING.development_id)) == "not_pending"


def test_an_approved_or_published_development_cannot_be_rejected() -> None:
    approved: list[DomainEvent] = [
        OPENED, HEARING_RECORDED, *when([OPENED, HEARING_RECORDED], approve(HEARING.development_id))
    ]
    assert refused(approved, reject(HEARING.development_id)) == "not_pending"
    assert refused([OPENED, DETAINED_RECORDED], reject(DETAINED.development_id)) == "not_pending"


def test_a_rejection_needs_a_reason_and_a_known_development() -> None:
    blank = reject(HEARING.development_id, " ")
    assert refused([OPENED, HEARING_RECORDED], blank) == "empty_reason"
    assert refused([OPENED], reject("nope")) == "unknown_development"
    assert refused([], reject("nope")) == "unknown_case"


def test_closing_a_case_records_its_outcome() -> None:
    command = CloseCase(seed.CASE_ID, "Died in custody, 25 July 2020.", LATER)

    assert when([OPENED], command) == [CLOSED]
    state = case.replay([OPENED, CLOSED])
    assert (state.status, state.is_open, state.outcome) == ("closed", False, command.outcome)


def test_a_case_is_closed_only_once_and_only_if_it_exists() -> None:
    command = CloseCase(seed.CASE_ID, "Released.", LATER)

    assert refused([OPENED, CLOSED], command) == "case_closed"
    assert refused([], command) == "unknown_case"


def test_a_case_needs_an_outcome_to_close() -> None:
    assert refused([OPENED], CloseCase(seed.CASE_ID, " ", LATER)) == "empty_outcome"


def test_evolving_leaves_the_earlier_state_untouched() -> None:
    before = case.replay([OPENED])

    after = case.evolve(before, DETAINED_RECORDED)

    assert before.developments == {}
    assert list(after.developments) == [DETAINED.development_id]


def test_unknown_events_leave_the_state_as_it_was() -> None:
    state = case.replay([OPENED])

    assert case.evolve(state, DomainEvent()) is state


def test_the_seed_case_holds_its_whole_history_with_the_partner_report_pending() -> None:
    state, log = run_all(case.decide, case.evolve, case.initial_state(), seed.CASE_COMMANDS)

    assert [type(e).__name__ for e in log] == ["CaseOpened"] + ["DevelopmentRecorded"] * 6
    timeline = sorted(state.developments.values(), key=lambda d: d.occurred.day)
    assert [(d.kind, d.occurred.day.isoformat()) for d in timeline] == [
        ("detained", "2010-06-15"),
        ("charged", "2010-08-13"),
        ("hearing_held", "2010-09-02"),
        ("hearing_held", "2010-09-06"),
        ("sentenced", "2010-09-15"),
        ("hearing_scheduled", "2020-05-13"),
    ]
    assert [d.pending_approval for d in timeline] == [False] * 5 + [True]
    assert timeline[-1].source.partner_id == seed.PARTNER_ID

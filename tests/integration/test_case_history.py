"""A case's timeline joins its developments, decisions, actions, updates and closing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from campaign.application.case_history import case_history
from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain import action, case

CAMPAIGNER = Meta(actor="token:t-1", correlation_id="history")
AT = datetime(2020, 5, 20, tzinfo=UTC)


def test_the_timeline_runs_newest_first_with_each_entrys_actor(container: Container) -> None:
    load_demo(container)
    handle = container.commands.handle
    hearing = seed.SUPREME_COURT_HEARING.development_id
    handle(case.RejectDevelopment(seed.CASE_ID, hearing, "Unconfirmed.", AT), CAMPAIGNER)
    later = dataclasses.replace(seed.DEADLINE, on=seed.DEADLINE.on + timedelta(days=14))
    handle(action.PublishUpdate(action_id=seed.ACTION_ID, number=6, published_at=AT,
                                title="STILL DETAINED", deadline=later), CAMPAIGNER)
    handle(action.CloseAction(action_id=seed.ACTION_ID, reason="released", note="Freed.",
                              closed_at=AT), CAMPAIGNER)
    handle(case.CloseCase(seed.CASE_ID, "Released.", AT), CAMPAIGNER)

    with container.engine.connect() as conn:
        history = case_history(container.store, conn, seed.CASE_ID)

    assert history is not None
    kinds = [e.kind for e in history.entries]
    assert kinds[:5] == ["case_closed", "action_closed", "deadline_extended",
                         "update_published", "development_rejected"]
    assert kinds[-1] == "case_opened" and "action_launched" in kinds
    assert [e.position for e in history.entries] == sorted(
        (e.position for e in history.entries), reverse=True)
    assert {e.actor for e in history.entries[:5]} == {"token:t-1"}
    extended = history.entries[2]
    assert (extended.reference, extended.update_number, extended.new_deadline) == (
        f"UA {seed.UA_NUMBER}", 6, later)
    rejected = history.entries[4]
    assert (rejected.development_id, rejected.text, rejected.partner_id) == (
        hearing, "Unconfirmed.", seed.PARTNER_ID)
    recorded = next(e for e in history.entries if e.development_id == hearing
                    and e.kind == "development_recorded")
    assert (recorded.status, recorded.actor, recorded.decided_by) == (
        "rejected", "demo", "token:t-1")
    assert history.pending == []


def test_a_pending_development_is_listed_as_pending_and_an_unknown_case_has_no_history(
    container: Container,
) -> None:
    load_demo(container)
    with container.engine.connect() as conn:
        history = case_history(container.store, conn, seed.CASE_ID)
        assert case_history(container.store, conn, "no-such-case") is None

    assert history is not None
    assert [d.development_id for d in history.pending] == [
        seed.SUPREME_COURT_HEARING.development_id]

"""The seed carried end to end through the handlers, and the pledge policy on top of it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.domain import action
from campaign.domain.values import Deadline
from campaign.infra.tables import action_counters, actions, case_timeline, cases, pledges
from events import SubscriptionRunner

META = Meta(actor="test", correlation_id="test")


def run_policies(container: Container) -> None:
    SubscriptionRunner(container.store, container.subscriptions["pledge_policy"]).run()


def test_the_demo_loads_the_seed_case_and_action_through_the_handlers(container: Container) -> None:
    assert load_demo(container) is True
    assert load_demo(container) is False  # a second run changes nothing
    SubscriptionRunner(container.store, container.subscriptions["letter_counts"]).run()

    with container.engine.connect() as conn:
        row = conn.execute(select(actions)).one()
        case_row = conn.execute(select(cases)).one()
        timeline = conn.execute(select(case_timeline.c.kind, case_timeline.c.occurred_on,
                                       case_timeline.c.pending_approval)
                                .order_by(case_timeline.c.occurred_on)).all()
        counters = conn.execute(select(action_counters)).one()
    assert (row.ua_number, row.index_number, row.update_number) == ("135/10", "EUR 58/015/2010", 5)
    assert (row.deadline_on, row.deadline_timezone) == (date(2010, 10, 27), "Asia/Bishkek")
    assert row.document["languages"] == ["ru", "ky", "en"]
    assert row.document["own_language_welcome"] is True
    assert row.document["copies_to_diplomats"] is True
    assert [t["salutation"] for t in row.document["targets"]] == [
        "Dear Minister", "Dear General Prosecutor", None]
    assert [t["role"] for t in row.document["targets"]] == ["primary", "primary", "copy"]
    assert row.document["targets"][1]["email"] is None
    assert case_row.subject_name == "Azimzhan Askarov"
    assert [(k, d) for k, d, _ in timeline] == [
        ("detained", date(2010, 6, 15)), ("charged", date(2010, 8, 13)),
        ("hearing_held", date(2010, 9, 2)), ("hearing_held", date(2010, 9, 6)),
        ("sentenced", date(2010, 9, 15)), ("hearing_scheduled", date(2020, 5, 13)),
    ]
    assert timeline[-1].pending_approval is True  # the partner's report waits for approval
    assert counters.pledges == len(SUPPORTERS)
    assert counters.letters == sum(len(s.letters_sent) for s in SUPPORTERS)


def test_stop_action_cancels_every_open_pledge_and_leaves_fulfilled_ones(
    container: Container,
) -> None:
    load_demo(container)
    container.commands.handle(action.CloseAction(
        action_id=seed.ACTION_ID, reason="released", note="Released on appeal",
        closed_at=datetime(2010, 10, 1, tzinfo=UTC)), META)

    run_policies(container)
    run_policies(container)  # a second run finds nothing new

    with container.engine.connect() as conn:
        statuses = dict(conn.execute(select(pledges.c.status, func.count())
                                     .group_by(pledges.c.status)).all())
    assert statuses == {"cancelled": 2, "fulfilled": 2}


def test_a_deadline_extension_moves_the_due_time_of_open_pledges_only(
    container: Container,
) -> None:
    load_demo(container)
    later = action.PublishUpdate(
        action_id=seed.ACTION_ID, number=6, published_at=datetime(2010, 10, 20, tzinfo=UTC),
        deadline=Deadline(on=date(2010, 11, 30), timezone="Asia/Bishkek"))
    container.commands.handle(later, META)

    run_policies(container)

    with container.engine.connect() as conn:
        due = {(status, due_at.replace(tzinfo=UTC) if due_at.tzinfo is None else due_at)
               for status, due_at in conn.execute(select(pledges.c.status, pledges.c.due_at))}
    new_end = datetime(2010, 11, 30, 18, tzinfo=UTC)   # midnight after 30 Nov in Bishkek
    old_end = datetime(2010, 10, 27, 18, tzinfo=UTC)
    assert due == {("open", new_end), ("fulfilled", old_end)}

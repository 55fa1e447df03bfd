"""A large audience planned in parts, each its own transaction: the same people, once each."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.domain import action, mailing, supporter
from campaign.infra.tables import mail_batches, mail_deliveries
from campaign.mail import planning
from campaign.mail.planning import launch_mailing_id, plan_mailings
from events import SubscriptionRunner

META = Meta(actor="test", correlation_id="parts")
AT = datetime(2010, 9, 20, tzinfo=UTC)
PART = 25
NEWCOMERS = 110
LAUNCH = launch_mailing_id(seed.ACTION_ID)


def launched(container: Container) -> list[str]:
    """The seed case and action, launched (its update not published yet), and supporters
    enough for several parts."""
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS):
        if not isinstance(command, action.PublishUpdate):
            container.commands.handle(command, META)
    return newcomers(container)


def runner(container: Container) -> SubscriptionRunner:
    """A planner as a fresh process starts one: nothing remembered of an earlier run."""
    return SubscriptionRunner(container.store, plan_mailings(container.commands, PART))


def newcomers(container: Container, count: int = NEWCOMERS) -> list[str]:
    ids = []
    for n in range(count):
        supporter_id = register_supporter(
            container.commands, container.blind_index,
            Registration(f"n{n}@example.org", f"Newcomer {n}", ("fr", "ru")[n % 2], "FR",
                         "Europe/Paris"),
            META, AT)
        container.commands.handle(supporter.ConfirmConsent(supporter_id=supporter_id,
                                                          confirmed_at=AT), META)
        ids.append(supporter_id)
    return ids


def stream_types(container: Container, mailing_id: str) -> list[str]:
    return [e.type for e in container.store.read_stream(mailing.mailing_stream(mailing_id))]


def deliveries(container: Container, mailing_id: str) -> Counter[str]:
    with container.engine.connect() as conn:
        return Counter(conn.execute(select(mail_deliveries.c.supporter_id).where(
            mail_deliveries.c.mailing_id == mailing_id)).scalars())


def launch_state(container: Container) -> mailing.State:
    with container.engine.connect() as conn:
        state, _ = container.commands.load(conn, mailing.mailing_stream(LAUNCH),
                                           mailing.AGGREGATE)
    return state


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages smaller than a part, so a part spans several statements."""
    monkeypatch.setattr(planning, "PAGE_SIZE", 10)


@pytest.mark.usefixtures("small_pages")
def test_a_launch_planned_in_parts_reaches_the_audience_planned_in_one_once_each(
    container: Container,
) -> None:
    launched(container)
    with container.engine.connect() as conn:
        audience = {r.supporter_id for r in planning.eligible_subscribers(conn, seed.ACTION_ID)}

    runner(container).run()
    runner(container).run()  # read again: nothing new

    planned = deliveries(container, LAUNCH)
    assert set(planned) == audience and set(planned.values()) == {1}
    types = stream_types(container, LAUNCH)
    parts = -(-NEWCOMERS // PART)
    assert types == ["MailingPlanned", *["BatchesPlanned"] * (parts - 1)]
    state = launch_state(container)
    assert not state.more_to_plan and len(state.batches) > parts  # two languages a part
    assert sum(b.recipients for b in state.batches.values()) == len(audience)
    assert list(state.batches) == [f"{LAUNCH}-{n}" for n in range(1, len(state.batches) + 1)]
    with container.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(mail_batches).where(
            mail_batches.c.mailing_id == LAUNCH)).scalar_one()
    assert rows == len(state.batches)


def test_each_part_commits_on_its_own_so_sending_can_start_before_the_last(
    container: Container,
) -> None:
    launched(container)
    planner = runner(container)

    planner.run_batch()  # the launch's first part

    state = launch_state(container)
    assert state.planned and state.more_to_plan
    assert stream_types(container, LAUNCH)[0] == "MailingPlanned"
    assert 0 < sum(deliveries(container, LAUNCH).values()) <= PART


def test_a_planner_stopped_between_parts_resumes_after_the_last_part_it_planned(
    container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    launched(container)
    with container.engine.connect() as conn:
        audience = {r.supporter_id for r in planning.eligible_subscribers(conn, seed.ACTION_ID)}
    first = runner(container)
    first.run_batch()
    first.run_batch()  # two parts committed

    written = 0
    real_insert = planning.insert_rows

    def killed_mid_part(*args: object, **kwargs: object) -> None:
        nonlocal written
        written += 1
        real_insert(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # the process dies with this part's rows written, uncommitted

    monkeypatch.setattr(planning, "insert_rows", killed_mid_part)
    with pytest.raises(KeyboardInterrupt):
        runner(container).run_batch()
    monkeypatch.setattr(planning, "insert_rows", real_insert)
    assert written == 1

    runner(container).run()  # a new process takes over

    planned = deliveries(container, LAUNCH)
    assert set(planned) == audience and set(planned.values()) == {1}
    assert not launch_state(container).more_to_plan


def test_a_supporter_who_withdraws_before_their_part_is_planned_is_not_mailed(
    container: Container,
) -> None:
    late = max(launched(container))  # the last supporter id: in the last part
    runner(container).run_batch()
    assert late not in deliveries(container, LAUNCH)

    container.commands.handle(supporter.Unsubscribe(supporter_id=late, at=AT, via="link"), META)
    runner(container).run()

    assert late not in deliveries(container, LAUNCH)
    assert not launch_state(container).more_to_plan


def test_an_update_published_while_its_launch_is_planned_reaches_every_launch_recipient(
    container: Container,
) -> None:
    launched(container)
    runner(container).run_batch()  # the launch's first part
    container.commands.handle(seed.FIFTH_UPDATE, META)

    runner(container).run()

    launch = deliveries(container, LAUNCH)
    assert len(launch) == NEWCOMERS
    assert deliveries(container, update_mailing(container)) == launch


def test_a_launch_and_its_update_read_together_are_each_planned_for_everyone(
    container: Container,
) -> None:
    load_demo(container)  # the launch, then an update, both in the log before planning
    newcomers(container)

    runner(container).run()

    launch = deliveries(container, LAUNCH)
    assert len(launch) == len(SUPPORTERS) + NEWCOMERS and set(launch.values()) == {1}
    assert deliveries(container, update_mailing(container)) == launch


def update_mailing(container: Container) -> str:
    (update,) = [e for e in container.store.read_stream(action.action_stream(seed.ACTION_ID))
                 if e.type == action.ActionUpdated.type_name]
    return planning.mailing_id_for("action_updated", seed.ACTION_ID, update)

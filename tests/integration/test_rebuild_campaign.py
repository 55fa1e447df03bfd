"""Every projection rebuilt from a campaign's log equals what it built live.

The log is a small campaign's, written through the product's own paths: a case with its
developments, an action drafted, translated, launched, mailed to its supporters, updated
with a later deadline and stopped; supporters signing up, confirming, changing their
preferences, leaving, erased; pledges, letters, a fulfilment. Inline projections follow
each append; the clock's subscriptions run between the steps, and the mail is sent as the
workers would. A rebuild (large pages, types filtered in SQL, batch writes) must then give
back every projection's tables row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Connection, Engine, Table, select

from campaign.application.commands import Meta
from campaign.application.pledges import SentLetter, confirm_letter, make_pledge
from campaign.application.supporters import Registration, erase_supporter, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import action, case, preferences, supporter
from campaign.domain.values import Deadline
from campaign.infra.tables import mail_batches
from events import Projection, StoredEvent, SubscriptionRunner, projections, rebuild
from events.projections import Replay

META = Meta(actor="token:campaigner", correlation_id="rebuild-tests")
LAUNCHED = datetime(2010, 9, 15, 7, tzinfo=UTC)
DEADLINE = Deadline(on=date(2010, 10, 27), timezone=seed.TIMEZONE)


NOT_FROM_THE_LOG = {"mail_batches.last_attempt_at"}  # stamped by the worker (and documented)


def table_rows(engine: Engine, table: Table) -> list[tuple[Any, ...]]:
    columns = [c for c in table.c if f"{table.name}.{c.name}" not in NOT_FROM_THE_LOG]
    with engine.connect() as conn:
        order = list(table.primary_key) or columns
        return [tuple(r) for r in conn.execute(select(*columns).order_by(*order))]


def tables_of(container: Container, projection: Projection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each of the projection's tables, by table name."""
    return {t.name: table_rows(container.engine, t) for t in projection.tables}


class Plain:
    """A projection seen without its replay: a rebuild then applies it page by page."""

    def __init__(self, projection: Projection) -> None:
        self._projection = projection

    def __getattr__(self, name: str) -> Any:
        if name == "replay":
            raise AttributeError(name)
        return getattr(self._projection, name)


class Watched:
    """A projection whose replay notes that it went through: a replay that fails leaves
    the rebuild to `apply`, page by page, which would hide the replay's fault."""

    def __init__(self, projection: Projection) -> None:
        self._projection = projection
        self.finished = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._projection, name)

    def replay(self) -> Replay:
        inner = cast(Replay, self._projection.replay())  # type: ignore[attr-defined]
        watched = self

        class Noting:
            def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
                inner.apply(conn, events)

            def finish(self, conn: Connection) -> None:
                inner.finish(conn)
                watched.finished = True

        return Noting()


def subscriptions(container: Container) -> None:
    for subscription in container.subscriptions.values():
        SubscriptionRunner(container.store, subscription).run()


def clock(container: Container) -> None:
    """What the clock and the workers do: every subscription, then every batch sent."""
    subscriptions(container)
    with container.engine.connect() as conn:
        waiting = conn.execute(select(mail_batches.c.batch_id)
                               .where(mail_batches.c.outcome.is_(None))).scalars().all()
    for batch_id in waiting:
        container.batches.send(batch_id, datetime.now(UTC))
    subscriptions(container)


def sign_up(container: Container, n: int, at: datetime) -> str:
    locale, country = [("en", "GB"), ("ru", "KG"), ("es", "AR")][n % 3]
    form = Registration(f"reader.{n}@example.org", f"Reader {n}", locale, country,
                        "Europe/London")
    supporter_id = register_supporter(container.commands, container.blind_index, form, META, at)
    if n % 4:
        container.commands.handle(supporter.ConfirmConsent(supporter_id, confirmed_at=at), META)
    return supporter_id


def campaign(container: Container) -> None:
    """A small campaign, live, with the clock running between its steps."""
    handle = container.commands.handle
    for command in seed.CASE_COMMANDS:
        handle(command, META)
    people = [sign_up(container, n, LAUNCHED - timedelta(days=1)) for n in range(12)]
    handle(replace(seed.DRAFT, deadline=DEADLINE), META)
    handle(seed.IN_RUSSIAN, META)
    handle(seed.LAUNCH, META)
    subscriptions(container)  # the launch's mail planned, not sent yet: one reader leaves
    erase_supporter(container.commands, container.vault, people[3], "supporter", META,
                    LAUNCHED + timedelta(minutes=5))
    clock(container)
    for n, supporter_id in enumerate(people):
        at = LAUNCHED + timedelta(hours=n)
        if n % 4 == 0 or n == 3:
            continue
        make_pledge(container.commands, seed.ACTION_ID, supporter_id, (), 3, META, at)
        for k, target in enumerate(seed.TARGETS[:n % 4]):
            sent = SentLetter(f"letter-{k}", target.target_id, "post", at.date())
            confirm_letter(container.commands, seed.ACTION_ID, supporter_id, sent, META,
                           at + timedelta(hours=1))
        if n % 5 == 1:
            clock(container)
    handle(preferences.ChangePreferences(people[1], "es", "AR", "America/Argentina/Buenos_Aires",
                                         LAUNCHED + timedelta(days=1)), META)
    handle(supporter.Unsubscribe(people[2], at=LAUNCHED + timedelta(days=1), via="link"), META)
    handle(case.ApproveDevelopment(seed.CASE_ID, seed.SUPREME_COURT_HEARING.development_id,
                                   LAUNCHED + timedelta(days=2)), META)
    later = Deadline(on=DEADLINE.on + timedelta(days=7), timezone=seed.TIMEZONE)
    handle(replace(seed.FIFTH_UPDATE, number=seed.UPDATE_NUMBER + 1,
                   published_at=LAUNCHED + timedelta(days=2), deadline=later), META)
    clock(container)
    handle(action.CloseAction(seed.ACTION_ID, "released", "Released.",
                              LAUNCHED + timedelta(days=3)), META)
    clock(container)


def test_every_projection_rebuilt_from_a_campaign_equals_what_it_built_live(
    container: Container,
) -> None:
    campaign(container)

    for projection in container.projections.values():
        live = tables_of(container, projection)
        rebuild(container.store, projection)
        assert tables_of(container, projection) == live, projection.name


def test_a_rebuild_in_pages_smaller_than_the_log_equals_one_in_a_single_page(
    container: Container,
) -> None:
    campaign(container)

    for projection in container.projections.values():
        rebuild(container.store, projection, batch_size=100_000)
        whole = tables_of(container, projection)
        rebuild(container.store, projection, batch_size=7)
        assert tables_of(container, projection) == whole, projection.name


@pytest.mark.parametrize("rows_held", [projections.REPLAY_ROWS, 3])
def test_a_projection_replayed_on_its_own_fold_equals_it_applied_page_by_page(
    container: Container, monkeypatch: pytest.MonkeyPatch, rows_held: int,
) -> None:
    """With 3 rows held, a replay writes its rows many times over the log: later events
    change rows already written, as they do in a log longer than `REPLAY_ROWS` rows."""
    monkeypatch.setattr(projections, "REPLAY_ROWS", rows_held)
    campaign(container)
    replaying = [p for p in container.projections.values() if hasattr(p, "replay")]

    for projection in replaying:
        rebuild(container.store, cast(Projection, Plain(projection)), batch_size=7)
        plain = tables_of(container, projection)
        watched = Watched(projection)
        rebuild(container.store, cast(Projection, watched), batch_size=7)
        assert watched.finished, projection.name
        assert tables_of(container, projection) == plain, projection.name
    assert {p.name for p in replaying} >= {
        "stream_directory", "pledges", "supporters", "daily_activity"}


def test_the_campaign_leaves_rows_in_every_projection_but_two(
    container: Container,
) -> None:
    campaign(container)

    empty = [p.name for p in container.projections.values()
             if not any(tables_of(container, p).values())]
    # No partner, and no reader the provider's rules leave out of a batch.
    assert empty == ["mail_recipient_failures", "partners"]

"""Partner payloads read a case's or action's history as every reader does: upcast."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import action, case, letter_reports
from campaign.domain.values import Deadline, OnDate
from campaign.partners.payloads import PartnerEvent, partner_event
from events import EventStore, StoredEvent, Upcasters

META = Meta(actor="test", correlation_id="upcast")


def test_payloads_describe_the_history_as_the_upcasters_give_it(container: Container) -> None:
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS):
        container.commands.handle(command, META)
    upcasters = Upcasters()

    @upcasters.register("ActionDrafted", 1)
    def louder_title(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "title": data["title"].upper()}

    @upcasters.register("DevelopmentRecorded", 1)
    def marked_summary(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "summary": "[v2] " + data["summary"]}

    store = EventStore(container.engine, upcasters=upcasters)
    with container.engine.connect() as conn:
        built = [partner_event(store, conn, stored)
                 for stored in store.read_all(0, 1_000, conn=conn)]
    seen = [event for event in built if event is not None]

    launched = next(e for e in seen if e.type == "action.launched")
    assert launched.data["title"] == seed.TITLE.upper()
    developments = [e for e in seen if e.type == "case.development_recorded"]
    assert developments
    assert all(e.data["summary"].startswith("[v2] ") for e in developments)


# Payloads as of their event, without replaying the stream


def busy_history(container: Container) -> None:
    """The seed, then updates, a deadline moved, developments held, approved and rejected,
    letter reports and closures, the streams' events interleaved in the log."""
    handle = container.commands.handle
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS):
        handle(command, META)
    at = datetime(2010, 9, 20, 9, tzinfo=UTC)
    handle(letter_reports.RecordLetterTotal(action_id=seed.ACTION_ID, letters=150,
                                            counted_at=at), META)
    for n in range(3):
        held = f"held-{n}"
        handle(case.RecordDevelopment(
            case_id=seed.CASE_ID, development_id=held, kind="hearing_scheduled",
            occurred=OnDate(date(2010, 10, 1 + n)), summary=f"Hearing {n} reported.",
            source=case.DevelopmentSource(kind="partner", partner_id="partner-x"),
            recorded_at=at + timedelta(hours=n), requires_approval=True), META)
        handle(action.PublishUpdate(
            action_id=seed.ACTION_ID, number=seed.UPDATE_NUMBER + 1 + n,
            published_at=at + timedelta(hours=n, minutes=5), title=f"Update {n}",
            deadline=Deadline(on=date(2010, 11, 1 + n), timezone=seed.TIMEZONE)
            if n != 1 else None), META)
        if n == 1:
            handle(case.RejectDevelopment(case_id=seed.CASE_ID, development_id=held,
                                          reason="Not confirmed.",
                                          rejected_at=at + timedelta(hours=n, minutes=9)),
                   META)
        else:
            handle(case.ApproveDevelopment(case_id=seed.CASE_ID, development_id=held,
                                           approved_at=at + timedelta(hours=n, minutes=10)),
                   META)
    handle(letter_reports.ReportDailyLetterCounts(
        action_id=seed.ACTION_ID, day=date(2010, 9, 20), reported_at=at + timedelta(days=1),
        per_target=(letter_reports.TargetLetters(seed.TARGETS[0].target_id, 40),
                    letter_reports.TargetLetters("gone-official", 2))), META)
    handle(letter_reports.RecordLetterTotal(action_id=seed.ACTION_ID, letters=1_200,
                                            counted_at=at + timedelta(days=2)), META)
    handle(action.CloseAction(action_id=seed.ACTION_ID, reason="released",
                              note="He was released.", closed_at=at + timedelta(days=3)),
           META)


def replayed(engine: Engine, conn: Connection, stored: StoredEvent) -> PartnerEvent | None:
    """The event built by a store that remembers nothing: the stream replayed from 1."""
    return partner_event(EventStore(engine), conn, stored)


def test_payloads_built_in_any_order_equal_the_ones_a_full_replay_gives(
    container: Container,
) -> None:
    busy_history(container)
    with container.engine.connect() as conn:
        log = container.store.read_all(0, 1_000, conn=conn)
        expected = {s.position: replayed(container.engine, conn, s) for s in log}
        assert {e.type for e in expected.values() if e is not None} == {
            "action.launched", "action.updated", "action.closed", "case.development_recorded",
            "action.letters_milestone", "action.daily_letter_counts"}
        shuffled = list(log)
        random.Random(15).shuffle(shuffled)
        for order in (log, log[::-1], shuffled, log):
            store = EventStore(container.engine)  # one memory per order
            built = {s.position: partner_event(store, conn, s) for s in order}
            assert built == expected


class CountingStore(EventStore):
    """The product's store, counting the events it reads from streams."""

    read_events = 0

    def read_stream(self, *args: Any, **kwargs: Any) -> list[StoredEvent]:
        found = super().read_stream(*args, **kwargs)
        self.read_events += len(found)
        return found


def test_payloads_built_in_log_order_read_each_event_of_the_stream_at_most_once(
    container: Container,
) -> None:
    container.commands.handle(seed.OPEN_CASE, META)
    developments = 30
    for n in range(developments):
        container.commands.handle(case.RecordDevelopment(
            case_id=seed.CASE_ID, development_id=f"d-{n}", kind="other",
            occurred=OnDate(date(2011, 1, 1) + timedelta(days=n)), summary=f"Development {n}.",
            source=case.DevelopmentSource(kind="campaigner"),
            recorded_at=datetime(2011, 2, 1, tzinfo=UTC) + timedelta(hours=n)), META)
    stream = case.case_stream(seed.CASE_ID)
    log = [s for s in container.store.read_all(0, 1_000) if s.stream_id == stream]
    store = CountingStore(container.engine)
    with container.engine.connect() as conn:
        built = [partner_event(store, conn, s) for s in log[10:]]  # from the middle on
    assert sum(1 for b in built if b is not None) == developments - 9
    assert store.read_events == 11  # up to the first one asked for, once; not 11 + … + 31

    store = CountingStore(container.engine)
    with container.engine.connect() as conn:
        for stored in log:
            partner_event(store, conn, stored)
    assert store.read_events == 0  # the log's own events were all it needed

    with container.engine.connect() as conn:  # a reader far behind moves a state of its own
        again = [partner_event(store, conn, s) for s in log[5:]]
        assert store.read_events == 6
        assert again == [replayed(container.engine, conn, s) for s in log[5:]]

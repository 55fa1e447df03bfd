"""Which folded writes an append runs: one per projection, before the rest of its events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table

from events import StoredEvent
from events.projections import FoldedWrite, Mode, fold_plan

OPENED = FoldedWrite(frozenset({"Opened"}), "INSERT ...")
NOTED = FoldedWrite(frozenset({"Noted"}), "UPDATE ...")


@dataclass
class Folding:
    name: str = "folding"
    mode: Mode = "inline"
    event_types: frozenset[str] | None = frozenset({"Opened", "Noted", "Closed"})
    tables: Sequence[Table] = ()
    folded: tuple[FoldedWrite, ...] = field(default=(OPENED, NOTED))

    def apply(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        raise AssertionError("not called")


def test_the_write_for_the_first_event_runs_when_its_events_come_first() -> None:
    assert fold_plan([Folding()], ["Opened"]) == {"folding": OPENED}
    assert fold_plan([Folding()], ["Noted", "Noted", "Closed"]) == {"folding": NOTED}
    assert fold_plan([Folding()], ["Other", "Opened"]) == {"folding": OPENED}
    assert fold_plan([Folding()], ["Opened", "Noted"]) == {"folding": OPENED}  # Noted applied


def test_no_write_runs_when_the_projections_other_events_come_between() -> None:
    assert fold_plan([Folding()], ["Noted", "Closed", "Noted"]) == {}
    assert fold_plan([Folding()], ["Closed", "Noted"]) == {}


def test_catch_up_projections_and_projections_without_writes_fold_nothing() -> None:
    assert fold_plan([Folding(mode="catch-up")], ["Opened"]) == {}
    assert fold_plan([Folding(folded=())], ["Opened"]) == {}
    assert fold_plan([Folding()], ["Other"]) == {}

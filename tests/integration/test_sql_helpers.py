"""Where SQL differs by database: upserts that claim, bulk inserts, and advisory slots."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, DateTime, Engine, Integer, MetaData, Table, Text, func, select

from events.sql import advisory_slot, insert_rows, merge_rows, upsert

claims = Table("claims", MetaData(), Column("key", Text(), primary_key=True),
               Column("seen", Integer(), nullable=False))


notes = Table("notes", MetaData(), Column("key", Text(), primary_key=True),
              Column("body", Text(), nullable=True), Column("at", DateTime(timezone=True)),
              Column("made", DateTime(timezone=True), server_default=func.now()))


def make_table(engine: Engine) -> None:
    claims.create(engine)


def test_a_bulk_insert_writes_every_row_as_given_and_defaults_the_rest(engine: Engine) -> None:
    notes.create(engine)
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    odd = "tab\there, \\ back\\slash, \"quote\", new\nline, ünï, NULL, \\N"
    rows = [{"key": f"k{n}", "body": odd if n == 1 else None if n == 2 else f"b{n}", "at": at}
            for n in range(2_500)]
    with engine.begin() as conn:
        insert_rows(conn, notes, rows)
        insert_rows(conn, notes, [])
        found = conn.execute(select(notes.c.key, notes.c.body, notes.c.at, notes.c.made)
                             .order_by(notes.c.key)).all()

    assert sorted((r.key, r.body) for r in found) == sorted((r["key"], r["body"]) for r in rows)
    assert all(r.made is not None and r.at.replace(tzinfo=UTC) == at for r in found)


documents = Table("documents", MetaData(), Column("key", Text(), primary_key=True),
                  Column("body", JSON(), nullable=False))


def test_a_bulk_insert_writes_json_columns_from_python_values(engine: Engine) -> None:
    documents.create(engine)
    rows = [{"key": "list", "body": ["a", "ü"]}, {"key": "object", "body": {"n": 1, "x": None}},
            {"key": "text", "body": "tab\there"}]
    with engine.begin() as conn:
        insert_rows(conn, documents, rows)
        found = conn.execute(select(documents).order_by(documents.c.key)).all()

    assert [(r.key, r.body) for r in found] == [(r["key"], r["body"]) for r in rows]


def test_an_upsert_with_returning_names_only_the_rows_it_inserted(engine: Engine) -> None:
    make_table(engine)
    with engine.begin() as conn:
        first = upsert(conn, claims, [{"key": k, "seen": 1} for k in ("a", "b")], ["key"],
                       returning=claims.c.key)
        again = upsert(conn, claims, [{"key": k, "seen": 2} for k in ("b", "c")], ["key"],
                       returning=claims.c.key)
        rows = dict(conn.execute(select(claims.c.key, claims.c.seen)).all())

    assert (first, again) == ({"a", "b"}, {"c"})
    assert rows == {"a": 1, "b": 1, "c": 2}  # a claim never overwrites


def test_an_upsert_with_set_updates_the_row_there(engine: Engine) -> None:
    make_table(engine)
    with engine.begin() as conn:
        for _ in range(3):
            upsert(conn, claims, [{"key": "a", "seen": 1}], ["key"],
                   lambda new: {"seen": claims.c.seen + new.seen})
        assert conn.execute(select(claims.c.seen)).scalar_one() == 3


def test_a_merge_inserts_new_rows_and_updates_the_rows_there_each_time(engine: Engine) -> None:
    make_table(engine)
    with engine.begin() as conn:
        upsert(conn, claims, [{"key": "a", "seen": 1}], ["key"])
        for keys in (["a", "b"], ["b", "c"]):  # twice in one transaction
            merge_rows(conn, claims, [{"key": k, "seen": 1} for k in keys], ["key"],
                       lambda new: {"seen": claims.c.seen + new.seen})
        merge_rows(conn, claims, [], ["key"], lambda new: {})
        rows = dict(conn.execute(select(claims.c.key, claims.c.seen)).all())

    assert rows == {"a": 2, "b": 2, "c": 1}


def test_a_slot_held_elsewhere_is_refused_until_released(engine: Engine) -> None:
    with advisory_slot(engine, "batch-1") as first:
        with advisory_slot(engine, "batch-1") as second, \
                advisory_slot(engine, "batch-2") as other:
            assert (first, second, other) == (True, False, True)
    with advisory_slot(engine, "batch-1") as after:
        assert after


def test_several_slots_admit_that_many_holders(engine: Engine) -> None:
    held: list[bool] = []
    with engine.connect() as a, engine.connect() as b, engine.connect() as c:
        conns = [x.execution_options(isolation_level="AUTOCOMMIT") for x in (a, b, c)]
        with advisory_slot(conns[0], "partner", slots=2, scope="session") as one, \
                advisory_slot(conns[1], "partner", slots=2, scope="session") as two, \
                advisory_slot(conns[2], "partner", slots=2, scope="session") as three:
            held = [one, two, three]
        with advisory_slot(conns[2], "partner", slots=2, scope="session") as later:
            assert later
    assert held == [True, True, False]


def test_a_waiting_slot_is_granted_once_the_holder_lets_go(engine: Engine) -> None:
    order: list[str] = []
    holding, done = threading.Event(), threading.Event()

    def holder() -> None:
        with engine.begin() as conn, advisory_slot(conn, "outcomes", wait=True):
            order.append("first")
            holding.set()
            done.wait(0.3)
            order.append("first ends")

    thread = threading.Thread(target=holder)
    thread.start()
    holding.wait(5)
    with engine.begin() as conn, advisory_slot(conn, "outcomes", wait=True) as got:
        order.append("second")
    thread.join()

    assert got
    if engine.dialect.name == "postgresql":  # SQLite's writers queue in the database instead
        assert order == ["first", "first ends", "second"]

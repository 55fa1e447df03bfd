"""The SQL that differs between PostgreSQL and SQLite, written once: upserts, bulk inserts and
advisory slots.

Every other module writes portable SQLAlchemy Core. Where the two databases need different
statements, the difference lives here (and in `events.backends`), and nowhere else.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any, Literal

from psycopg.rows import namedtuple_row
from psycopg.types.json import Json
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    MetaData,
    Select,
    Table,
    bindparam,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

Scope = Literal["transaction", "session"]


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    set_: Callable[[Any], dict[str, Any]] | None = None,
    *,
    returning: Column[Any] | None = None,
) -> set[Any]:
    """Insert `rows`; on a key clash update with `set_(excluded)`, or keep the row there.

    With `returning`, the values of that column for the rows actually inserted: a row whose
    key was there already is left out, which makes the upsert a claim ("first one wins").
    A concurrent claim of the same key waits for the first to commit, then gets nothing.
    """
    if not rows:
        return set()
    statement = _upsert_statement(conn.dialect.name, table, keys, set_)
    if returning is None:
        # RETURNING makes SQLAlchemy send many rows per statement ("insertmanyvalues"),
        # not one statement per row: thousands of rows in a few round trips.
        conn.execute(statement.returning(*table.primary_key or table.c), list(rows)).all()
        return set()
    return set(conn.execute(statement.returning(returning), list(rows)).scalars())


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows at once: PostgreSQL's COPY (a tenth of the INSERTs' time for
    thousands of rows), elsewhere one executemany. Values of JSON columns are Python values,
    as SQLAlchemy takes them."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(table.insert().returning(*table.primary_key or table.c), list(rows)).all()
        return
    names = list(rows[0])
    json_at = [n for n, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
    values_of = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    if not json_at:
        insert_values(conn, table, names, [values_of(row) for row in rows])
        return
    values = []
    for row in rows:  # a loop, not nested comprehensions: no call per row
        value = list(values_of(row))
        for n in json_at:
            value[n] = Json(value[n])
        values.append(value)
    insert_values(conn, table, names, values)


def insert_values(conn: Connection, table: Table, names: Sequence[str],
                  rows: Sequence[Sequence[Any]]) -> None:
    """`insert_rows` for rows given as values in the order of `names`, as the driver takes
    them (a JSON value wrapped, as `insert_rows` does): a writer of many narrow rows builds
    no dictionary per row (the audit's rebuild)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        insert_rows(conn, table, [dict(zip(names, row, strict=True)) for row in rows])
        return
    quote = conn.dialect.identifier_preparer
    statement = (f"COPY {quote.format_table(table)} "
                 f"({', '.join(quote.quote(n) for n in names)}) FROM STDIN")
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[attr-defined]
        for row in rows:
            copy.write_row(row)


def merge_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]],
               keys: Sequence[str], set_: Callable[[Any], dict[str, Any]]) -> None:
    """`upsert` for many rows at once: insert `rows`, on a key clash update the row there
    with `set_(excluded)`. On PostgreSQL the rows are copied into a temporary table (no WAL)
    and merged by one INSERT ... SELECT ... ON CONFLICT; elsewhere an executemany upsert."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        upsert(conn, table, rows, keys, set_)
        return
    names = list(rows[0])
    held = Table(f"merging_{table.name}", MetaData(),
                 *(Column(n, table.c[n].type) for n in names))
    quote = conn.dialect.identifier_preparer
    conn.execute(text(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote.format_table(held)} ON COMMIT DROP AS "
        f"SELECT {', '.join(quote.quote(n) for n in names)} "
        f"FROM {quote.format_table(table)} WITH NO DATA"))
    conn.execute(text(f"TRUNCATE {quote.format_table(held)}"))
    insert_rows(conn, held, rows)
    statement = pg_insert(table).from_select(names, select(*held.c))
    conn.execute(statement.on_conflict_do_update(index_elements=list(keys),
                                                 set_=set_(statement.excluded)))


def update_rows(conn: Connection, table: Table, key: str,
                rows: Sequence[tuple[Any, dict[str, Any]]]) -> None:
    """Set columns of many rows, given as (key value, {column: value}): one executemany per
    set of columns, in key order."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for value, columns in sorted(rows, key=lambda row: row[0]):
        params = {f"v_{name}": v for name, v in columns.items()}
        shapes.setdefault(tuple(sorted(columns)), []).append({"k": value, **params})
    for names, batch in shapes.items():
        statement = (table.update().where(table.c[key] == bindparam("k"))
                     .values({n: bindparam(f"v_{n}", type_=table.c[n].type) for n in names}))
        conn.execute(statement, batch)


def _upsert_statement(
    dialect: str, table: Table, keys: Sequence[str], set_: Callable[[Any], dict[str, Any]] | None,
) -> Any:
    maker = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = maker(table)
    updates = set_(statement.excluded) if set_ else None
    return (statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
            if updates else statement.on_conflict_do_nothing(index_elements=list(keys)))


class Upsert:
    """`upsert` with its statement built once per dialect, for a hot path (building the
    statement cost more than running it)."""

    def __init__(self, table: Table, keys: Sequence[str],
                 set_: Callable[[Any], dict[str, Any]] | None = None) -> None:
        self.table, self.keys, self.set_ = table, tuple(keys), set_
        self._built: dict[str, Any] = {}

    def __call__(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows`; on a key clash update with `set_(excluded)`, or keep the row there."""
        if not rows:
            return
        dialect = conn.dialect.name
        statement = self._built.get(dialect)
        if statement is None:  # two threads may both build it: either is as good
            statement = _upsert_statement(dialect, self.table, self.keys, self.set_)
            self._built[dialect] = statement
        conn.execute(statement, list(rows))


class DriverRead:
    """A read built once with SQLAlchemy Core and run on the driver's own cursor on
    PostgreSQL (psycopg), in the connection's transaction: on a hot path SQLAlchemy's
    execution and result machinery cost more than the query. Elsewhere (SQLite) it runs
    through SQLAlchemy. Rows are named tuples either way, with the values psycopg and
    SQLAlchemy both give for the columns' types (read only columns of plain types)."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._sql: str | None = None

    def rows(self, conn: Connection, params: dict[str, Any]) -> Sequence[Any]:
        """Every row of the read with `params` bound by name."""
        if conn.dialect.driver != "psycopg":
            return conn.execute(self.statement, params).all()
        if self._sql is None:
            self._sql = str(self.statement.compile(dialect=conn.dialect))
        driver: Any = conn.connection.dbapi_connection
        with driver.cursor(row_factory=namedtuple_row) as cursor:
            cursor.execute(self._sql, params)
            found: list[Any] = cursor.fetchall()
        return found


def driver_rows(conn: Connection, statement: Select[Any]) -> Sequence[Any]:
    """Every row of `statement` as plain tuples, on the driver's own cursor on PostgreSQL
    (psycopg) and through SQLAlchemy elsewhere: for a read of many rows at once, where
    SQLAlchemy's result rows cost more than building the caller's objects from them. The
    values are those `DriverRead` promises (plain column types, JSON parsed by psycopg)."""
    if conn.dialect.driver != "psycopg":
        return conn.execute(statement).all()
    compiled = statement.compile(dialect=conn.dialect,
                                 compile_kwargs={"render_postcompile": True})
    driver: Any = conn.connection.dbapi_connection
    with driver.cursor() as cursor:
        cursor.execute(str(compiled), compiled.params)
        found: list[Any] = cursor.fetchall()
    return found


_local: Counter[str] = Counter()
_local_guard = threading.Lock()
_TRY_XACT = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))")
_WAIT_XACT = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")
_TRY_SESSION = text("SELECT pg_try_advisory_lock(hashtextextended(:k, 0))")
_WAIT_SESSION = text("SELECT pg_advisory_lock(hashtextextended(:k, 0))")
_UNLOCK = text("SELECT pg_advisory_unlock(hashtextextended(:k, 0))")


@contextmanager
def advisory_slot(
    bind: Connection | Engine, key: str, *, slots: int = 1, scope: Scope = "transaction",
    wait: bool = False,
) -> Iterator[bool]:
    """Hold one of `slots` slots named `key` for the block; False when every slot is taken.

    PostgreSQL: an advisory lock on `key` (or on `key:0` … `key:<slots-1>` for several
    slots), so it holds across every process and ends with the connection if the holder
    dies. Given a connection, a "transaction" slot ends with its transaction (which must be
    open), a "session" slot is released on exit (the connection, in autocommit, stays open
    for the whole block). Given an engine, the slot is held on a connection of its own,
    in autocommit, for the block. A connection whose release fails is discarded: a pooled
    connection must never keep a slot. `wait` blocks until a slot is free (one slot only).

    SQLite (the embedded default: one process, one writer at a time): a counter per key in
    this process, and nothing opened; `wait` always gets the slot, as writers queue anyway.
    """
    if wait and slots != 1:
        raise ValueError("waiting is for a single slot")
    if bind.dialect.name != "postgresql":
        with _local_slot(key, slots, wait) as held:
            yield held
        return
    names = [key] if slots == 1 else [f"{key}:{n}" for n in range(slots)]
    if isinstance(bind, Engine):
        with bind.connect() as own:
            own = own.execution_options(isolation_level="AUTOCOMMIT")
            with _session_slot(own, names, wait) as held:
                yield held
        return
    if scope == "transaction":
        lock = _WAIT_XACT if wait else _TRY_XACT
        yield any(_locked(bind, lock, name, wait) for name in names)
        return
    with _session_slot(bind, names, wait) as held:
        yield held


@contextmanager
def _session_slot(conn: Connection, names: Sequence[str], wait: bool) -> Iterator[bool]:
    lock = _WAIT_SESSION if wait else _TRY_SESSION
    held = next((name for name in names if _locked(conn, lock, name, wait)), None)
    try:
        yield held is not None
    finally:
        if held is not None:
            try:
                conn.execute(_UNLOCK, {"k": held})
            except Exception:  # noqa: BLE001 - never pool a connection that may hold it
                conn.invalidate()
                raise


def _locked(conn: Connection, lock: Any, name: str, wait: bool) -> bool:
    result = conn.execute(lock, {"k": name})
    return True if wait else bool(result.scalar_one())


@contextmanager
def _local_slot(key: str, slots: int, wait: bool) -> Iterator[bool]:
    if wait:
        yield True
        return
    with _local_guard:
        held = _local[key] < slots
        if held:
            _local[key] += 1
    try:
        yield held
    finally:
        if held:
            with _local_guard:
                _local[key] -= 1
                if not _local[key]:
                    del _local[key]


def commit_without_waiting(conn: Connection) -> None:
    """Let this transaction's commit return before its record reaches the disk (PostgreSQL's
    `synchronous_commit` off, for this transaction only): for writes that a crash may undo
    without harm, because they are redone from what is durable (a checkpoint moved past
    events nobody handles). The server stays consistent; only the last moments' such
    commits can be lost. Elsewhere, nothing changes."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def lock_tables(conn: Connection, tables: Sequence[Table]) -> None:
    """Make writers of `tables` wait until `conn`'s transaction ends (PostgreSQL's EXCLUSIVE
    lock: reads go on). SQLite needs nothing: its transactions already lock every table."""
    if conn.dialect.name == "postgresql" and tables:
        quote = conn.dialect.identifier_preparer.format_table
        conn.execute(text(f"LOCK TABLE {', '.join(quote(t) for t in tables)} IN EXCLUSIVE MODE"))


@contextmanager
def step_by_step(engine: Engine) -> Iterator[Connection]:
    """A connection for work done one short step at a time, no transaction held in between.

    PostgreSQL: autocommit, so each statement is its own transaction. SQLite: a plain
    connection (its transactions lock the whole database); end each step with
    `conn.commit()` so the write lock is never held across slow work.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn

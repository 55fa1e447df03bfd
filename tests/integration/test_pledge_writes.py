"""The short write paths of pledges and letters give what the plain command handler gives.

A new pledge is decided from the empty state (its read model row says the stream does not
exist) and appended in a transaction of its own, with no savepoint and no read of its
stream; a letter reads its pledge's owner and action inside its write transaction. Each is
compared here with the plain path, `CommandHandler.handle` replaying the stream in a
savepoint: the same events, the same read-model rows, the same errors, the same outcome of
a race. On SQLite and PostgreSQL, through the real handlers.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, event, select

from campaign.application.commands import Meta, Outcome
from campaign.application.errors import Forbidden, NotFound, PreconditionFailed
from campaign.application.pledges import (
    SentLetter,
    confirm_letter,
    confirm_letter_on_pledge,
    make_pledge,
    pledge_as_supporter,
)
from campaign.application.supporters import Registration, erase_supporter, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain import pledge
from campaign.domain.base import DomainError
from campaign.domain.supporter import ConfirmConsent
from campaign.infra.tables import actions, pledges, stream_directory
from events.schema import events

META = Meta(actor="test", correlation_id="test-pledge-writes")
NOW = datetime(2010, 9, 20, 9, tzinfo=UTC)
ACTION = seed.ACTION_ID
TARGETS = tuple(t.target_id for t in seed.TARGETS)


@pytest.fixture
def demo(container: Container) -> Container:
    load_demo(container)
    return container


def supporter(container: Container, *, confirmed: bool = True) -> str:
    form = Registration(f"{uuid.uuid4().hex}@example.org", "Test Supporter", "en", "GB",
                        "Europe/London")
    supporter_id = register_supporter(container.commands, container.blind_index, form, META,
                                      NOW)
    if confirmed:
        container.commands.handle(ConfirmConsent(supporter_id=supporter_id, confirmed_at=NOW),
                                  META)
    return supporter_id


def plain_pledge(container: Container, supporter_id: str, target_ids: tuple[str, ...],
                 letters: int) -> Outcome:
    """A pledge as the handler made it before: facts from the action's document, the
    stream replayed, the append in a savepoint of the caller's transaction."""
    with container.engine.begin() as conn:
        row = conn.execute(select(actions.c.status, actions.c.deadline_at, actions.c.document)
                           .where(actions.c.action_id == ACTION)).one()
        command = pledge.MakePledge(
            action_id=ACTION, supporter_id=supporter_id, target_ids=target_ids,
            letters_promised=letters, pledged_at=NOW, action_open=row.status == "launched",
            action_target_ids=tuple(t["target_id"] for t in row.document["targets"]),
            due_at=row.deadline_at if row.deadline_at.tzinfo else
            row.deadline_at.replace(tzinfo=UTC))
        return container.commands.handle(command, META, conn=conn)


def written(container: Container, supporter_id: str) -> dict[str, Any]:
    """Everything a pledge left behind, with the supporter's id and positions taken out."""
    stream_id = pledge.pledge_stream(ACTION, supporter_id)
    pledge_id = stream_id.removeprefix("pledge-")

    def plain(value: Any) -> Any:
        return str(value).replace(supporter_id, "<supporter>")

    with container.engine.connect() as conn:
        logged = [(e.stream_version, e.type, e.schema_version, plain(e.data), e.metadata)
                  for e in conn.execute(select(events).where(events.c.stream_id == stream_id)
                                        .order_by(events.c.stream_version))]
        row = conn.execute(select(pledges).where(pledges.c.pledge_id == pledge_id)).one()
        directory = conn.execute(select(stream_directory.c.category, stream_directory.c.version)
                                 .where(stream_directory.c.stream_id == stream_id)).one()
    return {"events": logged, "pledge": {k: plain(v) for k, v in row._mapping.items()},
            "directory": tuple(directory)}


@pytest.mark.parametrize("target_ids", [(), (TARGETS[1], TARGETS[0], TARGETS[1])])
def test_a_new_pledge_writes_what_the_plain_handler_writes(
        demo: Container, target_ids: tuple[str, ...]) -> None:
    short, plain = supporter(demo), supporter(demo)
    fast = pledge_as_supporter(demo.commands, ACTION, short, target_ids, 2, META, NOW)
    slow = plain_pledge(demo, plain, target_ids, 2)
    assert (fast.version, fast.state.target_ids, len(fast.events)) == (
        slow.version, slow.state.target_ids, len(slow.events))
    assert written(demo, short) == written(demo, plain)


@pytest.fixture
def statements(container: Container) -> Iterator[list[str]]:
    """Every statement SQLAlchemy sends, savepoints included (the append's own statement
    runs on the driver's cursor and is not among them)."""
    seen: list[str] = []

    def cursor(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    def savepoint(conn: Any, name: str) -> None:
        seen.append(f"SAVEPOINT {name}")

    event.listen(container.engine, "before_cursor_execute", cursor)
    event.listen(container.engine, "savepoint", savepoint)
    yield seen
    event.remove(container.engine, "before_cursor_execute", cursor)
    event.remove(container.engine, "savepoint", savepoint)


def test_a_new_pledge_takes_no_savepoint_and_reads_no_stream(
        demo: Container, statements: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    supporter_id = supporter(demo)
    read = recorded_stream_reads(demo, monkeypatch)
    statements.clear()
    outcome = pledge_as_supporter(demo.commands, ACTION, supporter_id, (), 1, META, NOW)
    assert [type(e).__name__ for e in outcome.events] == ["Pledged"]
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert read == []
    again = pledge_as_supporter(demo.commands, ACTION, supporter_id, (), 1, META, NOW)
    assert (again.events, read) == ([], [pledge.pledge_stream(ACTION, supporter_id)])


def test_a_pledge_in_the_callers_transaction_still_rolls_back_alone(demo: Container) -> None:
    """Inside a caller's transaction (an Idempotency-Key's) a lost race is retried in a
    savepoint, and a refused pledge leaves the caller's transaction usable."""
    supporter_id = supporter(demo)
    with demo.engine.begin() as conn:
        pledge_as_supporter(demo.commands, ACTION, supporter_id, (), 1, META, NOW, conn=conn)
        with pytest.raises(DomainError, match="already pledged"):
            pledge_as_supporter(demo.commands, ACTION, supporter_id, (), 2, META, NOW,
                                conn=conn)
        assert conn.execute(select(pledges.c.letters_promised).where(
            pledges.c.supporter_id == supporter_id)).scalar_one() == 1


def test_pledges_refuse_as_before_in_the_same_order(demo: Container) -> None:
    unconfirmed, erased, fine = (supporter(demo, confirmed=False), supporter(demo),
                                 supporter(demo))
    erase_supporter(demo.commands, demo.vault, erased, "supporter", META, NOW)

    def pledge_of(supporter_id: str, action_id: str = ACTION, letters: int = 1) -> Outcome:
        return pledge_as_supporter(demo.commands, action_id, supporter_id, (), letters, META,
                                   NOW)

    with pytest.raises(NotFound, match="no supporter"):
        pledge_of("nobody", "no-such-action")
    with pytest.raises(DomainError, match="erased"):
        pledge_of(erased, "no-such-action")
    with pytest.raises(DomainError, match="confirm your e-mail"):
        pledge_of(unconfirmed)
    with pytest.raises(NotFound, match="no action no-such-action"):
        pledge_of(fine, "no-such-action")
    with pytest.raises(NotFound, match="no action"):
        make_pledge(demo.commands, "no-such-action", fine, (), 1, META, NOW)
    with pytest.raises(DomainError) as unknown:
        pledge_as_supporter(demo.commands, ACTION, fine, ("nobody",), 1, META, NOW)
    assert unknown.value.code == "unknown_target"
    first = pledge_of(fine)
    again = pledge_of(fine)
    assert (first.version, len(first.events), again.version, again.events) == (1, 1, 1, [])
    with pytest.raises(DomainError) as other:
        pledge_of(fine, letters=2)
    assert other.value.code == "already_pledged"


def at_once(write: Callable[[str], Outcome], names: Sequence[str]
            ) -> tuple[list[Outcome], list[BaseException]]:
    """`write(name)` for each of `names`, each in a thread of its own, all at once: what
    the writes returned and what they raised."""
    outcomes: list[Outcome] = []
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            outcomes.append(write(name))
        except BaseException as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_racing_pledges_of_one_supporter_append_one(demo: Container) -> None:
    supporter_id = supporter(demo)
    start = threading.Barrier(6)

    def race(_: str) -> Outcome:
        start.wait()
        return pledge_as_supporter(demo.commands, ACTION, supporter_id, (), 1, META, NOW)

    outcomes, errors = at_once(race, [f"writer {n}" for n in range(6)])
    assert errors == []
    assert sorted(len(o.events) for o in outcomes) == [0, 0, 0, 0, 0, 1]
    assert {o.version for o in outcomes} == {1}
    assert [e[1] for e in written(demo, supporter_id)["events"]] == ["Pledged"]


# --- Letters ---------------------------------------------------------------------------------


def owner_only(owner: str) -> Any:
    def allowed(supporter_id: str, action_id: str) -> None:
        if supporter_id != owner or action_id != ACTION:
            raise Forbidden("not yours")
    return allowed


def test_a_letter_on_a_pledge_writes_what_confirm_letter_writes(demo: Container) -> None:
    short, plain = supporter(demo), supporter(demo)
    for supporter_id in (short, plain):
        pledge_as_supporter(demo.commands, ACTION, supporter_id, (), 2, META, NOW)
    letters = [SentLetter(f"l{n}", TARGETS[n], "post", NOW.date()) for n in range(2)]
    for letter in letters:
        fast = confirm_letter_on_pledge(demo.commands, f"{ACTION}-{short}", letter, META, NOW,
                                        owner_only(short))
        slow = confirm_letter(demo.commands, ACTION, plain, letter, META, NOW)
        assert (fast.version, [type(e) for e in fast.events]) == (
            slow.version, [type(e) for e in slow.events])
    assert fast.state.status == "fulfilled"
    assert written(demo, short) == written(demo, plain)
    again = confirm_letter_on_pledge(demo.commands, f"{ACTION}-{short}", letters[0], META, NOW,
                                     owner_only(short))
    assert (again.events, again.version) == ([], fast.version)


def test_a_letter_on_a_pledge_refuses_as_before(demo: Container) -> None:
    owner, other = supporter(demo), supporter(demo)
    pledge_as_supporter(demo.commands, ACTION, owner, (TARGETS[0],), 3, META, NOW)
    pledge_id = f"{ACTION}-{owner}"
    letter = SentLetter("l1", TARGETS[0], "post", NOW.date())

    def confirm(sent: SentLetter = letter, allowed: Any = None,
                expected: int | None = None, on: str = pledge_id) -> Outcome:
        return confirm_letter_on_pledge(demo.commands, on, sent, META, NOW,
                                        allowed or owner_only(owner), expected_version=expected)

    with pytest.raises(NotFound, match="no pledge"):
        confirm(on=f"{ACTION}-{other}")
    with pytest.raises(Forbidden):
        confirm(allowed=owner_only(other))
    with pytest.raises(PreconditionFailed):
        confirm(expected=7)
    with pytest.raises(DomainError) as unknown:
        confirm(SentLetter("l2", TARGETS[1], "post", NOW.date()))
    assert unknown.value.code == "unknown_target"
    assert [e[1] for e in written(demo, owner)["events"]] == ["Pledged"]
    assert confirm(expected=1).version == 2
    with pytest.raises(DomainError) as duplicate:
        confirm(SentLetter("l1", TARGETS[0], "email", NOW.date()))
    assert duplicate.value.code == "duplicate_letter"


def test_a_refused_letter_leaves_the_callers_transaction_usable(demo: Container) -> None:
    owner = supporter(demo)
    pledge_as_supporter(demo.commands, ACTION, owner, (), 3, META, NOW)
    with demo.engine.begin() as conn:
        with pytest.raises(Forbidden):
            confirm_letter_on_pledge(demo.commands, f"{ACTION}-{owner}",
                                     SentLetter("l1", TARGETS[0], "post", NOW.date()), META,
                                     NOW, owner_only("someone else"), conn=conn)
        done = confirm_letter_on_pledge(demo.commands, f"{ACTION}-{owner}",
                                        SentLetter("l1", TARGETS[0], "post", NOW.date()), META,
                                        NOW, owner_only(owner), conn=conn)
        assert _version(conn, owner) == done.version == 2


def _version(conn: Connection, owner: str) -> int:
    return int(conn.execute(select(pledges.c.version)
                            .where(pledges.c.supporter_id == owner)).scalar_one())


def rows_of(container: Container, stream_id: str) -> dict[str, Any]:
    """The pledge's read-model row and its stream's directory row, whole."""
    with container.engine.connect() as conn:
        row = conn.execute(select(pledges).where(
            pledges.c.pledge_id == stream_id.removeprefix("pledge-"))).one()
        directory = conn.execute(select(stream_directory)
                                 .where(stream_directory.c.stream_id == stream_id)).one()
    return {"pledge": dict(row._mapping), "directory": dict(directory._mapping)}


@pytest.mark.parametrize(("target_ids", "letters"),
                         [((), 3), ((TARGETS[1], TARGETS[0], TARGETS[1]), 1)])
def test_a_pledges_read_model_rows_equal_what_its_projections_apply_writes(
        demo: Container, target_ids: tuple[str, ...], letters: int) -> None:
    supporter_id = supporter(demo)
    outcome = pledge_as_supporter(demo.commands, ACTION, supporter_id, target_ids, letters,
                                  META, NOW)
    demo.commands.handle(pledge.ConfirmLetter(
        action_id=ACTION, supporter_id=supporter_id, letter_id="letter-1",
        target_id=outcome.state.target_ids[0], channel="email", sent_on=NOW.date(),
        confirmed_at=NOW, action_issued_on=seed.ISSUED_ON), META)
    stream_id = outcome.stream_id
    live = rows_of(demo, stream_id)
    assert live["pledge"]["status"] == ("fulfilled" if letters == 1 else "open")
    store = demo.commands.store
    written_by = [p for p in store.projections if p.name in ("pledges", "stream_directory")]
    with demo.engine.begin() as conn:
        conn.execute(pledges.delete().where(pledges.c.pledge_id == live["pledge"]["pledge_id"]))
        conn.execute(stream_directory.delete().where(stream_directory.c.stream_id == stream_id))
        stored = store.read_stream(stream_id, conn=conn)
        for projection in written_by:
            projection.apply(conn, stored)
    assert len(written_by) == 2
    assert rows_of(demo, stream_id) == live


def test_on_postgresql_a_pledge_and_a_letter_write_their_read_models_in_the_appends_statement(
        demo: Container, statements: list[str]) -> None:
    supporter_id = supporter(demo)
    statements.clear()
    outcome = pledge_as_supporter(demo.commands, ACTION, supporter_id, (), 2, META, NOW)
    demo.commands.handle(pledge.ConfirmLetter(
        action_id=ACTION, supporter_id=supporter_id, letter_id="letter-1",
        target_id=outcome.state.target_ids[0], channel="post", sent_on=NOW.date(),
        confirmed_at=NOW, action_issued_on=seed.ISSUED_ON), META)
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))
              and ("pledges" in s or "stream_directory" in s)]
    folding = demo.engine.dialect.name == "postgresql"
    assert (writes == []) is folding
    row = rows_of(demo, outcome.stream_id)["pledge"]
    assert (row["status"], row["letters_confirmed"], row["version"]) == ("open", 1, 2)


# --- A letter decided from its pledge's row --------------------------------------------------


def recorded_stream_reads(container: Container, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The streams the store reads from now on (the real read, recorded)."""
    read: list[str] = []
    store = container.commands.store
    reading = store.read_stream

    def read_stream(stream_id: str, *args: Any, **kwargs: Any) -> Any:
        read.append(stream_id)
        return reading(stream_id, *args, **kwargs)

    monkeypatch.setattr(store, "read_stream", read_stream)
    return read


def test_a_letter_is_decided_from_its_pledges_row_without_replaying_the_stream(
        demo: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    owner = supporter(demo)
    pledge_as_supporter(demo.commands, ACTION, owner, (), 2, META, NOW)
    read = recorded_stream_reads(demo, monkeypatch)
    outcomes = [confirm_letter_on_pledge(
        demo.commands, f"{ACTION}-{owner}", SentLetter(f"l{n}", TARGETS[n % 2], "post",
                                                       NOW.date()), META, NOW,
        owner_only(owner)) for n in range(4)]
    repeated = confirm_letter(demo.commands, ACTION, owner,
                              SentLetter("l0", TARGETS[0], "post", NOW.date()), META, NOW)
    assert read == []
    assert [len(o.events) for o in outcomes] + [len(repeated.events)] == [1, 2, 1, 1, 0]
    with demo.engine.connect() as conn:
        replayed = demo.commands.load(conn, outcomes[-1].stream_id, pledge.AGGREGATE)
    assert (outcomes[-1].state, outcomes[-1].version) == replayed
    assert (repeated.state, repeated.version) == replayed


def lifecycle(container: Container, owner: str, confirm: Any) -> list[Outcome]:
    """A pledge through letters, a repeat, a moved deadline, a lapse, a late letter and a
    refused one, each letter confirmed with `confirm(owner, letter)`."""
    handle = container.commands.handle
    outcomes = [pledge_as_supporter(container.commands, ACTION, owner, (), 3, META, NOW)]
    late = NOW.replace(year=2030)
    letters = [SentLetter("a", TARGETS[0], "post", NOW.date()),
               SentLetter("b", TARGETS[1], "email", NOW.date()),
               SentLetter("a", TARGETS[0], "post", NOW.date())]
    outcomes += [confirm(owner, letter) for letter in letters]
    outcomes.append(handle(pledge.MoveDueDate(action_id=ACTION, supporter_id=owner,
                                              new_due_at=late, at=NOW), META))
    outcomes.append(handle(pledge.LapsePledge(action_id=ACTION, supporter_id=owner,
                                              at=late), META))
    outcomes.append(confirm(owner, SentLetter("c", TARGETS[0], "fax", NOW.date())))
    with pytest.raises(DomainError) as refused:
        confirm(owner, SentLetter("c", TARGETS[1], "fax", NOW.date()))
    assert refused.value.code == "duplicate_letter"
    return outcomes


def test_letters_from_the_row_give_the_outcomes_of_replaying_the_stream(
        demo: Container) -> None:
    """The same commands on two pledges, letters from the row on one and through the plain
    handler (replaying the stream in a savepoint) on the other: the same outcomes, events
    and rows, and each outcome's state is the replayed one."""
    fast_owner, plain_owner = supporter(demo), supporter(demo)

    def fast(owner: str, letter: SentLetter) -> Outcome:
        return confirm_letter_on_pledge(demo.commands, f"{ACTION}-{owner}", letter, META, NOW,
                                        owner_only(owner))

    def plain(owner: str, letter: SentLetter) -> Outcome:
        with demo.engine.begin() as conn:
            return demo.commands.handle(pledge.ConfirmLetter(
                action_id=ACTION, supporter_id=owner, letter_id=letter.letter_id,
                target_id=letter.target_id, channel=letter.channel, sent_on=letter.sent_on,
                confirmed_at=NOW, action_issued_on=seed.ISSUED_ON), META, conn=conn)

    fast_run, plain_run = lifecycle(demo, fast_owner, fast), lifecycle(demo, plain_owner, plain)

    def shown(outcome: Outcome, owner: str) -> Any:
        return (outcome.version, [type(e).__name__ for e in outcome.events],
                str(outcome.state).replace(owner, "<supporter>"))

    assert [shown(o, fast_owner) for o in fast_run] == [shown(o, plain_owner) for o in plain_run]
    assert fast_run[-1].state.status == "lapsed"
    assert len(fast_run[-1].state.letters) == 3
    assert written(demo, fast_owner) == written(demo, plain_owner)


def test_a_row_that_does_not_know_its_letters_is_replayed_instead(
        demo: Container, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows written before the letters were kept (NULL), and rows a writer that does not keep
    them moved on (fewer letters than counted), are not trusted: the stream decides."""
    unknown, behind = supporter(demo), supporter(demo)
    for owner in (unknown, behind):
        pledge_as_supporter(demo.commands, ACTION, owner, (), 3, META, NOW)
        confirm_letter(demo.commands, ACTION, owner,
                       SentLetter("a", TARGETS[0], "post", NOW.date()), META, NOW)
    with demo.engine.begin() as conn:
        conn.execute(pledges.update().where(pledges.c.supporter_id == unknown)
                     .values(letters=None))
        conn.execute(pledges.update().where(pledges.c.supporter_id == behind)
                     .values(letters=[]))
    read = recorded_stream_reads(demo, monkeypatch)
    for owner in (unknown, behind):
        with pytest.raises(DomainError) as refused:
            confirm_letter(demo.commands, ACTION, owner,
                           SentLetter("a", TARGETS[1], "post", NOW.date()), META, NOW)
        assert refused.value.code == "duplicate_letter"
        added = confirm_letter_on_pledge(demo.commands, f"{ACTION}-{owner}",
                                         SentLetter("b", TARGETS[1], "post", NOW.date()),
                                         META, NOW, owner_only(owner))
        assert (added.version, len(added.state.letters)) == (3, 2)
    assert len(read) == 4
    with demo.engine.connect() as conn:
        kept = dict(conn.execute(select(pledges.c.supporter_id, pledges.c.letters)
                                 .where(pledges.c.supporter_id.in_([unknown, behind]))).all())
    assert kept[unknown] is None
    assert [entry[0] for entry in kept[behind]] == ["b"]


@pytest.mark.parametrize("batches", ["whole", "one event each"])
def test_a_pledges_letters_on_its_row_equal_what_apply_writes(demo: Container,
                                                              batches: str) -> None:
    owner = supporter(demo)
    pledge_as_supporter(demo.commands, ACTION, owner, (), 2, META, NOW)
    for n, target in enumerate((TARGETS[0], TARGETS[1], TARGETS[0])):
        confirm_letter(demo.commands, ACTION, owner,
                       SentLetter(f"l{n}", target, "online", NOW.date()), META, NOW)
    stream_id = pledge.pledge_stream(ACTION, owner)
    live = rows_of(demo, stream_id)["pledge"]
    assert [entry[0] for entry in live["letters"]] == ["l0", "l1", "l2"]
    assert live["letters"][0] == ["l0", TARGETS[0], "online", NOW.date().isoformat(),
                                  NOW.isoformat()]
    projection = next(p for p in demo.commands.store.projections if p.name == "pledges")
    with demo.engine.begin() as conn:
        conn.execute(pledges.delete().where(pledges.c.pledge_id == live["pledge_id"]))
        stored = list(demo.commands.store.read_stream(stream_id, conn=conn))
        for batch in [stored] if batches == "whole" else [[e] for e in stored]:
            projection.apply(conn, batch)
    assert rows_of(demo, stream_id)["pledge"] == live


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_letters_racing_to_fulfil_a_pledge_fulfil_it_once(demo: Container) -> None:
    """Both letters read the row before either appends (each waits for the other after its
    read): the append expecting that version lets one through, the other is read and
    decided again, and only one of them fulfils the pledge."""
    owner = supporter(demo)
    pledge_as_supporter(demo.commands, ACTION, owner, (), 2, META, NOW)
    confirm_letter(demo.commands, ACTION, owner,
                   SentLetter("first", TARGETS[0], "post", NOW.date()), META, NOW)
    both_read = threading.Barrier(2, timeout=30)

    def race(letter_id: str) -> Outcome:
        reads = 0

        def allowed(supporter_id: str, action_id: str) -> None:
            nonlocal reads
            reads += 1
            if reads == 1:
                both_read.wait()

        return confirm_letter_on_pledge(
            demo.commands, f"{ACTION}-{owner}",
            SentLetter(letter_id, TARGETS[1], "post", NOW.date()), META, NOW, allowed)

    outcomes, errors = at_once(race, ("x", "y"))
    assert errors == []
    assert sorted([type(e).__name__ for e in o.events] for o in outcomes) == [
        ["LetterConfirmed"], ["LetterConfirmed", "PledgeFulfilled"]]
    logged = [e[1] for e in written(demo, owner)["events"]]
    assert logged.count("PledgeFulfilled") == 1
    row = rows_of(demo, pledge.pledge_stream(ACTION, owner))["pledge"]
    assert (row["status"], row["letters_confirmed"], row["version"]) == ("fulfilled", 3, 5)
    assert len(row["letters"]) == 3


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_letter_with_if_match_that_loses_a_race_is_refused(demo: Container) -> None:
    owner = supporter(demo)
    pledge_as_supporter(demo.commands, ACTION, owner, (), 5, META, NOW)
    both_read = threading.Barrier(2, timeout=30)

    def allowed(supporter_id: str, action_id: str) -> None:
        both_read.wait()

    def race(letter_id: str) -> Outcome:
        return confirm_letter_on_pledge(
            demo.commands, f"{ACTION}-{owner}",
            SentLetter(letter_id, TARGETS[0], "post", NOW.date()), META, NOW, allowed,
            expected_version=1)

    outcomes, errors = at_once(race, ("x", "y"))
    assert [o.version for o in outcomes] == [2]
    assert [type(e).__name__ for e in errors] == ["ConcurrencyError"]


def test_on_postgresql_the_letter_that_fulfils_a_pledge_writes_its_row_in_the_appends_statement(
        demo: Container, statements: list[str]) -> None:
    owner = supporter(demo)
    pledge_as_supporter(demo.commands, ACTION, owner, (), 1, META, NOW)
    statements.clear()
    outcome = confirm_letter_on_pledge(demo.commands, f"{ACTION}-{owner}",
                                       SentLetter("only", TARGETS[0], "post", NOW.date()),
                                       META, NOW, owner_only(owner))
    assert [type(e).__name__ for e in outcome.events] == ["LetterConfirmed", "PledgeFulfilled"]
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE"))
              and "pledges" in s]
    assert (writes == []) is (demo.engine.dialect.name == "postgresql")
    row = rows_of(demo, outcome.stream_id)["pledge"]
    assert (row["status"], row["letters_confirmed"], row["version"]) == ("fulfilled", 1, 3)
    assert [entry[0] for entry in row["letters"]] == ["only"]

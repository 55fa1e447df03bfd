"""Sending one planned batch: claim it, compose it, one provider request, record the outcome.

Queue messages carry only the batch id; the people are looked up when composing
(campaign.mail.composing). The batch's outcome is recorded on the mailing's stream, with
the recipients the composer left out; a redelivered message finds it and sends nothing.
The dispatcher subscription turns each planned batch into one queue message, after its
event committed: the log is the outbox.

Only a provider that may take the batch later gets it again (TransientSendError). A
refusal is recorded as BatchFailed: the provider's (PermanentSendError), or ours before
any request (InvalidBatch, status 0), which the same batch would meet on every retry.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, Engine, or_, select, update

from campaign.application.commands import CommandHandler, Meta
from campaign.domain import mailing
from campaign.domain.codec import from_data
from campaign.infra.logs import correlated
from campaign.infra.metrics import MAIL_BATCHES, MAIL_RECIPIENTS
from campaign.infra.tables import mail_batches
from campaign.mail.composing import Composer
from campaign.mail.errors import InvalidBatch, PermanentSendError, TransientSendError
from campaign.mail.transport import Transport
from events import EventStore, StoredEvent, Subscription, as_utc
from events.sql import advisory_slot

SEND_BATCH: Final = "send_batch"
"""The actor that sends one batch, named: the dispatcher and the sweep queue messages for it."""
DISPATCHER: Final = "mail_dispatcher"
META_ACTOR: Final = "worker:fanout"
LOST_AFTER: Final = timedelta(minutes=15)
BUSY_RECHECK_MS: Final = 5_000
"""A batch another worker holds is looked at again after this long: its holder may be a
dead worker whose database session lingers a moment."""


@dataclass(frozen=True)
class Outcome:
    """What happened to a batch on this attempt."""

    sent: bool
    recipients: int
    message_id: str | None = None
    retry_in_ms: int | None = None
    """Try again after this long without spending a retry: the provider asked us to wait,
    or another worker holds the batch right now."""


class BatchSender:
    """Sends planned batches, each once, through one transport."""

    def __init__(self, commands: CommandHandler, composer: Composer,
                 transport: Transport) -> None:
        self.commands = commands
        self.composer = composer
        self.transport = transport
        self._plans = Plans(commands.store)

    def send(self, batch_id: str, now: datetime) -> Outcome:
        """Send the batch unless its outcome is recorded or another worker is sending it.

        LookupError for a batch never planned; TransientSendError when the provider may
        take it later and named no wait (the caller's backoff decides).
        """
        with claimed(self.commands.engine, batch_id) as mine:
            if not mine:
                return Outcome(sent=False, recipients=0, retry_in_ms=BUSY_RECHECK_MS)
            try:
                return self._send(batch_id, now)
            except TransientSendError as exc:
                MAIL_BATCHES.labels("deferred").inc()
                if exc.retry_after_seconds is None:
                    raise
                # A rate limit is a wait, not a failure: it must not use up the retries.
                wait = max(1000, int(exc.retry_after_seconds * 1000))
                return Outcome(sent=False, recipients=0, retry_in_ms=wait)

    def lost(self, now: datetime) -> list[str]:
        """Batches whose queue message is gone: quiet for LOST_AFTER (see `lost_batches`)."""
        return lost_batches(self.commands.engine, now, LOST_AFTER)

    def _send(self, batch_id: str, now: datetime) -> Outcome:
        mailing_id = batch_mailing_id(batch_id)
        with self.commands.engine.connect() as conn:
            found = self._plans.batch(conn, mailing_id, batch_id)
            if found is None:
                raise LookupError(f"batch {batch_id} was never planned")
            planned, plan = found
            if has_outcome(conn, batch_id):
                return Outcome(sent=False, recipients=0)
            composed = self.composer.batch(conn, planned.event, plan)
        batch, failed = composed.batch, composed.failed
        meta = Meta(actor=META_ACTOR, correlation_id=f"mailing:{mailing_id}")
        if failed:
            MAIL_RECIPIENTS.labels("left_out").inc(len(failed))
        if not batch.personalizations:  # everyone left or failed: nothing to send
            record_outcome(self.commands, mailing.RecordBatchAccepted(
                mailing_id, batch_id, "", now, failed), meta, self._plans)
            MAIL_BATCHES.labels("empty").inc()
            return Outcome(sent=False, recipients=0)
        stamp_attempt(self.commands.engine, batch_id, now)
        try:
            accepted = self.transport.send(batch)
        except (PermanentSendError, InvalidBatch) as exc:
            status, reason = _refusal(exc)
            record_outcome(self.commands, mailing.RecordBatchFailed(
                mailing_id, batch_id, status, reason[:500], now, failed), meta, self._plans)
            _count("refused", len(batch.personalizations))
            return Outcome(sent=False, recipients=len(batch.personalizations))
        record_outcome(self.commands, mailing.RecordBatchAccepted(
            mailing_id, batch_id, accepted.message_id or "", now, failed), meta, self._plans)
        _count("accepted", len(batch.personalizations))
        return Outcome(True, len(batch.personalizations), accepted.message_id)



def _count(outcome: str, recipients: int) -> None:
    """One batch and its recipients, by the outcome the provider (or we) gave them."""
    MAIL_BATCHES.labels(outcome).inc()
    MAIL_RECIPIENTS.labels(outcome).inc(recipients)


def _refusal(exc: PermanentSendError | InvalidBatch) -> tuple[int, str]:
    """The status and reason to record: the provider's, or 0 for a batch we refused to send.

    Neither names a recipient: SendGrid's reasons have addresses masked, ours use indexes.
    """
    if isinstance(exc, PermanentSendError):
        return exc.status, exc.reason
    return 0, str(exc)


def batch_mailing_id(batch_id: str) -> str:
    """Batch ids are `<mailing id>-<n>` (see campaign.mail.planning)."""
    return batch_id.rsplit("-", 1)[0]


def claimed(engine: Engine, batch_id: str) -> AbstractContextManager[bool]:
    """The right to send this batch; False when another worker holds it right now.

    Two copies of one message (at-least-once delivery) must not both reach the provider.
    """
    return advisory_slot(engine, batch_id)


def record_outcome(
    commands: CommandHandler,
    command: mailing.RecordBatchAccepted | mailing.RecordBatchFailed, meta: Meta,
    plans: Plans | None = None,
) -> None:
    """Record a batch's outcome on its mailing's stream, one recorder per mailing at a time.

    Every batch of a mailing records on the same stream. Batches finishing together would
    conflict, and once the handler's retries ran out the message would be retried and the
    batch, already accepted, sent again. A per-mailing slot makes them queue instead.

    The mailing's state is read from its plan and the `mail_batches` read model (inline, so
    as current as the stream in this transaction), not replayed: a mailing of a thousand
    batches would otherwise replay up to a thousand events for each outcome, one at a time.
    """
    with commands.engine.begin() as conn:
        decide_on_mailing(conn, commands, plans or Plans(commands.store), command, meta)


def decide_on_mailing(conn: Connection, commands: CommandHandler, plans: Plans,
                      command: mailing.Command, meta: Meta) -> None:
    """Decide `command` on the mailing's state and append what it causes, in `conn`'s
    transaction, one writer per mailing at a time: outcomes, and the parts of a plan still
    being planned, all append to the mailing's one stream."""
    stream = mailing.mailing_stream(command.mailing_id)
    with advisory_slot(conn, f"mailing-outcomes:{command.mailing_id}", wait=True):
        state, version = mailing_state(conn, plans, command.mailing_id)
        decided = mailing.AGGREGATE.decide(state, command)
        if decided:
            commands.store.append(stream, commands.mapper.to_new_events(
                conn, stream, decided, meta.as_metadata()), version, conn=conn)


def mailing_state(conn: Connection, plans: Plans, mailing_id: str
                  ) -> tuple[mailing.State, int]:
    """The mailing's state and stream version, as a replay of its stream gives them: the
    batches and where planning stands from its plan (its parts), the outcomes from
    `mail_batches`."""
    stream = mailing.mailing_stream(mailing_id)
    version = plans.store.stream_version(stream, conn=conn)
    planned = plans.get(conn, mailing_id, version) if version else None
    if planned is None:
        return mailing.initial_state(), version
    b = mail_batches.c
    outcomes = {row.batch_id: row.outcome for row in conn.execute(select(
        b.batch_id, b.outcome).where(b.mailing_id == mailing_id, b.outcome.is_not(None)))}
    return mailing.State(mailing_id, True, planned.batches, outcomes, planned.more_to_plan,
                         planned.planned_through), version


def has_outcome(conn: Connection, batch_id: str) -> bool:
    """Whether the batch was accepted or failed already (a redelivered message)."""
    return conn.execute(select(mail_batches.c.outcome).where(
        mail_batches.c.batch_id == batch_id)).scalar() is not None


@dataclass(frozen=True)
class Planned:
    """A mailing's plan as far as its stream was read: its `MailingPlanned` event, the
    batches of every part by id, and where planning stands."""

    event: mailing.MailingPlanned
    batches: Mapping[str, mailing.BatchPlan]
    more_to_plan: bool
    planned_through: str | None
    read_to: int
    """The stream version read up to."""

    def batch(self, batch_id: str) -> mailing.BatchPlan | None:
        return self.batches.get(batch_id)


class Plans:
    """Mailing plans, each part read once: a part never changes after it was recorded, and
    every batch of a mailing needs its plan (a launch's lists a thousand batches). A plan
    still being planned is read on from where it was left, when a caller needs more."""

    KEEP = 16

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._found: OrderedDict[str, Planned] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conn: Connection, mailing_id: str, version: int | None = None
            ) -> Planned | None:
        """The mailing's plan, or None for a mailing never planned. Given the stream's
        `version`, the plan includes every part up to it; without, the parts read so far
        (or all there are, for a plan not read before)."""
        with self._lock:
            known = self._found.get(mailing_id)
            if known is not None:
                self._found.move_to_end(mailing_id)
        if known is not None and (not known.more_to_plan or version is None
                                  or known.read_to >= version):
            return known
        planned = self._read(conn, mailing_id, known)
        if planned is None:
            return None
        with self._lock:
            current = self._found.get(mailing_id)
            if current is None or current.read_to < planned.read_to:
                self._found[mailing_id] = planned
            while len(self._found) > self.KEEP:
                self._found.popitem(last=False)
        return planned

    def batch(self, conn: Connection, mailing_id: str, batch_id: str
              ) -> tuple[Planned, mailing.BatchPlan] | None:
        """The mailing's plan and one of its batches, reading on if the batch is in a part
        planned after the plan was read; None for a batch never planned."""
        planned = self.get(conn, mailing_id)
        if planned is not None and batch_id not in planned.batches and planned.more_to_plan:
            planned = self.get(conn, mailing_id, planned.read_to + 1)
        plan = planned.batch(batch_id) if planned is not None else None
        return None if planned is None or plan is None else (planned, plan)

    def _read(self, conn: Connection, mailing_id: str, known: Planned | None
              ) -> Planned | None:
        stream = mailing.mailing_stream(mailing_id)
        if known is None:
            first = self.store.read_stream(stream, to_version=1, conn=conn)
            if not first:
                return None
            event = from_data(first[0].type, first[0].data)
            assert isinstance(event, mailing.MailingPlanned)
            known = Planned(event, {b.batch_id: b for b in event.batches},
                            event.more_to_plan, event.planned_through, 1)
            if not known.more_to_plan:
                return known
        later = self.store.read_stream(stream, known.read_to + 1, conn=conn)
        parts = [from_data(e.type, e.data) for e in later
                 if e.type == mailing.BatchesPlanned.type_name]
        if not later:
            return known
        batches = known.batches
        more, through = known.more_to_plan, known.planned_through
        for part in parts:
            assert isinstance(part, mailing.BatchesPlanned)
            batches = {**batches, **{b.batch_id: b for b in part.batches}}
            more, through = part.more_to_plan, part.planned_through
        return Planned(known.event, batches, more, through, later[-1].stream_version)


def stamp_attempt(engine: Engine, batch_id: str, now: datetime) -> None:
    """Note that a worker is trying this batch now, so the sweep leaves it alone."""
    with engine.begin() as conn:
        conn.execute(update(mail_batches).where(mail_batches.c.batch_id == batch_id)
                     .values(last_attempt_at=as_utc(now)))


def lost_batches(engine: Engine, now: datetime, quiet_for: timedelta = LOST_AFTER,
                 limit: int = 1000) -> list[str]:
    """Batches with no outcome and no attempt for `quiet_for`: their message is gone.

    A batch being retried is tried at least every `max_backoff` (10 minutes), and one
    waiting out a rate limit far sooner, so a quiet quarter hour means the message was
    lost (a flushed or failed-over Redis) or its retries were spent. Reads one index range.
    """
    cutoff = as_utc(now) - quiet_for
    b = mail_batches.c
    with engine.connect() as conn:
        return list(conn.execute(
            select(b.batch_id)
            .where(b.outcome.is_(None), b.planned_at < cutoff,
                   or_(b.last_attempt_at.is_(None), b.last_attempt_at < cutoff))
            .order_by(b.planned_at).limit(limit)
        ).scalars())


def dispatch_batches(send: Callable[[str], object]) -> Subscription:
    """The outbox: each planned batch becomes one queue message, after its event committed
    (a mailing planned in parts: each part's batches as soon as that part committed).

    If the broker is down the subscription stops at that event and the next clock tick
    tries again, so a mailing planned while Redis was away still goes out. Each message
    carries the mailing's correlation id (the launch request's, say), so the worker's lines
    about its batch can be found from that request.
    """

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for event in events:
            with correlated(str(event.metadata.get("correlation_id") or event.event_id)):
                for batch in event.data["batches"]:
                    send(batch["batch_id"])

    return Subscription(DISPATCHER, react, frozenset({mailing.MailingPlanned.type_name,
                                                      mailing.BatchesPlanned.type_name}))

"""Attempting deliveries: claim, check the URL again, sign, POST, record what happened.

A worker that receives `deliver_webhook(delivery_id)` takes one of the partner's slots
(`partner_slot`: SLOTS per partner) and then sends that partner's due deliveries in order for a
short turn (a few dozen, or about a second), so a busy partner does not starve the
others; when it lets go and more are due, it queues one message for them. A worker that
finds the slots taken drops its message: the holders will get to that delivery, and the
check after letting go closes the gap between "all taken" and "just released".

Each attempt is recorded with its status, latency and error. Only a 2xx is a success.
410 disables the endpoint at once; 429 or 503 with Retry-After pauses the partner for
that long without spending a retry; any other failure waits for the next step of the
schedule. An endpoint that has failed for five days without a success is disabled, and
`PartnerEndpointDisabled` tells campaigners (campaign.mail.alerts e-mails them).

A turn runs on one connection, in autocommit on PostgreSQL. It claims the partner's next
due deliveries together (up to CLAIM, in order, one statement), posts them one after the
other on the partner's kept-alive connection, and records their outcomes in one short
transaction: on durable settings a commit waits for the disk, and one per delivery was
what bounded a backlog's drain. No transaction stays open over HTTP. A claimed delivery
that a turn does not post (the partner said stop, or the turn ran out of time) is handed
back unattempted. At least once still holds: a worker that dies between a POST and its
record leaves the lease to expire, and the delivery goes again with the same id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, and_, bindparam, case, func, insert, or_, select, update

from campaign.application.commands import CommandHandler, Meta
from campaign.domain.partner import DisablePartnerEndpoint, DisableReason
from campaign.infra.clock import utc_now
from campaign.infra.metrics import WEBHOOK_DELIVERIES, WEBHOOK_DELIVERY_SECONDS
from campaign.infra.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from campaign.infra.tables import webhook_messages as messages
from campaign.partners.registry import PartnerRecord, get_partner, signing_secrets
from campaign.partners.ssrf import UnsafeWebhookUrl, check_webhook_url
from campaign.partners.webhooks.answers import classify, describe
from campaign.partners.webhooks.deliveries import (
    FAILED,
    LEASE,
    PENDING,
    REQUEUE_AFTER,
    SUCCEEDED,
    cancel_pending,
    utc,
)
from campaign.partners.webhooks.http import Answer, PinnedSender
from campaign.partners.webhooks.schedule import DISABLE_AFTER, retry_delay
from campaign.partners.webhooks.signing import signed_headers
from campaign.partners.webhooks.slots import partner_slot
from events.personal_data import Vault
from events.sql import step_by_step, upsert

log = logging.getLogger(__name__)

DELIVER_WEBHOOK: Final = "deliver_webhook"
"""The actor that sends a partner's due deliveries, named: the outbox and the scan wake it."""
MAX_PER_TURN: Final = 50
CLAIM: Final = 16
"""Deliveries a turn claims (and records) together at most."""
TURN_SECONDS: Final = 1.0
"""A turn posts no more once this has passed (a claimed delivery left goes back)."""
PARTNER_TTL: Final = timedelta(seconds=5)
"""Seconds a worker reuses a partner's URL and secrets; a rotation reaches it within that,
well inside any overlap (a disabled endpoint's deliveries are cancelled in the database)."""
ACTOR: Final = "worker:webhooks"

Clock = Callable[[], datetime]
d, e = webhook_deliveries.c, webhook_endpoints.c

# The statements of the hot path, built once (building them per call cost more than running
# them); `:now` is the schedule's clock, in UTC.
_PARTNER_OF = select(d.partner_id).where(d.delivery_id == bindparam("id"))
# Due: pending, its time has come, and no attempt holds it.
_DUE = and_(d.status == PENDING, d.next_attempt_at <= bindparam("now"),
            or_(d.lease_until.is_(None), d.lease_until < bindparam("now")))
_NEXT_DUE = (
    select(d.delivery_id)
    .select_from(webhook_deliveries.outerjoin(webhook_endpoints, e.partner_id == d.partner_id))
    .where(d.partner_id == bindparam("partner"), _DUE,
           or_(e.paused_until.is_(None), e.paused_until <= bindparam("now")))
    .order_by(d.next_attempt_at, d.position).limit(1)
)
_CLAIM = (
    update(webhook_deliveries).where(d.delivery_id == bindparam("id"), _DUE)
    .values(lease_until=bindparam("until"), wake_at=bindparam("until"),
            attempts=d.attempts + 1)
    .returning(d.delivery_id, d.partner_id, d.event_id, d.failures, d.attempts)
)
_CLAIMED = (d.delivery_id, d.partner_id, d.event_id, d.failures, d.attempts)
# The partner's next due deliveries, `first` before the rest; SKIP LOCKED lets the partner's
# other slot claim the ones after them meanwhile instead of waiting to find them taken.
_FIRST = case((d.delivery_id == bindparam("first"), 0), else_=1)
_NEXT_BATCH = (
    select(d.delivery_id)
    .select_from(webhook_deliveries.outerjoin(webhook_endpoints, e.partner_id == d.partner_id))
    .where(d.partner_id == bindparam("partner"), _DUE,
           or_(e.paused_until.is_(None), e.paused_until <= bindparam("now")))
    .order_by(_FIRST, d.next_attempt_at, d.position).limit(bindparam("claim"))
    .with_for_update(skip_locked=True, of=webhook_deliveries)
)
_CLAIM_BATCH = (
    update(webhook_deliveries).where(d.delivery_id.in_(_NEXT_BATCH.scalar_subquery()), _DUE)
    .values(lease_until=bindparam("until"), wake_at=bindparam("until"),
            attempts=d.attempts + 1)
    .returning(*_CLAIMED, _FIRST.label("is_first"), d.next_attempt_at, d.position)
)
_HAND_BACK = (
    update(webhook_deliveries)
    .where(d.delivery_id == bindparam("id"), d.status == PENDING)
    .values(lease_until=None, wake_at=bindparam("wake"), attempts=d.attempts - 1)
)
_BODY = select(messages.c.body).where(messages.c.event_id == bindparam("event"))
_BODIES = select(messages.c.event_id, messages.c.body).where(
    messages.c.event_id.in_(bindparam("events", expanding=True)))
_SUCCEEDED = (
    update(webhook_deliveries).where(d.delivery_id == bindparam("id"))
    .values(status=SUCCEEDED, next_attempt_at=None, wake_at=None, lease_until=None,
            last_status_code=bindparam("code"), last_error=None, updated_at=bindparam("now"))
)
_HEALTHY = (update(webhook_endpoints).where(e.partner_id == bindparam("partner"))
            .values(failing_since=None, last_success_at=bindparam("now")))


@dataclass(frozen=True)
class Attempted:
    """One attempt's result: succeeded, failed, rate_limited, gone or cancelled."""

    delivery_id: str
    outcome: str
    status_code: int | None = None


@dataclass(frozen=True)
class Turn:
    """What one worker turn did for a partner."""

    partner_id: str | None
    attempts: list[Attempted]
    busy: bool = False
    woke: str | None = None


@dataclass(frozen=True)
class _Partner:
    record: PartnerRecord
    secrets: list[str]
    until: datetime


class Deliverer:
    """Sends deliveries; `clock` schedules, `signing_clock` stamps the signature.

    The signature's timestamp is what receivers compare with their own clock, so it is
    always read from the wall clock; tests pass a fixed `clock` for the schedule only.
    """

    def __init__(self, commands: CommandHandler, vault: Vault, sender: PinnedSender,
                 allow_private: bool = False, wake: Callable[[str], object] | None = None,
                 clock: Clock = utc_now, signing_clock: Clock = utc_now) -> None:
        self.commands = commands
        self.vault = vault
        self.allow_private = allow_private
        self.sender = sender
        self.wake = wake
        self.clock = clock
        self.signing_clock = signing_clock
        self._partners: dict[str, _Partner] = {}
        self._partners_guard = threading.Lock()

    # A turn: the actor's body

    def turn(self, delivery_id: str) -> Turn:
        """Send the partner's due deliveries, starting with this one, for one short turn."""
        done: list[Attempted] = []
        with step_by_step(self.commands.engine) as conn:
            partner_id = conn.execute(_PARTNER_OF, {"id": delivery_id}).scalar_one_or_none()
            _end_read(conn)
            if partner_id is None:
                return Turn(None, done)
            with partner_slot(conn, partner_id) as held:
                if not held:
                    return Turn(partner_id, done, busy=True)
                self._turn(conn, partner_id, delivery_id, done)
            woke = self._due_for(conn, partner_id)
        if woke is not None and self.wake is not None:
            self.wake(woke)
        return Turn(partner_id, done, woke=woke)

    def _turn(self, conn: Connection, partner_id: str, first: str,
              done: list[Attempted]) -> None:
        started = time.monotonic()
        while len(done) < MAX_PER_TURN and time.monotonic() - started < TURN_SECONDS:
            now = self.clock()
            rows = conn.execute(_CLAIM_BATCH, {
                "partner": partner_id, "first": first, "now": utc(now),
                "until": utc(now + LEASE), "claim": min(CLAIM, MAX_PER_TURN - len(done)),
            }).all()
            _end_read(conn)
            if not rows:
                return
            rows = sorted(rows, key=lambda r: (r.is_first, utc(r.next_attempt_at), r.position))
            attempted = self._send_claimed(conn, rows, now, started)
            done.extend(attempted)
            if len(attempted) < len(rows) or any(
                    a.outcome in ("gone", "cancelled", "rate_limited") for a in attempted):
                return

    def _due_for(self, conn: Connection, partner_id: str) -> str | None:
        """The partner's next due delivery, unless it asked us to wait."""
        found = conn.execute(_NEXT_DUE, {"partner": partner_id, "now": utc(self.clock())}
                             ).scalar_one_or_none()
        _end_read(conn)
        return found

    # Attempts

    def attempt(self, delivery_id: str) -> Attempted | None:
        """Attempt one delivery if it is due and nobody else is at it; None otherwise."""
        with step_by_step(self.commands.engine) as conn:
            now = self.clock()
            row = conn.execute(_CLAIM, {"id": delivery_id, "now": utc(now),
                                        "until": utc(now + LEASE)}).one_or_none()
            _end_read(conn)
            if row is None:
                return None
            return self._send_claimed(conn, [row], now, time.monotonic())[0]

    def _send_claimed(self, conn: Connection, rows: Sequence[Any], now: datetime,
                      started: float) -> list[Attempted]:
        """Post the claimed deliveries of one partner in order and record what happened.

        Posting stops at an answer that says stop (gone, rate limited) or once the turn's
        time is up; the deliveries left are handed back unattempted.
        """
        found = conn.execute(_BODIES, {"events": [r.event_id for r in rows]})
        bodies: dict[str, str] = {event_id: body for event_id, body in found}
        partner = self._partner(conn, rows[0].partner_id, now)
        _end_read(conn)
        if partner is None or not partner.record.endpoint_enabled:
            with self.commands.engine.begin() as tx:
                cancel_pending(tx, rows[0].partner_id, now, "the partner's endpoint is disabled")
            WEBHOOK_DELIVERIES.labels("cancelled").inc()
            return [Attempted(rows[0].delivery_id, "cancelled")]  # the rest went with it
        answered: list[tuple[Any, Answer]] = []
        for row in rows:
            if answered and (classify(answered[-1][1], now)[0] in ("gone", "rate_limited")
                             or time.monotonic() - started >= TURN_SECONDS):
                break
            answered.append((row, self._post(partner, row.delivery_id,
                                             bodies[row.event_id].encode())))
        return self._record(answered, rows[len(answered):], partner.record, now)

    def _partner(self, conn: Connection, partner_id: str, now: datetime) -> _Partner | None:
        """The partner's URL and secrets, read again every few seconds."""
        with self._partners_guard:
            cached = self._partners.get(partner_id)
        if cached is not None and now < cached.until:
            return cached
        record = get_partner(conn, partner_id)
        if record is None:
            return None
        found = _Partner(record, signing_secrets(conn, self.vault, partner_id, now),
                         now + PARTNER_TTL)
        with self._partners_guard:
            self._partners[partner_id] = found
        return found

    def _post(self, partner: _Partner, delivery_id: str, body: bytes) -> Answer:
        url = partner.record.webhook_url
        try:
            addresses = check_webhook_url(url, self.allow_private)
        except UnsafeWebhookUrl as exc:  # checked again at every attempt: DNS answers change
            return Answer(None, 0, error=f"not sent: {exc}")
        headers = signed_headers(delivery_id, partner.secrets, body, self.signing_clock())
        return self.sender.post(url, addresses, headers, body)

    def _record(self, answered: Sequence[tuple[Any, Answer]], unsent: Sequence[Any],
                partner: PartnerRecord, attempted_at: datetime) -> list[Attempted]:
        """Every answer's attempt and outcome, and the unsent handed back: one transaction."""
        now = self.clock()
        judged = [(row, answer, *classify(answer, now)) for row, answer in answered]
        with self.commands.engine.begin() as conn:
            conn.execute(insert(webhook_attempts), [{
                "delivery_id": row.delivery_id, "attempt": row.attempts,
                "partner_id": row.partner_id, "attempted_at": utc(attempted_at),
                "outcome": outcome, "status_code": answer.status,
                "latency_ms": answer.latency_ms,
                "error": None if outcome == "succeeded" else describe(answer),
            } for row, answer, outcome, _ in judged])
            succeeded = [(row, answer) for row, answer, outcome, _ in judged
                         if outcome == "succeeded"]
            if succeeded:
                conn.execute(_SUCCEEDED, [{"id": row.delivery_id, "code": answer.status,
                                           "now": utc(now)} for row, answer in succeeded])
                self._healthy(conn, partner.partner_id, now)
            for row, answer, outcome, wait in judged:
                if outcome == "gone":
                    error = describe(answer)
                    self._finish(conn, row, FAILED, answer, error, now)
                    self._failing(conn, row.partner_id, now, None, answer.status)
                    self._disable(conn, partner, "gone", now, row.delivery_id)
                elif outcome != "succeeded":
                    self._retry_later(conn, row, answer, describe(answer), now, wait)
            if unsent:
                wake = utc(now + REQUEUE_AFTER)  # the turn's end wakes the next turn
                conn.execute(_HAND_BACK, [{"id": row.delivery_id, "wake": wake}
                                          for row in unsent])
        for row, answer, outcome, _ in judged:
            WEBHOOK_DELIVERIES.labels(outcome).inc()
            if answer.status is not None or answer.latency_ms:  # 0 and None: never sent
                WEBHOOK_DELIVERY_SECONDS.observe(answer.latency_ms / 1000)
            if outcome != "succeeded":
                log.info("webhook %s to partner %s: %s (%s)", row.delivery_id,
                         partner.partner_id, outcome, describe(answer))
        return [Attempted(row.delivery_id, outcome, answer.status)
                for row, answer, outcome, _ in judged]

    def _finish(self, conn: Connection, row: Any, status: str, answer: Answer,
                error: str | None, now: datetime, **values: Any) -> None:
        conn.execute(update(webhook_deliveries).where(d.delivery_id == row.delivery_id)
                     .values(status=status, next_attempt_at=None, wake_at=None,
                             lease_until=None, last_status_code=answer.status,
                             last_error=error, updated_at=utc(now), **values))

    def _healthy(self, conn: Connection, partner_id: str, now: datetime) -> None:
        """Note the success (the partner's first one makes its endpoint's row)."""
        if conn.execute(_HEALTHY, {"partner": partner_id, "now": utc(now)}).rowcount == 0:
            upsert(conn, webhook_endpoints, [{"partner_id": partner_id,
                                              "last_success_at": utc(now)}], ["partner_id"],
                   lambda new: {"failing_since": None, "last_success_at": new.last_success_at})

    def _retry_later(self, conn: Connection, row: Any, answer: Answer, error: str | None,
                     now: datetime, pause: timedelta | None) -> None:
        """Schedule the next attempt; a Retry-After pause spends no retry."""
        failures = row.failures if pause is not None else row.failures + 1
        wait = pause if pause is not None else retry_delay(row.delivery_id, failures)
        if wait is None:
            self._finish(conn, row, FAILED, answer, error, now, failures=failures)
        else:
            at = utc(now + wait)
            conn.execute(update(webhook_deliveries).where(d.delivery_id == row.delivery_id)
                         .values(status=PENDING, failures=failures, next_attempt_at=at,
                                 wake_at=at, lease_until=None, last_status_code=answer.status,
                                 last_error=error, updated_at=utc(now)))
        failing_since = self._failing(conn, row.partner_id, now, pause, answer.status)
        if now - failing_since >= DISABLE_AFTER:
            partner = get_partner(conn, row.partner_id)
            if partner is not None:
                self._disable(conn, partner, "failing", now, row.delivery_id)

    def _failing(self, conn: Connection, partner_id: str, now: datetime,
                 pause: timedelta | None, status: int | None) -> datetime:
        """Note the failure, its status (and any pause); since when the endpoint has been
        failing."""
        at = utc(now)
        upsert(conn, webhook_endpoints, [{
            "partner_id": partner_id, "failing_since": at, "last_failure_at": at,
            "last_failure_status": status,
            "paused_until": utc(now + pause) if pause is not None else None,
        }], ["partner_id"], lambda new: {
            "failing_since": func.coalesce(e.failing_since, new.failing_since),
            "last_failure_at": new.last_failure_at,
            "last_failure_status": new.last_failure_status,
            "paused_until": new.paused_until if pause is not None else e.paused_until,
        })
        since = conn.execute(select(e.failing_since).where(e.partner_id == partner_id)
                             ).scalar_one()
        return utc(since)

    def _disable(self, conn: Connection, partner: PartnerRecord, reason: DisableReason,
                 now: datetime, delivery_id: str) -> None:
        cancel_pending(conn, partner.partner_id, now, f"endpoint disabled ({reason})")
        self.commands.handle(
            DisablePartnerEndpoint(partner_id=partner.partner_id, reason=reason,
                                   disabled_at=utc(now)),
            Meta(actor=ACTOR, correlation_id=f"webhook:{delivery_id}"), conn=conn)
        with self._partners_guard:
            self._partners.pop(partner.partner_id, None)
        log.warning("webhooks to partner %s disabled: %s", partner.partner_id, reason)


def _end_read(conn: Connection) -> None:
    """SQLite holds its (immediate) transaction until told: end it between steps."""
    if conn.in_transaction():
        conn.commit()

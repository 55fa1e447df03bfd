"""Planning campaign e-mails: who gets which mailing, in batches, when the log says so.

Launching an action mails everyone whose subscriptions cover it. Updates, stop notices
and case developments go to the people who received the original action, not to the
whole list. Each person gets the action in their language when it exists in it, else in
the action's own (`read_models.action_translations`), so each batch is in one language.

Planning runs as a checkpointed subscription: the deliveries and the `MailingPlanned`
event commit together with the checkpoint, and ids derive from the causing event, so
reading an event twice plans nothing twice.

A large audience is planned in parts of `part_size` supporters (by id), each in its own
transaction, so the first batches are sent while the rest is still being planned: the
first part commits with `MailingPlanned`, and each part's event (`more_to_plan`) makes the
same subscription plan the next one, after the last supporter id the part covered, as
`BatchesPlanned`. A part read again (a crash before its checkpoint moved) finds the plan
already past it and plans nothing; someone who can no longer be mailed by the time their
part is planned is not in it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from sqlalchemy import Connection, Text, cast, select

from campaign.application.commands import CommandHandler, Meta, policy_meta
from campaign.domain import action, case, mailing
from campaign.domain.codec import from_data
from campaign.domain.mailing import MAX_RECIPIENTS_PER_BATCH, BatchPlan, MailingKind
from campaign.infra.event_mapping import replay
from campaign.infra.tables import actions, mail_deliveries, stream_directory, supporters
from campaign.mail.parts import Part, pages
from campaign.mail.sending import Plans, decide_on_mailing, mailing_state
from campaign.read_models.action_translations import languages_of
from events import StoredEvent, Subscription
from events.sql import insert_rows

NAMESPACE = uuid.UUID("6f1c2d4e-135a-4010-9e58-015201000000")
_NAMESPACE_BYTES = NAMESPACE.bytes
PAGE_SIZE = 5_000
"""Supporters read per statement while finding an audience."""
PART_SIZE = 25_000
"""Supporters read per part of a mailing planned in parts: one transaction each."""
PARTS = frozenset({mailing.MailingPlanned.type_name, mailing.BatchesPlanned.type_name})

CAUSES = frozenset({
    action.ActionLaunched.type_name, action.ActionUpdated.type_name,
    action.ActionClosed.type_name, case.DevelopmentRecorded.type_name,
    case.DevelopmentApproved.type_name,
})


def launch_mailing_id(action_id: str) -> str:
    """The one mailing that announced an action: later mailings go to its recipients."""
    return str(uuid.uuid5(NAMESPACE, f"action_launched:{action_id}"))


def mailing_id_for(kind: MailingKind, action_id: str, cause: StoredEvent) -> str:
    """A mailing id fixed by its cause, so planning the same cause twice finds it."""
    if kind == "action_launched":
        return launch_mailing_id(action_id)
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{action_id}:{cause.event_id}"))


def delivery_id(mailing_id: str, supporter_id: str) -> str:
    """`str(uuid.uuid5(NAMESPACE, f"{mailing_id}:{supporter_id}"))`, without building a UUID
    object on the way (a launch makes one per supporter)."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{mailing_id}:{supporter_id}"
                                    .encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Recipient:
    """Who a mailing goes to, by id only: addresses are looked up when sending.

    `locale` is the supporter's own as audiences are found; in a planned mailing about an
    action, it is the language they receive the action in (`in_their_language`).
    """

    supporter_id: str
    locale: str


def plan_mailings(commands: CommandHandler, part_size: int = PART_SIZE) -> Subscription:
    """The subscription that plans a mailing for each event that warrants one, and the
    next part of each mailing whose last part planned left more to plan."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        plans = Plans(commands.store)  # this transaction's: it may read parts it appends
        for stored in events:
            if stored.type in PARTS:
                if stored.data.get("more_to_plan"):
                    plan_part(conn, commands, plans, stored.data["mailing_id"],
                              stored.data["planned_through"], stored, part_size)
                continue
            for kind, action_id, case_id in _mailings_for(conn, commands, stored):
                mailing_id = mailing_id_for(kind, action_id, stored)
                if kind != "action_launched":  # it goes to the launch's recipients: all of them
                    finish_planning(conn, commands, plans, launch_mailing_id(action_id),
                                    stored, part_size)
                plan(conn, commands, stored, kind, mailing_id, action_id, case_id, part_size)

    return Subscription("mailing_planner", react, CAUSES | PARTS)


def plan(
    conn: Connection, commands: CommandHandler, cause: StoredEvent, kind: MailingKind,
    mailing_id: str, action_id: str, case_id: str, part_size: int = PART_SIZE,
) -> None:
    """Record the first part's deliveries in batches and the MailingPlanned event, unless
    already planned.

    The audience is read a page at a time and written a batch at a time: a launch to a
    million supporters never holds them all in memory.
    """
    if is_planned(conn, commands, mailing_id):
        return
    part = Part(None, part_size)
    record_mailing(conn, commands, mailing.PlanMailing(
        mailing_id=mailing_id, kind=kind, action_id=action_id, case_id=case_id,
        cause_event_id=str(cause.event_id), batches=(), planned_at=cause.recorded_at,
    ), _received_in(conn, action_id, _part_pages(conn, kind, action_id, part)),
        policy_meta("mailings", cause), part)


def plan_part(conn: Connection, commands: CommandHandler, plans: Plans, mailing_id: str,
              after: str | None, cause: StoredEvent, part_size: int = PART_SIZE) -> None:
    """Plan the mailing's part after supporter id `after`, unless it was planned already.

    `cause` is the event that asked for it: the part before's, or one whose mailing needs
    this one's audience complete (`finish_planning`).
    """
    state, _ = mailing_state(conn, plans, mailing_id)
    if not state.more_to_plan or state.planned_through != after:
        return
    planned = plans.get(conn, mailing_id)
    assert planned is not None and planned.event.action_id is not None
    kind, action_id = planned.event.kind, planned.event.action_id
    part = Part(state.planned_through, part_size)
    people = _received_in(conn, action_id, _part_pages(conn, kind, action_id, part))
    batches = []
    for batch, deliveries in _batches(mailing_id, kind, people, len(state.batches) + 1):
        insert_rows(conn, mail_deliveries, deliveries)
        batches.append(batch)
    decide_on_mailing(conn, commands, plans, mailing.PlanBatches(
        mailing_id, part.after, tuple(batches), not part.exhausted, part.through,
        cause.recorded_at), policy_meta("mailings", cause))


def finish_planning(conn: Connection, commands: CommandHandler, plans: Plans, mailing_id: str,
                    cause: StoredEvent, part_size: int = PART_SIZE) -> None:
    """Plan every part the mailing has left, now, in this transaction: an update or stop
    notice planned while its launch is still being planned must reach all of the launch's
    recipients. The launch's own part events then find their parts planned."""
    while True:
        state, _ = mailing_state(conn, plans, mailing_id)
        if not state.more_to_plan:
            return
        plan_part(conn, commands, plans, mailing_id, state.planned_through, cause, part_size)


def _part_pages(conn: Connection, kind: MailingKind, action_id: str, part: Part
                ) -> Iterator[Recipient]:
    return (_eligible_pages(conn, action_id, part) if kind == "action_launched"
            else _previous_pages(conn, action_id, part))


def in_their_language(
    conn: Connection, action_id: str, people: Sequence[Recipient]
) -> list[Recipient]:
    """Each of `people` with the language they receive the action in as their locale."""
    return list(_received_in(conn, action_id, people))


def _received_in(
    conn: Connection, action_id: str, people: Iterable[Recipient]
) -> Iterator[Recipient]:
    document = conn.execute(select(actions.c.document)
                            .where(actions.c.action_id == action_id)).scalar_one()
    received_by = cache(languages_of(conn, action_id, document).received_by)  # per locale
    return (Recipient(p.supporter_id, received_by(p.locale)) for p in people)


def audience(conn: Connection, action_id: str) -> list[Recipient]:
    """Who the action's next mailing reaches, with their own locales.

    Once its launch was planned, the launch's recipients who can still be mailed (as
    updates and stop notices go); before that, the subscribers its launch would reach.
    """
    launch = mailing.mailing_stream(launch_mailing_id(action_id))
    planned = conn.execute(select(stream_directory.c.stream_id)
                           .where(stream_directory.c.stream_id == launch)).first()
    if planned is not None:
        return previous_recipients(conn, action_id)
    return eligible_subscribers(conn, action_id)


def is_planned(conn: Connection, commands: CommandHandler, mailing_id: str) -> bool:
    """Whether this mailing was planned already (its id derives from what caused it)."""
    state, _ = commands.load(conn, mailing.mailing_stream(mailing_id),
                             commands.routes[mailing.PlanMailing].aggregate)
    return bool(state.planned)


def record_mailing(
    conn: Connection, commands: CommandHandler, draft: mailing.PlanMailing,
    audience: Iterable[Recipient], meta: Meta, part: Part | None = None,
) -> None:
    """Split `audience` into batches, write its delivery rows and the MailingPlanned event
    (with where planning stands, when `audience` is the first `part` of a larger one).

    Both go through `conn`, so they commit together with whatever decided to mail.
    """
    batches = []
    for batch, deliveries in _batches(draft.mailing_id, draft.kind, audience):
        insert_rows(conn, mail_deliveries, deliveries)  # a batch at a time: bounded memory
        batches.append(batch)
    if part is not None:
        draft = replace(draft, more_to_plan=not part.exhausted, planned_through=part.through)
    commands.handle(replace(draft, batches=tuple(batches)), meta, conn=conn)


ReachableNow = Callable[[Connection, set[str]], dict[str, str]]
"""The locale of each of these supporters who may still receive a mailing, by id."""
Answered = Callable[[Connection, StoredEvent], bool]
"""Whether the request this cause made has been answered since (nothing left to send)."""


def one_per_cause(
    commands: CommandHandler, name: str, kind: MailingKind, causes: frozenset[str],
    reachable: ReachableNow, policy: str, answered: Answered | None = None,
) -> Subscription:
    """A subscription that plans one `kind` mailing to the supporter each cause names.

    For the e-mails someone asked for (a confirmation, a manage-my-data link): the mailing
    id derives from the causing event, so reading it twice plans nothing twice, and someone
    `reachable` no longer answers for by the time the planner runs gets nothing, nor does
    one whose request is `answered` by then.
    """

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        locales = reachable(conn, {e.data["supporter_id"] for e in events})
        for cause in events:
            supporter_id = cause.data["supporter_id"]
            mailing_id = str(uuid.uuid5(NAMESPACE, f"{kind}:{cause.event_id}"))
            if supporter_id not in locales or is_planned(conn, commands, mailing_id) or (
                    answered is not None and answered(conn, cause)):
                continue
            record_mailing(conn, commands, mailing.PlanMailing(
                mailing_id=mailing_id, kind=kind, action_id=None, case_id=None,
                cause_event_id=str(cause.event_id), batches=(), planned_at=cause.recorded_at,
            ), [Recipient(supporter_id, locales[supporter_id])], policy_meta(policy, cause))

    return Subscription(name, react, causes)


def _mailings_for(
    conn: Connection, commands: CommandHandler, stored: StoredEvent
) -> Iterator[tuple[MailingKind, str, str]]:
    event = from_data(stored.type, stored.data)
    if isinstance(event, action.ActionLaunched | action.ActionUpdated | action.ActionClosed):
        row = conn.execute(select(actions.c.case_id).where(
            actions.c.action_id == event.action_id)).one()
        kinds: dict[type, MailingKind] = {action.ActionLaunched: "action_launched",
                                          action.ActionUpdated: "action_updated",
                                          action.ActionClosed: "action_closed"}
        yield kinds[type(event)], event.action_id, row.case_id
    elif isinstance(event, case.DevelopmentRecorded | case.DevelopmentApproved):
        if isinstance(event, case.DevelopmentRecorded) and event.pending_approval:
            return  # waits for a campaigner's approval; DevelopmentApproved mails it
        case_actions = conn.execute(select(actions.c.action_id).where(
            actions.c.case_id == event.case_id)).scalars().all()
        for action_id in case_actions:
            if _open_when(conn, commands, action_id, stored.position):
                yield "case_development", action_id, event.case_id


def _open_when(conn: Connection, commands: CommandHandler, action_id: str, position: int) -> bool:
    """Whether the action was launched and not yet closed when the log reached `position`.

    The planner may run long after the fact: only the log, not today's read model, knows.
    """
    state, _ = replay(commands.store, conn, action.action_stream(action_id), action.AGGREGATE,
                      before_position=position + 1)
    return bool(state.status == "launched")


def _can_receive() -> Any:
    """Who may get campaign mail: consented, and not unsubscribed, paused, suppressed or
    erased (mail a person asks for, about no action, has its own rules)."""
    c = supporters.c
    return ((c.consented.is_(True)) & (c.unsubscribed.is_(False)) & (c.email_paused.is_(False))
            & (c.suppressed.is_(None)) & (c.erased.is_(False)))


def eligible_subscribers(conn: Connection, action_id: str) -> list[Recipient]:
    """Consented, reachable supporters whose subscriptions cover the action."""
    return list(_eligible_pages(conn, action_id))


def previous_recipients(conn: Connection, action_id: str) -> list[Recipient]:
    """Who received the action when it was launched, and can still receive e-mail."""
    return list(_previous_pages(conn, action_id))


def _eligible_pages(conn: Connection, action_id: str, part: Part | None = None
                    ) -> Iterator[Recipient]:
    """`eligible_subscribers` by supporter id, read a page at a time (keyset), only the
    columns the choice needs."""
    row = conn.execute(select(actions.c.country, actions.c.case_id)
                       .where(actions.c.action_id == action_id)).one()
    c = supporters.c
    # The lists as text, each distinct one decoded once: most members share a handful.
    query = select(c.supporter_id, c.locale, c.all_actions,
                   cast(c.countries, Text).label("countries"),
                   cast(c.case_ids, Text).label("case_ids")).where(_can_receive())
    decoded = cache(json.loads)
    for page in pages(conn, query, c.supporter_id, PAGE_SIZE, part):
        yield from (Recipient(p.supporter_id, p.locale or "en") for p in page
                    if p.all_actions or row.country in decoded(p.countries)
                    or row.case_id in decoded(p.case_ids))


def _previous_pages(conn: Connection, action_id: str, part: Part | None = None
                    ) -> Iterator[Recipient]:
    """`previous_recipients` by supporter id, read a page at a time (keyset)."""
    query = (select(supporters.c.supporter_id, supporters.c.locale)
             .join(mail_deliveries, mail_deliveries.c.supporter_id == supporters.c.supporter_id)
             .where(mail_deliveries.c.mailing_id == launch_mailing_id(action_id), _can_receive()))
    for page in pages(conn, query, supporters.c.supporter_id, PAGE_SIZE, part):
        yield from (Recipient(p.supporter_id, p.locale or "en") for p in page)


def _batches(
    mailing_id: str, kind: MailingKind, audience: Iterable[Recipient], first: int = 1,
) -> Iterator[tuple[BatchPlan, list[dict[str, str]]]]:
    """Batches of at most 1,000 per locale, each with one delivery row per recipient,
    numbered from `first` (a later part goes on from the parts before).

    A batch is yielded once full, so only one unfinished batch per locale is held; the
    unfinished ones follow at the end, by locale. Recipients keep the audience's order.
    """
    waiting: dict[str, list[str]] = defaultdict(list)
    number = first - 1

    def batch(locale: str, ids: list[str]) -> tuple[BatchPlan, list[dict[str, str]]]:
        nonlocal number
        number += 1
        batch_id = f"{mailing_id}-{number}"
        return BatchPlan(batch_id, kind, locale, len(ids)), [{
            "delivery_id": delivery_id(mailing_id, supporter_id),
            "mailing_id": mailing_id, "batch_id": batch_id, "supporter_id": supporter_id,
        } for supporter_id in ids]

    for recipient in audience:
        ids = waiting[recipient.locale]
        ids.append(recipient.supporter_id)
        if len(ids) == MAX_RECIPIENTS_PER_BATCH:
            yield batch(recipient.locale, ids)
            waiting[recipient.locale] = []
    for locale in sorted(waiting):
        if waiting[locale]:
            yield batch(locale, waiting[locale])

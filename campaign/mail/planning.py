"""Planning campaign e-mails: who gets which mailing, in batches, when the log says so.

Launching an action mails everyone whose subscriptions cover it. Updates, stop notices
and case developments go to the people who received the original action, not to the
whole list. Each person gets the action in their language when it exists in it, else in
the action's own (`read_models.action_translations`), so each batch is in one language.

Planning runs as a checkpointed subscription: the deliveries and the `MailingPlanned`
event commit together with the checkpoint, and ids derive from the causing event, so
reading an event twice plans nothing twice.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, insert, select

from campaign.application.commands import CommandHandler, Meta, policy_meta
from campaign.domain import action, case, mailing
from campaign.domain.codec import from_data
from campaign.domain.mailing import MAX_RECIPIENTS_PER_BATCH, BatchPlan, MailingKind
from campaign.infra.event_mapping import replay
from campaign.infra.tables import actions, mail_deliveries, stream_directory, supporters
from campaign.read_models.action_translations import languages_of
from events import StoredEvent, Subscription

NAMESPACE = uuid.UUID("6f1c2d4e-135a-4010-9e58-015201000000")

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


@dataclass(frozen=True)
class Recipient:
    """Who a mailing goes to, by id only: addresses are looked up when sending.

    `locale` is the supporter's own as audiences are found; in a planned mailing about an
    action, it is the language they receive the action in (`in_their_language`).
    """

    supporter_id: str
    locale: str


def plan_mailings(commands: CommandHandler) -> Subscription:
    """The subscription that plans a mailing for each event that warrants one."""

    def react(conn: Connection, events: Sequence[StoredEvent]) -> None:
        for stored in events:
            for kind, action_id, case_id in _mailings_for(conn, commands, stored):
                mailing_id = mailing_id_for(kind, action_id, stored)
                plan(conn, commands, stored, kind, mailing_id, action_id, case_id)

    return Subscription("mailing_planner", react, CAUSES)


def plan(
    conn: Connection, commands: CommandHandler, cause: StoredEvent, kind: MailingKind,
    mailing_id: str, action_id: str, case_id: str,
) -> None:
    """Record deliveries in batches and the MailingPlanned event, unless already planned."""
    if is_planned(conn, commands, mailing_id):
        return
    people = (eligible_subscribers(conn, action_id) if kind == "action_launched"
              else previous_recipients(conn, action_id))
    record_mailing(conn, commands, mailing.PlanMailing(
        mailing_id=mailing_id, kind=kind, action_id=action_id, case_id=case_id,
        cause_event_id=str(cause.event_id), batches=(), planned_at=cause.recorded_at,
    ), in_their_language(conn, action_id, people), policy_meta("mailings", cause))


def in_their_language(
    conn: Connection, action_id: str, people: Sequence[Recipient]
) -> list[Recipient]:
    """Each of `people` with the language they receive the action in as their locale."""
    document = conn.execute(select(actions.c.document)
                            .where(actions.c.action_id == action_id)).scalar_one()
    languages = languages_of(conn, action_id, document)
    return [Recipient(p.supporter_id, languages.received_by(p.locale)) for p in people]


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
    audience: Sequence[Recipient], meta: Meta,
) -> None:
    """Split `audience` into batches, write its delivery rows and the MailingPlanned event.

    Both go through `conn`, so they commit together with whatever decided to mail.
    """
    batches = []
    for batch, deliveries in _batches(draft.mailing_id, draft.kind, audience):
        conn.execute(insert(mail_deliveries), deliveries)  # a batch at a time: bounded memory
        batches.append(batch)
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
    row = conn.execute(select(actions.c.country, actions.c.case_id)
                       .where(actions.c.action_id == action_id)).one()
    candidates = conn.execute(  # streamed: a list of the whole membership would be large
        select(supporters.c.supporter_id, supporters.c.locale, supporters.c.all_actions,
               supporters.c.countries, supporters.c.case_ids)
        .where(_can_receive()).order_by(supporters.c.supporter_id)
        .execution_options(yield_per=2000)
    )
    return [Recipient(c.supporter_id, c.locale or "en") for c in candidates
            if c.all_actions or row.country in c.countries or row.case_id in c.case_ids]


def previous_recipients(conn: Connection, action_id: str) -> list[Recipient]:
    """Who received the action when it was launched, and can still receive e-mail."""
    rows = conn.execute(
        select(supporters.c.supporter_id, supporters.c.locale)
        .join(mail_deliveries, mail_deliveries.c.supporter_id == supporters.c.supporter_id)
        .where(mail_deliveries.c.mailing_id == launch_mailing_id(action_id), _can_receive())
        .order_by(supporters.c.supporter_id)
    )
    return [Recipient(r.supporter_id, r.locale or "en") for r in rows]


def _batches(
    mailing_id: str, kind: MailingKind, audience: Sequence[Recipient]
) -> Iterator[tuple[BatchPlan, list[dict[str, str]]]]:
    """Batches of at most 1,000 per locale, each with one delivery row per recipient."""
    by_locale: dict[str, list[str]] = defaultdict(list)
    for recipient in audience:
        by_locale[recipient.locale].append(recipient.supporter_id)
    number = 0
    for locale in sorted(by_locale):
        ids = by_locale[locale]
        for start in range(0, len(ids), MAX_RECIPIENTS_PER_BATCH):
            number += 1
            batch_id = f"{mailing_id}-{number}"
            chunk = ids[start:start + MAX_RECIPIENTS_PER_BATCH]
            yield BatchPlan(batch_id, kind, locale, len(chunk)), [{
                "delivery_id": str(uuid.uuid5(NAMESPACE, f"{mailing_id}:{supporter_id}")),
                "mailing_id": mailing_id, "batch_id": batch_id, "supporter_id": supporter_id,
            } for supporter_id in chunk]

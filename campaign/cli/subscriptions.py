"""`campaign subscriptions`: where each subscription stands, what it set aside, and what an
operator does about a stuck one: run it again now (`retry`), or skip the one event it cannot
get past (`skip`, parked with who and why and recorded for the audit)."""

from __future__ import annotations

import getpass

import click

from campaign.application.operations import retry, skip
from campaign.bootstrap import Container
from campaign.cli.context import cli_meta, container_from_env, refusing
from campaign.infra.clock import utc_now
from campaign.partners.webhooks.delivery import DELIVER_WEBHOOK
from campaign.partners.webhooks.outbox import NAME as WEBHOOK_OUTBOX
from campaign.partners.webhooks.outbox import Outbox
from events.status import SubscriptionState, parked, subscription_states
from workers.actors import declare_actors


@click.group("subscriptions", cls=click.Group)
def subscriptions() -> None:
    """Subscriptions that follow the log: where each stands, what it set aside."""


@subscriptions.command("list")
def subscriptions_list() -> None:
    """One line per subscription: name, position, lag, where it stopped, parked events."""
    container = container_from_env()
    with container.engine.connect() as conn:
        head = container.store.head(conn=conn)
        states = subscription_states(conn)
    for s in states:
        stopped = (f"stopped at {s.failed_position}: {s.last_error}"
                   if s.failed_position is not None else "running")
        where = "-\t-" if s.position is None else f"{s.position}\tlag {max(head - s.position, 0)}"
        click.echo(f"{s.name}\t{where}\t{stopped}\tparked {s.parked}")


@subscriptions.command("parked")
@click.argument("name")
def subscriptions_parked(name: str) -> None:
    """The events NAME set aside: position, event id, type, error, when."""
    with container_from_env().engine.connect() as conn:
        found = parked(conn, name, limit=10_000)
    for p in found:
        click.echo(f"{p.position}\t{p.event_id}\t{p.event_type}\t{p.error}\t"
                   f"{p.parked_at:%Y-%m-%d %H:%M:%S} UTC")


@subscriptions.command("retry")
@click.argument("name")
def subscriptions_retry(name: str) -> None:
    """Run NAME now, from where it stopped, and say whether it got past it.

    Exits 1 when it is still stuck, or when a worker was running it (its run is the retry).
    """
    c = container_from_env()
    before = _state(c, name)
    if not _run(c, name):
        raise click.ClickException(f"{name} is being run by a worker right now; see "
                                   "`campaign status` in a moment")
    after = _state(c, name)
    if after is not None and after.stuck:
        since = f" since {after.stuck_since:%Y-%m-%d %H:%M:%S} UTC" if after.stuck_since else ""
        still = "still " if before and before.failed_position == after.failed_position else ""
        raise click.ClickException(f"{name} is {still}stuck at position "
                                   f"{after.failed_position}{since}: {after.last_error}")
    was = (f"got past position {before.failed_position}" if before and before.stuck
           else "was not stuck; ran it")
    where = "" if after is None else f": at position {after.position}, {after.lag_events} behind"
    click.echo(f"{name} {was}{where}")


@subscriptions.command("skip")
@click.argument("name")
@click.option("--position", required=True, type=click.IntRange(1),
              help="The position NAME is stuck at (see `campaign status`).")
@click.option("--reason", required=True, help="Why it may never be handled (the audit shows it).")
@click.option("--by", "skipped_by", default=None,
              help="Who skips it. Default: the login name running the command.")
def subscriptions_skip(name: str, position: int, reason: str, skipped_by: str | None) -> None:
    """Skip the event NAME is stuck at: park it with who and why, move past it, and record
    `SubscriptionEventSkipped`. What NAME would have done with it is never done."""
    c = container_from_env()
    who = skipped_by or getpass.getuser()
    event = refusing(lambda: skip(c.commands, name, position, who, reason, cli_meta(),
                                  utc_now()))
    click.echo(f"{name} skipped position {position} ({event.type} {event.event_id}); it goes on "
               f"from there on the next clock tick. Parked: campaign subscriptions parked {name}")


def _run(c: Container, name: str) -> bool:
    """Run subscription `name` once, as a worker would; False when someone else was running it.

    The actors are declared first: the subscriptions that enqueue (the mail dispatcher, the
    webhook outbox) name them, and a message to an actor the broker does not know would be
    an error no retry fixes, which parks the event.
    """
    declare_actors(c)
    if name == WEBHOOK_OUTBOX:
        outbox = Outbox(c.store, c.queue.sender(DELIVER_WEBHOOK), utc_now)
        return outbox.run_once() is not None
    if name not in c.subscriptions:
        known = ", ".join(c.subscription_names)
        raise click.ClickException(f"no subscription {name!r}; known: {known}")
    return not retry(c.store, c.subscriptions[name]).busy


def _state(c: Container, name: str) -> SubscriptionState | None:
    with c.engine.connect() as conn:
        return next((s for s in subscription_states(conn) if s.name == name), None)

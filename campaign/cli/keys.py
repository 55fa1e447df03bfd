"""`campaign keys`: which secret of the key ring holds the stored data, and rotating it.

Replacing SECRET_KEY is three steps (docs/operations.md, "Key rotation"): put the new key
in SECRET_KEY and the old one first in SECRET_KEY_PREVIOUS on every process, run
`campaign keys rotate`, and drop the old key once the links signed with it have expired.
Output names secrets by their place in the ring and their key id, never by value.
"""

from __future__ import annotations

import click

from campaign.application.key_rotation import (
    Rotation,
    digests_filed,
    links_signed_before_valid_until,
    rotate_keys,
)
from campaign.cli.context import container_from_env
from campaign.infra.clock import utc_now
from events.keyring import KeyRing
from events.personal_data import UnknownWrappingKey


@click.group()
def keys() -> None:
    """The key ring (SECRET_KEY, SECRET_KEY_PREVIOUS): status and rotation."""


@keys.command("status")
def keys_status() -> None:
    """The secrets of the ring by key id, and how many data keys each one wraps."""
    c = container_from_env()
    ring = c.vault.ring
    with c.engine.connect() as conn:
        counts = c.vault.key_ids_in_use(conn)
    for place, key_id in enumerate(ring.ids):
        click.echo(f"{_name(place)}\t{key_id}\t{counts.pop(key_id, 0)} data keys")
    for other, count in counts.items():
        label = "before key ids" if other is None else "NOT IN THE RING"
        click.echo(f"{label}\t{other or '-'}\t{count} data keys")
    click.echo(f"supporters findable by e-mail\t{digests_filed(c.engine)}")


@keys.command("rotate")
def keys_rotate() -> None:
    """Rewrap every data key and rebuild the e-mail blind index under SECRET_KEY.

    Safe while the system serves, and resumable: run it again after an interruption.
    """
    c = container_from_env()
    ring = c.vault.ring
    click.echo(f"rotating to SECRET_KEY (key id {ring.newest_id}); "
               f"{len(ring.ids) - 1} older secret(s) in SECRET_KEY_PREVIOUS", err=True)
    try:
        rotation = rotate_keys(c.engine, c.vault, c.blind_index,
                               progress=lambda line: click.echo(line, err=True))
    except UnknownWrappingKey as exc:
        raise click.ClickException(f"{exc}; nothing was lost: run again once it is back") \
            from None
    _report(rotation, ring)


def _report(rotation: Rotation, ring: KeyRing) -> None:
    index = rotation.index
    click.echo(f"data keys rewrapped: {rotation.keys_rewrapped} "
               f"(erased meanwhile: {rotation.keys_changed_meanwhile})")
    click.echo(f"e-mail digests rebuilt: {index.rebuilt}, already current: {index.current}, "
               f"erased meanwhile: {index.changed_meanwhile}")
    if not rotation.complete:
        raise click.ClickException(
            f"not finished: {rotation.keys_left} data key(s) and {rotation.late_digests} "
            f"digest(s) were still written under an older secret, {index.duplicates} "
            f"address(es) are filed twice. Make sure every process (web, worker, clock) runs "
            f"with the new SECRET_KEY, then run `campaign keys rotate` again.")
    until = links_signed_before_valid_until(utc_now())
    click.echo(f"done: all stored data is under SECRET_KEY (key id {ring.newest_id}).")
    if len(ring.ids) > 1:
        click.echo(f"The older secrets are no longer needed to read stored data. Keep them in "
                   f"SECRET_KEY_PREVIOUS until {until:%Y-%m-%d} so that links already sent "
                   f"keep working (unsubscribe links live longest), then remove them.")


def _name(place: int) -> str:
    return "SECRET_KEY" if place == 0 else f"SECRET_KEY_PREVIOUS {place}"

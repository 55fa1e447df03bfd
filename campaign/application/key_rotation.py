"""Moving everything stored under an older secret to the newest one of the key ring.

Two things hang on the secret in the database: each data key is wrapped with a key derived
from it, and each supporter's e-mail is filed under a blind index digest keyed by it.
`rotate_keys` rewraps the one and rebuilds the other, page by page in short transactions,
while the system serves: readers use any secret of the ring meanwhile, and every write is
a compare-and-set, so a supporter erased or registered during the rotation is left as the
other writer made them. It is resumable because it is idempotent: rows already under the
newest secret are skipped, so running it again after an interruption finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError

from campaign.application.access import ACTION_LINK_LIFETIME_SECONDS, LINK_LIFETIME_SECONDS
from campaign.domain.supporter import supporter_stream
from campaign.domain.values import normalise_email
from campaign.infra.tables import supporters
from events.personal_data import MASK, BlindIndex, Vault

INDEX_PAGE = 500
Progress = Callable[[str], None]


@dataclass(frozen=True)
class IndexPass:
    """What one pass over the blind index did."""

    rebuilt: int = 0
    """Digests now under the newest secret."""
    current: int = 0
    """Digests that already were."""
    changed_meanwhile: int = 0
    """Supporters erased (or re-filed by another run) during the pass: left as they are."""
    duplicates: int = 0
    """Addresses the newest digest already files under another supporter: left as they are."""

    def __add__(self, other: IndexPass) -> IndexPass:
        return IndexPass(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


@dataclass(frozen=True)
class Rotation:
    """What `rotate_keys` did, and what is left under older secrets."""

    keys_rewrapped: int
    keys_changed_meanwhile: int
    index: IndexPass
    keys_left: int
    """Data keys still wrapped under an older secret after the rotation (0 when done)."""
    late_digests: int
    """Digests under an older secret that the verifying pass still found (0 when done): a
    process still signs with the old SECRET_KEY."""

    @property
    def complete(self) -> bool:
        return self.keys_left == 0 and self.late_digests == 0 and self.index.duplicates == 0


def rotate_keys(engine: Engine, vault: Vault, index: BlindIndex,
                progress: Progress = lambda _: None) -> Rotation:
    """Rewrap every data key and rebuild the blind index under the ring's newest secret,
    then check that nothing is left under an older one."""
    rewrapped, changed = rewrap_data_keys(engine, vault, progress)
    rebuilt = rebuild_email_index(engine, vault, index, progress)
    # A second pass finds digests that a process still running with the old SECRET_KEY
    # filed during the first (and rebuilds them); after a clean first pass it finds none.
    late = rebuild_email_index(engine, vault, index, progress).rebuilt if rebuilt.rebuilt else 0
    return Rotation(rewrapped, changed, rebuilt, keys_not_under_newest(engine, vault), late)


def rewrap_data_keys(engine: Engine, vault: Vault,
                     progress: Progress = lambda _: None) -> tuple[int, int]:
    """Wrap every data key under the newest secret; (rewrapped, changed meanwhile)."""
    rewrapped = changed = 0
    page = vault.rewrap(engine)
    while page.last_subject is not None:
        rewrapped, changed = rewrapped + page.rewrapped, changed + page.gone
        progress(f"data keys: {rewrapped} rewrapped")
        page = vault.rewrap(engine, after=page.last_subject)
    return rewrapped, changed


def rebuild_email_index(engine: Engine, vault: Vault, index: BlindIndex,
                        progress: Progress = lambda _: None) -> IndexPass:
    """File every supporter's e-mail under its digest with the newest secret."""
    total, after = IndexPass(), ""
    while (page := _index_page(engine, vault, index, after)) is not None:
        after, counts = page
        total += counts
        progress(f"blind index: {total.rebuilt} rebuilt, {total.current} already current")
    return total


def keys_not_under_newest(engine: Engine, vault: Vault) -> int:
    """How many data keys are still wrapped under an older secret (or before key ids)."""
    return sum(count for key_id, count in _key_counts(engine, vault).items()
               if key_id != vault.ring.newest_id)


def _key_counts(engine: Engine, vault: Vault) -> dict[str | None, int]:
    with engine.connect() as conn:
        return vault.key_ids_in_use(conn)


def links_signed_before_valid_until(now: datetime) -> datetime:
    """When the longest-lived link signed with a secret replaced before `now` expires."""
    longest = max(*LINK_LIFETIME_SECONDS.values(), ACTION_LINK_LIFETIME_SECONDS)
    return now + timedelta(seconds=longest)


def _index_page(engine: Engine, vault: Vault, index: BlindIndex, after: str,
                ) -> tuple[str, IndexPass] | None:
    """One page of supporters, in one short transaction; None when none is left."""
    c = supporters.c
    rebuilt = current = changed = duplicates = 0
    with engine.begin() as conn:
        rows = conn.execute(
            select(c.supporter_id, c.email_index, c.email_sealed)
            .where(c.supporter_id > after, c.email_index.is_not(None))
            .order_by(c.supporter_id).limit(INDEX_PAGE)
        ).all()
        if not rows:
            return None
        opener = vault.opener(conn, [supporter_stream(r.supporter_id) for r in rows])
        for row in rows:
            email = opener.open(supporter_stream(row.supporter_id), "email", row.email_sealed)
            if email == MASK:
                changed += 1  # erased meanwhile: its digest goes with the erasure
                continue
            digest = index.digest(normalise_email(email))
            if digest == row.email_index:
                current += 1
                continue
            try:
                with conn.begin_nested():
                    moved = conn.execute(
                        update(supporters)
                        .where(c.supporter_id == row.supporter_id,
                               c.email_index == row.email_index)
                        .values(email_index=digest)
                    ).rowcount
            except IntegrityError:
                duplicates += 1
                continue
            rebuilt, changed = rebuilt + moved, changed + (1 - moved)
    return rows[-1].supporter_id, IndexPass(rebuilt, current, changed, duplicates)


def digests_filed(engine: Engine) -> int:
    """How many supporters are findable by e-mail (their digest is on file)."""
    with engine.connect() as conn:
        return int(conn.execute(
            select(func.count()).select_from(supporters)
            .where(supporters.c.email_index.is_not(None))
        ).scalar_one())

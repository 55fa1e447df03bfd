"""Crypto-shredding: personal fields are encrypted with a per-subject key that can be deleted.

The log is append-only, so erasing a person means destroying the only key that can read
their fields. Data keys are AES-256-GCM keys, stored wrapped (encrypted) with a key
derived from the application secret, in a table that — unlike the log — allows DELETE.
Lookups by e-mail use a blind index: an HMAC of the normalised value, never the value.

Both take a key ring (events.keyring): each wrapped key records the id of the secret that
wrapped it, so data keys wrapped under an older secret still open, and `Vault.rewrap`
moves them under the newest one without ever changing a data key itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, func, or_, select, update

from events.keyring import KeyRing, derive_key
from events.schema import personal_data_keys

__all__ = ["MASK", "BlindIndex", "KeyRing", "Opener", "RewrapPage", "UnknownWrappingKey",
           "Vault", "derive_key"]

PREFIX = "pd1:"
MASK = "[erased]"
NONCE_BYTES = 12
KEYS_PER_QUERY = 1000  # SQLite allows at most 32,766 bound parameters per statement
REWRAP_PAGE = 200


class UnknownWrappingKey(Exception):
    """Raised when a data key was wrapped under a secret that is not in the key ring."""


class BlindIndex:
    """Keyed hashes for equality lookups of personal values without storing them."""

    def __init__(self, secret: str | KeyRing) -> None:
        self._keys = [k.key for k in KeyRing.of(secret).derived(b"blind-index/v1")]

    def digest(self, normalised_value: str) -> str:
        """Hex HMAC-SHA256 of an already normalised value, under the newest secret."""
        return self._hmac(self._keys[0], normalised_value)

    def digests(self, normalised_value: str) -> list[str]:
        """The digest under each secret of the ring, newest first: what a lookup must try
        until every stored digest has been rebuilt under the newest one."""
        return [self._hmac(key, normalised_value) for key in self._keys]

    @staticmethod
    def _hmac(key: bytes, value: str) -> str:
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class RewrapPage:
    """What one page of `Vault.rewrap` did, and where the next page starts."""

    rewrapped: int
    """Keys now wrapped under the newest secret."""
    gone: int
    """Keys changed meanwhile (forgotten, or rewrapped by another run): left as they are."""
    last_subject: str | None
    """The page's last subject; None when there was nothing left to look at."""


class Vault:
    """Seals and opens personal values with their subject's data key."""

    def __init__(self, secret: str | KeyRing) -> None:
        self.ring = KeyRing.of(secret)
        self._wrapping = {k.key_id: AESGCM(k.key)
                          for k in self.ring.derived(b"data-key-wrapping/v1")}

    def seal(self, conn: Connection, subject_id: str, field: str, value: str) -> str:
        """Encrypt `value` for `subject_id`, creating the subject's key on first use."""
        key = self._key(conn, subject_id) or self._create_key(conn, subject_id)
        return seal_with(key, subject_id, field, value)

    def new_key_row(self, subject_id: str) -> tuple[bytes, dict[str, Any]]:
        """A new data key for a subject that has none, and the `personal_data_keys` row
        (without `created_at`) that keeps it wrapped: for loading many subjects at once,
        where the caller writes the rows in bulk and seals with `seal_with`."""
        key = AESGCM.generate_key(bit_length=256)
        return key, {"subject_id": subject_id, "wrapped_key": self._wrap(subject_id, key),
                     "key_id": self.ring.newest_id}

    def open(self, conn: Connection, subject_id: str, field: str, sealed: str) -> str:
        """The clear value, or MASK once the subject's key has been destroyed."""
        return _open(self._key(conn, subject_id), subject_id, field, sealed)

    def opener(self, conn: Connection, subject_ids: Iterable[str]) -> Opener:
        """Open values of many subjects with one key query (a mail batch reads a thousand)."""
        wanted = sorted(set(subject_ids))
        keys: dict[str, bytes] = {}
        for start in range(0, len(wanted), KEYS_PER_QUERY):
            rows = conn.execute(
                select(personal_data_keys.c.subject_id, personal_data_keys.c.wrapped_key,
                       personal_data_keys.c.key_id)
                .where(personal_data_keys.c.subject_id.in_(wanted[start:start + KEYS_PER_QUERY]))
            )
            keys.update((row.subject_id, self._unwrap(row.subject_id, row.wrapped_key,
                                                      row.key_id))
                        for row in rows)
        return Opener(keys)

    def opener_for(self, keys: Iterable[tuple[str, bytes | None, str | None]]) -> Opener:
        """Open values with keys read beside them: (subject, wrapped key or None for a
        subject without one, key id), as a query joining `personal_data_keys` gives them."""
        return Opener({subject: self._unwrap(subject, wrapped, key_id)
                       for subject, wrapped, key_id in keys if wrapped is not None})

    def forget(self, conn: Connection, subject_id: str) -> bool:
        """Destroy the subject's key; True if there was one. Every sealed value becomes MASK."""
        result = conn.execute(
            delete(personal_data_keys).where(personal_data_keys.c.subject_id == subject_id)
        )
        return bool(result.rowcount)

    def rewrap(self, engine: Engine, after: str = "", limit: int = REWRAP_PAGE) -> RewrapPage:
        """Wrap the next `limit` data keys (by subject, after `after`) that are not under
        the newest secret under it, in one short transaction.

        Safe while the system serves: the data key itself never changes, so a reader gets
        the same key from either wrapping; each row is replaced only if it still holds the
        wrapping that was read (compare-and-set), so a key forgotten meanwhile stays gone.
        Rows already under the newest secret are never selected: running again resumes.
        """
        c = personal_data_keys.c
        newest = self.ring.newest_id
        rewrapped = gone = 0
        with engine.begin() as conn:
            rows = conn.execute(
                select(c.subject_id, c.wrapped_key, c.key_id)
                .where(c.subject_id > after, or_(c.key_id.is_(None), c.key_id != newest))
                .order_by(c.subject_id).limit(limit)
            ).all()
            for row in rows:
                key = self._unwrap(row.subject_id, row.wrapped_key, row.key_id)
                replaced = conn.execute(
                    update(personal_data_keys)
                    .where(c.subject_id == row.subject_id, c.wrapped_key == row.wrapped_key)
                    .values(wrapped_key=self._wrap(row.subject_id, key), key_id=newest)
                ).rowcount
                rewrapped, gone = rewrapped + replaced, gone + (1 - replaced)
        return RewrapPage(rewrapped, gone, rows[-1].subject_id if rows else None)

    def key_ids_in_use(self, conn: Connection) -> dict[str | None, int]:
        """How many data keys each secret wraps, by key id (None: stored before key ids)."""
        c = personal_data_keys.c
        rows = conn.execute(select(c.key_id, func.count()).group_by(c.key_id))
        return {key_id: int(count) for key_id, count in rows}

    def _key(self, conn: Connection, subject_id: str) -> bytes | None:
        row = conn.execute(
            select(personal_data_keys.c.wrapped_key, personal_data_keys.c.key_id)
            .where(personal_data_keys.c.subject_id == subject_id)
        ).one_or_none()
        if row is None:
            return None
        return self._unwrap(subject_id, row.wrapped_key, row.key_id)

    def _unwrap(self, subject_id: str, wrapped: bytes, key_id: str | None) -> bytes:
        """The data key; a key stored before key ids (None) is tried under each secret."""
        if key_id is not None and key_id not in self._wrapping:
            raise UnknownWrappingKey(
                f"a data key is wrapped under the secret with key id {key_id}, which is "
                f"not in the key ring (SECRET_KEY, SECRET_KEY_PREVIOUS): put it back")
        candidates = [self._wrapping[key_id]] if key_id else list(self._wrapping.values())
        for wrapping in candidates:
            try:
                return wrapping.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                        subject_id.encode())
            except InvalidTag:
                continue
        raise UnknownWrappingKey("a data key opens under no secret of the key ring "
                                 "(SECRET_KEY, SECRET_KEY_PREVIOUS): is one missing?")

    def _wrap(self, subject_id: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._wrapping[self.ring.newest_id].encrypt(nonce, key,
                                                                   subject_id.encode())

    def _create_key(self, conn: Connection, subject_id: str) -> bytes:
        key, row = self.new_key_row(subject_id)
        conn.execute(personal_data_keys.insert().values(**row, created_at=func.now()))
        return key


class Opener:
    """Opens values with keys read up front; a subject without a key reads as MASK."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        # Each key's cipher made once: a mail batch opens two fields per subject.
        self._ciphers = {subject: AESGCM(key) for subject, key in keys.items()}

    def open(self, subject_id: str, field: str, sealed: str) -> str:
        """The clear value, or MASK once the subject's key has been destroyed."""
        return _open_with(self._ciphers.get(subject_id), subject_id, field, sealed)


def seal_with(key: bytes, subject_id: str, field: str, value: str) -> str:
    """`value` encrypted with the subject's data key `key` (see `Vault.new_key_row`)."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), _context(subject_id, field))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def _open(key: bytes | None, subject_id: str, field: str, sealed: str) -> str:
    return _open_with(None if key is None else AESGCM(key), subject_id, field, sealed)


def _open_with(cipher: AESGCM | None, subject_id: str, field: str, sealed: str) -> str:
    if cipher is None or not sealed.startswith(PREFIX):
        return MASK
    raw = base64.urlsafe_b64decode(sealed.removeprefix(PREFIX))
    try:
        clear = cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                               _context(subject_id, field))
    except InvalidTag:
        return MASK
    return clear.decode()


def _context(subject_id: str, field: str) -> bytes:
    """Associated data: a sealed value cannot be moved to another person or field."""
    return f"{subject_id}\x1f{field}".encode()

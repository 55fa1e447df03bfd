"""Crypto-shredding: personal fields are encrypted with a per-subject key that can be deleted.

The log is append-only, so erasing a person means destroying the only key that can read
their fields. Data keys are AES-256-GCM keys, stored wrapped (encrypted) with a key
derived from the application secret, in a table that — unlike the log — allows DELETE.
Lookups by e-mail use a blind index: an HMAC of the normalised value, never the value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, delete, func, select

from events.schema import personal_data_keys

PREFIX = "pd1:"
MASK = "[erased]"
NONCE_BYTES = 12
KEYS_PER_QUERY = 1000  # SQLite allows at most 32,766 bound parameters per statement

def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the application secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


class BlindIndex:
    """Keyed hashes for equality lookups of personal values without storing them."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, b"blind-index/v1")

    def digest(self, normalised_value: str) -> str:
        """Hex HMAC-SHA256 of an already normalised value."""
        return hmac.new(self._key, normalised_value.encode(), hashlib.sha256).hexdigest()


class Vault:
    """Seals and opens personal values with their subject's data key."""

    def __init__(self, secret: str) -> None:
        self._wrapping = AESGCM(derive_key(secret, b"data-key-wrapping/v1"))

    def seal(self, conn: Connection, subject_id: str, field: str, value: str) -> str:
        """Encrypt `value` for `subject_id`, creating the subject's key on first use."""
        key = self._key(conn, subject_id) or self._create_key(conn, subject_id)
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, value.encode(), _context(subject_id, field))
        return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, conn: Connection, subject_id: str, field: str, sealed: str) -> str:
        """The clear value, or MASK once the subject's key has been destroyed."""
        return _open(self._key(conn, subject_id), subject_id, field, sealed)

    def opener(self, conn: Connection, subject_ids: Iterable[str]) -> Opener:
        """Open values of many subjects with one key query (a mail batch reads a thousand)."""
        wanted = sorted(set(subject_ids))
        keys: dict[str, bytes] = {}
        for start in range(0, len(wanted), KEYS_PER_QUERY):
            rows = conn.execute(
                select(personal_data_keys.c.subject_id, personal_data_keys.c.wrapped_key)
                .where(personal_data_keys.c.subject_id.in_(wanted[start:start + KEYS_PER_QUERY]))
            )
            keys.update((row.subject_id, self._unwrap(row.subject_id, row.wrapped_key))
                        for row in rows)
        return Opener(keys)

    def forget(self, conn: Connection, subject_id: str) -> bool:
        """Destroy the subject's key; True if there was one. Every sealed value becomes MASK."""
        result = conn.execute(
            delete(personal_data_keys).where(personal_data_keys.c.subject_id == subject_id)
        )
        return bool(result.rowcount)

    def _key(self, conn: Connection, subject_id: str) -> bytes | None:
        wrapped = conn.execute(
            select(personal_data_keys.c.wrapped_key)
            .where(personal_data_keys.c.subject_id == subject_id)
        ).scalar_one_or_none()
        if wrapped is None:
            return None
        return self._unwrap(subject_id, wrapped)

    def _unwrap(self, subject_id: str, wrapped: bytes) -> bytes:
        return self._wrapping.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                      subject_id.encode())

    def _create_key(self, conn: Connection, subject_id: str) -> bytes:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(NONCE_BYTES)
        wrapped = nonce + self._wrapping.encrypt(nonce, key, subject_id.encode())
        conn.execute(personal_data_keys.insert().values(
            subject_id=subject_id, wrapped_key=wrapped, created_at=func.now()))
        return key


class Opener:
    """Opens values with keys read up front; a subject without a key reads as MASK."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        self._keys = keys

    def open(self, subject_id: str, field: str, sealed: str) -> str:
        """The clear value, or MASK once the subject's key has been destroyed."""
        return _open(self._keys.get(subject_id), subject_id, field, sealed)


def _open(key: bytes | None, subject_id: str, field: str, sealed: str) -> str:
    if key is None or not sealed.startswith(PREFIX):
        return MASK
    raw = base64.urlsafe_b64decode(sealed.removeprefix(PREFIX))
    try:
        clear = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:],
                                    _context(subject_id, field))
    except InvalidTag:
        return MASK
    return clear.decode()


def _context(subject_id: str, field: str) -> bytes:
    """Associated data: a sealed value cannot be moved to another person or field."""
    return f"{subject_id}\x1f{field}".encode()

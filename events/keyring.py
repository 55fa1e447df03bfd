"""A key ring: the application's secrets, newest first, so that a secret can be replaced.

Everything derived from the secret is written with the newest one and read with any of
them: data keys wrapped under an older secret still unwrap, and a blind index digest made
with an older one is still found, until `rotate` has moved them all to the newest. Each
secret has a key id (a hash of a key derived for that purpose alone, never the secret),
stored beside what it wraps so that a reader knows which one to use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_ID_CHARACTERS = 16


def derive_key(secret: str, purpose: bytes) -> bytes:
    """A 32-byte key for one purpose, derived from the application secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def key_id(secret: str) -> str:
    """A short public name for `secret`: safe to store and print, useless to an attacker."""
    return hashlib.sha256(derive_key(secret, b"key-id/v1")).hexdigest()[:KEY_ID_CHARACTERS]


@dataclass(frozen=True)
class DerivedKey:
    """A key derived for one purpose from one secret of the ring, with that secret's id."""

    key_id: str
    key: bytes


class KeyRing:
    """The secrets in use, newest first: the newest writes, every one of them reads."""

    def __init__(self, secrets: Sequence[str]) -> None:
        if not secrets:
            raise ValueError("a key ring needs at least one secret")
        if len(set(secrets)) != len(secrets):
            raise ValueError("a key ring holds each secret once")
        self.secrets = tuple(secrets)
        self.ids = tuple(key_id(s) for s in self.secrets)

    @classmethod
    def of(cls, secret: str | KeyRing) -> KeyRing:
        """`secret` itself when it is a ring; a ring of that one secret otherwise."""
        return secret if isinstance(secret, KeyRing) else cls([secret])

    @property
    def newest(self) -> str:
        """The secret everything new is written with."""
        return self.secrets[0]

    @property
    def newest_id(self) -> str:
        return self.ids[0]

    def derived(self, purpose: bytes) -> list[DerivedKey]:
        """The key for `purpose` from each secret, newest first."""
        return [DerivedKey(i, derive_key(s, purpose)) for i, s in zip(self.ids, self.secrets,
                                                                         strict=True)]

"""A partner's credentials: signing secrets (sealed, never logged) and its API key (hashed).

Neither is in the event log in clear: events carry a secret's id and the key's hash. The
secrets are sealed with the vault under the partner's stream as subject, so they stay
encrypted at rest with a key derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection, insert, or_, update

from campaign.domain.partner import partner_stream
from campaign.infra.tables import partner_secrets
from campaign.partners.registry import SECRET_FIELD_PREFIX
from events.personal_data import Vault

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
API_KEY_PREFIX = "uap_"


def new_signing_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_api_key() -> str:
    """A partner API key: high entropy, so a plain SHA-256 of it is safe to store."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def store_secret(
    conn: Connection, vault: Vault, partner_id: str, secret_id: str, secret: str,
    now: datetime,
) -> None:
    """Keep `secret` sealed as the partner's current signing secret."""
    sealed = vault.seal(conn, partner_stream(partner_id), SECRET_FIELD_PREFIX + secret_id, secret)
    conn.execute(insert(partner_secrets).values(
        secret_id=secret_id, partner_id=partner_id, sealed_secret=sealed,
        created_at=now.astimezone(UTC), expires_at=None))


def retire_secrets(conn: Connection, partner_id: str, overlap_until: datetime) -> None:
    """Give the partner's current and overlapping secrets `overlap_until` as their end.

    A secret already due to expire earlier keeps its earlier end.
    """
    until = overlap_until.astimezone(UTC)
    conn.execute(
        update(partner_secrets)
        .where(partner_secrets.c.partner_id == partner_id,
               or_(partner_secrets.c.expires_at.is_(None),
                   partner_secrets.c.expires_at > until))
        .values(expires_at=until))

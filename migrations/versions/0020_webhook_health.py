"""Webhook health: attempts know their partner, endpoints their last failure's status, and
every stored webhook body carries its event's id as the feed shows it.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

`webhook_attempts.partner_id` (filled from each attempt's delivery) lets the health view
read a partner's last 24 hours from one index range. `webhook_endpoints.last_failure_status`
is the status code of the newest failed attempt (null when no answer came), and every
partner that was ever attempted gets its endpoint row with its last success.

Bodies kept before this revision lack `event_id`; it is added in front of them, so a
delivery still retrying after the upgrade carries it too. Its body changes once, by this
field only, and its `webhook-id` does not: receivers that dedupe on it see no repeat.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None
# Not compatible: webhook_attempts.partner_id becomes NOT NULL, and the code
# before it inserts attempts without it.
compatible_with_previous = False

BATCH = 500


def upgrade() -> None:
    op.add_column("webhook_attempts", sa.Column("partner_id", sa.Text(), nullable=True))
    op.execute("UPDATE webhook_attempts SET partner_id = (SELECT d.partner_id FROM "
               "webhook_deliveries d WHERE d.delivery_id = webhook_attempts.delivery_id)")
    op.execute("DELETE FROM webhook_attempts WHERE partner_id IS NULL")  # no delivery: none
    with op.batch_alter_table("webhook_attempts") as batch:
        batch.alter_column("partner_id", existing_type=sa.Text(), nullable=False)
    op.create_index("ix_webhook_attempts_partner_attempted_at", "webhook_attempts",
                    ["partner_id", "attempted_at"])
    op.add_column("webhook_endpoints",
                  sa.Column("last_failure_status", sa.Integer(), nullable=True))
    # A success used to be noted only once the endpoint had failed: note every partner's.
    op.execute("INSERT INTO webhook_endpoints (partner_id) SELECT DISTINCT a.partner_id FROM "
               "webhook_attempts a WHERE a.partner_id NOT IN "
               "(SELECT e.partner_id FROM webhook_endpoints e)")
    op.execute("UPDATE webhook_endpoints SET last_success_at = (SELECT max(a.attempted_at) "
               "FROM webhook_attempts a WHERE a.partner_id = webhook_endpoints.partner_id "
               "AND a.outcome = 'succeeded') WHERE last_success_at IS NULL")
    op.execute(
        "UPDATE webhook_endpoints SET last_failure_status = (SELECT a.status_code FROM "
        "webhook_attempts a WHERE a.partner_id = webhook_endpoints.partner_id "
        "AND a.outcome <> 'succeeded' ORDER BY a.attempted_at DESC LIMIT 1)")
    _name_events_in_bodies()


def _name_events_in_bodies() -> None:
    conn = op.get_bind()
    messages = sa.table("webhook_messages", sa.column("event_id", sa.Text()),
                        sa.column("body", sa.Text()))
    after = ""
    while True:
        rows = conn.execute(sa.select(messages.c.event_id, messages.c.body)
                            .where(messages.c.event_id > after)
                            .order_by(messages.c.event_id).limit(BATCH)).all()
        if not rows:
            return
        for event_id, body in rows:
            document = json.loads(body)
            if "event_id" not in document:
                named = {"event_id": event_id, **document}
                conn.execute(sa.update(messages).where(messages.c.event_id == event_id)
                             .values(body=json.dumps(named, ensure_ascii=False,
                                                     separators=(",", ":"))))
        after = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("last_failure_status")
    op.drop_index("ix_webhook_attempts_partner_attempted_at", table_name="webhook_attempts")
    with op.batch_alter_table("webhook_attempts") as batch:
        batch.drop_column("partner_id")

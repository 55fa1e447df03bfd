"""Event store: the append-only log, its append function and subscription checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSONDocument = sa.JSON().with_variant(JSONB(), "postgresql")

POSTGRES_REFUSE_CHANGE = """
CREATE FUNCTION events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are append-only: % refused', TG_OP USING ERRCODE = 'ES403';
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
"""

# One round trip per append. The transaction id is taken before a position is drawn:
# the gap-safe tail (events/tailing.py) depends on that order.
POSTGRES_APPEND = """
CREATE FUNCTION events_append(
  p_stream_id text, p_expected integer, p_event_ids uuid[], p_types text[],
  p_schema_versions smallint[], p_data text[], p_metadata text[]
) RETURNS TABLE (out_position bigint, out_stream_version integer,
                 out_recorded_at timestamptz, out_existing boolean)
LANGUAGE plpgsql AS $$
DECLARE
  v_xid bigint := pg_current_xact_id()::text::bigint;
  v_found integer;
  v_same_stream boolean;
  v_current integer;
BEGIN
  SELECT count(*), bool_and(e.stream_id = p_stream_id) INTO v_found, v_same_stream
    FROM events e WHERE e.event_id = ANY(p_event_ids);
  IF v_found > 0 THEN
    IF v_found = cardinality(p_event_ids) AND v_same_stream THEN
      RETURN QUERY SELECT e.position, e.stream_version, e.recorded_at, true
        FROM events e WHERE e.event_id = ANY(p_event_ids) ORDER BY e.stream_version;
      RETURN;
    END IF;
    RAISE EXCEPTION 'some event ids of this batch are already stored' USING ERRCODE = 'ES002';
  END IF;
  SELECT coalesce(max(e.stream_version), 0) INTO v_current
    FROM events e WHERE e.stream_id = p_stream_id;
  IF p_expected <> -1 AND p_expected <> v_current THEN
    RAISE EXCEPTION 'stream % is at version %, not %', p_stream_id, v_current, p_expected
      USING ERRCODE = 'ES409', DETAIL = v_current::text;
  END IF;
  RETURN QUERY
    WITH inserted AS (
      INSERT INTO events (event_id, stream_id, stream_version, type, schema_version,
                          data, metadata, recorded_at, xact_id)
      SELECT b.id, p_stream_id, v_current + b.n::integer, b.t, b.sv, b.d::jsonb, b.m::jsonb,
             now(), v_xid
        FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
             WITH ORDINALITY AS b(id, t, sv, d, m, n)
       ORDER BY b.n
      RETURNING position, stream_version, recorded_at
    )
    SELECT i.position, i.stream_version, i.recorded_at, false FROM inserted i;
END $$;
"""

SQLITE_REFUSE_CHANGE = [
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END",
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END",
]


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("stream_id", sa.Text(), nullable=False),
        sa.Column("stream_version", sa.Integer(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("schema_version", sa.SmallInteger(), nullable=False),
        sa.Column("data", JSONDocument, nullable=False),
        sa.Column("metadata", JSONDocument, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("xact_id", sa.BigInteger(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("events_stream_version_key", "events", ["stream_id", "stream_version"],
                    unique=True)
    op.create_table(
        "subscription_checkpoints",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_position", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRES_REFUSE_CHANGE)
        op.execute(POSTGRES_APPEND)
    else:
        for statement in SQLITE_REFUSE_CHANGE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_append")
    op.drop_table("subscription_checkpoints")
    op.drop_table("events")  # drops its triggers too
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION events_refuse_change")

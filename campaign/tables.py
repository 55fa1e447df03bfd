"""The product's own tables: read models (filled by projections), credentials, idempotency.

Alembic creates them; projections fill the read models; rebuilds refill them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)

metadata = MetaData()

stream_directory = Table(
    "stream_directory",
    metadata,
    Column("stream_id", Text(), primary_key=True),
    Column("category", Text(), nullable=False, index=True),
    Column("version", Integer(), nullable=False),
    Column("last_position", BigInteger(), nullable=False),
    Column("first_recorded_at", DateTime(timezone=True), nullable=False),
    Column("last_recorded_at", DateTime(timezone=True), nullable=False),
)

daily_activity = Table(
    "daily_activity",
    metadata,
    Column("day", Date(), primary_key=True),
    Column("event_type", Text(), primary_key=True),
    Column("count", BigInteger(), nullable=False),
)

# Credentials, not history: tokens live outside the log and are stored only as hashes.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", Text(), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("role", Text(), nullable=False),
    Column("token_hash", Text(), nullable=False, unique=True),
    Column("revoked", Boolean(), nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Responses to POSTs that carried an Idempotency-Key, written in the same transaction as
# the events they appended: a retry gets the first response and appends nothing.
idempotency_records = Table(
    "idempotency_records",
    metadata,
    Column("scope", Text(), primary_key=True),
    Column("key", Text(), primary_key=True),
    Column("request_hash", Text(), nullable=False),
    Column("status", Integer(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("headers", JSON(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# --- Read models of the campaign domain (inline projections: read right after writes) ---

actions = Table(
    "actions",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("case_id", Text(), nullable=False, index=True),
    Column("status", Text(), nullable=False),
    Column("ua_number", Text(), nullable=False),
    Column("index_number", Text(), nullable=False),
    Column("title", Text(), nullable=False),
    Column("country", Text(), nullable=False),
    Column("issued_on", Date(), nullable=False),
    Column("deadline_on", Date(), nullable=False),
    Column("deadline_timezone", Text(), nullable=False),
    Column("deadline_at", DateTime(timezone=True), nullable=False),
    Column("update_number", Integer(), nullable=False),
    Column("document", JSON(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("last_position", BigInteger(), nullable=False),
    Index("ix_actions_status_country", "status", "country"),
)

action_targets = Table(
    "action_targets",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("target_id", Text(), primary_key=True),
    Column("ordinal", Integer(), nullable=False),
    Column("name", Text(), nullable=False),
    Column("title", Text(), nullable=False),
    Column("role", Text(), nullable=False),
    Column("current", Boolean(), nullable=False),
)

# Counters belong to the pledges projection, apart from the rows the actions projection owns.
action_counters = Table(
    "action_counters",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("pledges", Integer(), nullable=False),
    Column("letters", Integer(), nullable=False),
)

target_letters = Table(
    "target_letters",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("target_id", Text(), primary_key=True),
    Column("letters", Integer(), nullable=False),
)

letters_per_target_day = Table(
    "letters_per_target_day",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("target_id", Text(), primary_key=True),
    Column("day", Date(), primary_key=True),
    Column("letters", Integer(), nullable=False),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", Text(), primary_key=True),
    Column("status", Text(), nullable=False),
    Column("subject_name", Text(), nullable=False),
    Column("subject_kind", Text(), nullable=False),
    Column("country", Text(), nullable=False, index=True),
    Column("summary", Text(), nullable=False),
    Column("tags", JSON(), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("outcome", Text(), nullable=True),
    Column("version", Integer(), nullable=False),
    Column("last_position", BigInteger(), nullable=False),
)

case_timeline = Table(
    "case_timeline",
    metadata,
    Column("case_id", Text(), primary_key=True),
    Column("development_id", Text(), primary_key=True),
    Column("kind", Text(), nullable=False),
    Column("occurred", JSON(), nullable=False),
    Column("occurred_on", Date(), nullable=False),
    Column("summary", Text(), nullable=False),
    Column("source", JSON(), nullable=False),
    Column("pending_approval", Boolean(), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("approved_at", DateTime(timezone=True), nullable=True),
    Column("position", BigInteger(), nullable=False),
)

# Personal fields stay sealed (ciphertext); lookups by e-mail go through the blind index.
supporters = Table(
    "supporters",
    metadata,
    Column("supporter_id", Text(), primary_key=True),
    Column("email_index", Text(), nullable=True, unique=True),
    Column("email_sealed", Text(), nullable=True),
    Column("name_sealed", Text(), nullable=True),
    Column("locale", Text(), nullable=True),
    Column("country", Text(), nullable=True),
    Column("timezone", Text(), nullable=True),
    Column("consented", Boolean(), nullable=False),
    Column("all_actions", Boolean(), nullable=False),
    Column("countries", JSON(), nullable=False),
    Column("case_ids", JSON(), nullable=False),
    Column("unsubscribed", Boolean(), nullable=False),
    Column("suppressed", Text(), nullable=True),
    Column("erased", Boolean(), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=True),
)

pledges = Table(
    "pledges",
    metadata,
    Column("pledge_id", Text(), primary_key=True),
    Column("action_id", Text(), nullable=False),
    Column("supporter_id", Text(), nullable=False, index=True),
    Column("status", Text(), nullable=False),
    Column("target_ids", JSON(), nullable=False),
    Column("letters_promised", Integer(), nullable=False),
    Column("letters_confirmed", Integer(), nullable=False),
    Column("pledged_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer(), nullable=False),
    # Deadline scans read open pledges by due time; the cost follows the number due.
    Index("ix_pledges_status_due_at", "status", "due_at"),
    Index("ix_pledges_action_status", "action_id", "status"),
)

# Reminders for open pledges, kept by the `reminder_schedule` subscription (campaign/reminders.py)
# and sent by the clock's deadline scan (campaign/deadlines.py). A row per (pledge, deadline,
# kind); `reminder_id` is an opaque id derived from that key, safe to put in queue messages.
pledge_reminders = Table(
    "pledge_reminders",
    metadata,
    Column("reminder_id", Text(), primary_key=True),
    Column("pledge_id", Text(), nullable=False),
    Column("deadline_at", DateTime(timezone=True), nullable=False),
    Column("kind", Text(), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", Text(), nullable=False),  # pending | sent | cancelled
    Column("sent_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("pledge_id", "deadline_at", "kind",
                     name="uq_pledge_reminders_pledge_deadline_kind"),
    # The scan reads pending rows by due time; its cost follows the number due.
    Index("ix_pledge_reminders_status_due_at", "status", "due_at"),
)

# --- E-mail delivery (workers/mail, campaign/api/sendgrid_webhook.py) ---

# One row per recipient of a mailing, written by the fan-out planner. SendGrid echoes
# `delivery_id` in every webhook event: the only way back from an event to a supporter.
mail_deliveries = Table(
    "mail_deliveries",
    metadata,
    Column("delivery_id", Text(), primary_key=True),
    Column("mailing_id", Text(), nullable=False, index=True),
    Column("batch_id", Text(), nullable=False, index=True),
    Column("supporter_id", Text(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# SendGrid events already applied, by their `sg_event_id`: SendGrid retries a webhook post
# for up to 24 hours, so rows older than a few days can be deleted.
sendgrid_events = Table(
    "sendgrid_events",
    metadata,
    Column("sg_event_id", Text(), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
)

# Per mailing, how many provider events of each type arrived (delivered, open, click, …).
mailing_event_counts = Table(
    "mailing_event_counts",
    metadata,
    Column("mailing_id", Text(), primary_key=True),
    Column("event_type", Text(), primary_key=True),
    Column("count", BigInteger(), nullable=False),
)

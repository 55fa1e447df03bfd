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
    false,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB

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
    Column("email", Text(), nullable=True),  # the campaigner's own address, for test sends
    Column("created_by", Text(), nullable=True),  # the actor who made it (`token:<id>`, `cli`)
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Console sessions (campaign/application/console_sessions.py): the browser's cookie holds a
# random id, this table only its hash. Ended sessions stay, as the record of console logins.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_hash", Text(), primary_key=True),
    Column("token_id", Text(), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("ended_reason", Text(), nullable=True),
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

# An action's text in other languages; `current` while the action still says what was
# translated (campaign/domain/translation.py). Targets are never translated.
action_translations = Table(
    "action_translations",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("language", Text(), primary_key=True),
    Column("title", Text(), nullable=False),
    Column("summary", Text(), nullable=False),
    Column("body", Text(), nullable=False),
    Column("asks", JSON(), nullable=False),
    Column("additional_information", Text(), nullable=False),
    Column("translated_at", DateTime(timezone=True), nullable=False),
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
    # Who recorded, approved or rejected it: the actor on the event (`token:<id>`, `partner:<id>`).
    Column("recorded_by", Text(), nullable=True),
    Column("approved_by", Text(), nullable=True),
    Column("rejected_at", DateTime(timezone=True), nullable=True),
    Column("rejected_by", Text(), nullable=True),
    Column("rejection_reason", Text(), nullable=True),
)

# Who did what to which stream, one row per event (catch-up, campaign/read_models/audit.py):
# the actor and the event's type only, never its data, so no supporter's personal data.
audit_entries = Table(
    "audit_entries",
    metadata,
    Column("position", BigInteger(), primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("actor", Text(), nullable=False),
    Column("event_type", Text(), nullable=False),
    Column("stream_id", Text(), nullable=False),
    # What an operator did and why (a skipped event); null for every other event.
    Column("note", Text(), nullable=True),
    # Newest first, by actor or by type: each filter reads its own index from the top.
    Index("ix_audit_entries_actor_position", "actor", "position"),
    Index("ix_audit_entries_type_position", "event_type", "position"),
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
    Column("email_paused", Boolean(), nullable=False, server_default=false()),
    Column("suppressed", Text(), nullable=True),
    Column("erased", Boolean(), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=True),
)

PLEDGES_FILLFACTOR = 70

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
    # The confirmed letters in order, each an array of its event's LETTER_FIELDS
    # (read_models/pledges.py): a letter is decided from this row, not by replaying the
    # stream. NULL on rows written before it existed (their letters replay the stream until
    # the pledges are rebuilt).
    Column("letters", JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql"),
           nullable=True),
    # Deadline scans read open pledges by due time; the cost follows the number due.
    Index("ix_pledges_status_due_at", "status", "due_at"),
    Index("ix_pledges_action_status", "action_id", "status"),
    # Room on each page for a row's next version: a letter's update grows the row, and one
    # that no longer fits its page updates every index (no HOT update), writing more WAL.
    postgresql_with={"fillfactor": PLEDGES_FILLFACTOR},
)

# Reminders for open pledges, kept by the `reminder_schedule` subscription
# (campaign/application/reminders.py) and sent by the clock's deadline scan
# (campaign/application/deadlines.py). A row per (pledge, deadline, kind); `reminder_id` is an
# opaque id derived from that key, safe to put in queue messages.
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

# --- E-mail delivery (campaign/mail, campaign/mail/provider_events.py) ---

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

# One row per planned batch and what became of it (inline, from the mailing events), plus
# when a worker last tried it: a batch with no outcome and no attempt for a while lost its
# queue message (a flushed or failed-over Redis) and is enqueued again (campaign/mail/sending.py).
mail_batches = Table(
    "mail_batches",
    metadata,
    Column("batch_id", Text(), primary_key=True),
    Column("mailing_id", Text(), nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Column("outcome", Text(), nullable=True),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Index("ix_mail_batches_outcome_planned_at", "outcome", "planned_at"),
)

# Recipients left out of a batch because their e-mail could not be made (a deadline their
# timezone cannot show, a name that would break a header …), for operators: ids and a
# reason, never a name or address (inline, from the batch outcomes on the mailing stream).
mail_recipient_failures = Table(
    "mail_recipient_failures",
    metadata,
    Column("delivery_id", Text(), primary_key=True),
    Column("mailing_id", Text(), nullable=False, index=True),
    Column("batch_id", Text(), nullable=False),
    Column("supporter_id", Text(), nullable=False, index=True),
    Column("reason", Text(), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
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

# --- Mailing funnels (campaign/read_models/mailings.py, campaign/mail/provider_people.py) ---

# One row per mailing about an action: its plan, the outcome of its batches so far, and how
# many of the people it reached pledged and confirmed a letter afterwards (the `mailings`
# catch-up projection). `sequence` numbers the action's mailings of one kind: update 1, 2 …
mailings = Table(
    "mailings",
    metadata,
    Column("mailing_id", Text(), primary_key=True),
    Column("action_id", Text(), nullable=False, index=True),
    Column("kind", Text(), nullable=False),
    Column("sequence", Integer(), nullable=False),
    Column("planned_at", DateTime(timezone=True), nullable=False),
    Column("batches_planned", Integer(), nullable=False),
    Column("recipients_planned", Integer(), nullable=False),
    Column("batches_accepted", Integer(), nullable=False),
    Column("batches_failed", Integer(), nullable=False),
    Column("recipients_sent", Integer(), nullable=False),
    Column("recipients_failed", Integer(), nullable=False),
    Column("first_outcome_at", DateTime(timezone=True), nullable=True),
    Column("last_outcome_at", DateTime(timezone=True), nullable=True),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    Column("pledged", Integer(), nullable=False),
    Column("confirmed", Integer(), nullable=False),
)

# Each person a mailing about an action was sent to (in a batch the provider accepted, not
# left out of it), and when they first pledged and first confirmed a letter on that action
# after it was sent: each person counts once per mailing, however many pledges or letters.
mailing_recipients = Table(
    "mailing_recipients",
    metadata,
    Column("delivery_id", Text(), primary_key=True),
    Column("mailing_id", Text(), nullable=False, index=True),
    Column("action_id", Text(), nullable=False),
    Column("supporter_id", Text(), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("pledged_at", DateTime(timezone=True), nullable=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=True),
    Index("ix_mailing_recipients_supporter_action", "supporter_id", "action_id"),
)

# Batches of a mailing the provider (or our own checks, status 0) refused as a whole, with
# the reason and how many people they held: a launch whose every batch broke shows here.
mailing_batch_failures = Table(
    "mailing_batch_failures",
    metadata,
    Column("batch_id", Text(), primary_key=True),
    Column("mailing_id", Text(), nullable=False, index=True),
    Column("status", Integer(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("recipients", Integer(), nullable=False),
    Column("failed_at", DateTime(timezone=True), nullable=False),
)

# From SendGrid's events, not the log: each delivery (one person of one mailing) once per
# stage it reached (delivered, opened, clicked, bounced_hard …), however many events say so.
mailing_provider_people = Table(
    "mailing_provider_people",
    metadata,
    Column("delivery_id", Text(), primary_key=True),
    Column("stage", Text(), primary_key=True),
    Column("mailing_id", Text(), nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
)

# How many people of each mailing reached each provider stage: the rows above, counted as
# they are first written, so a page reads one row per stage.
mailing_provider_counts = Table(
    "mailing_provider_counts",
    metadata,
    Column("mailing_id", Text(), primary_key=True),
    Column("stage", Text(), primary_key=True),
    Column("people", BigInteger(), nullable=False),
)

# People reaching a stage per hour, for the first days of a mailing: from SendGrid's events
# (the hour SendGrid saw each person's first event of the stage) and from the log (the hour
# of each person's first pledge or letter after the mailing, kept by the `mailings` projection).
mailing_provider_hours = Table(
    "mailing_provider_hours",
    metadata,
    Column("mailing_id", Text(), primary_key=True),
    Column("stage", Text(), primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("people", BigInteger(), nullable=False),
)

mailing_response_hours = Table(
    "mailing_response_hours",
    metadata,
    Column("mailing_id", Text(), primary_key=True),
    Column("stage", Text(), primary_key=True),
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("people", BigInteger(), nullable=False),
)

# --- Partners (campaign/partners) ---

# Read model of the partner aggregate (inline: the API reads it right after a write). The API
# key is kept only as its hash; signing secrets live sealed in `partner_secrets`.
partners = Table(
    "partners",
    metadata,
    Column("partner_id", Text(), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("contact_email", Text(), nullable=False),
    Column("webhook_url", Text(), nullable=False),
    Column("case_ids", JSON(), nullable=False),
    Column("action_ids", JSON(), nullable=False),
    Column("countries", JSON(), nullable=False),
    Column("event_types", JSON(), nullable=False),
    Column("auto_approve_developments", Boolean(), nullable=False),
    Column("endpoint_enabled", Boolean(), nullable=False),
    Column("disabled_reason", Text(), nullable=True),
    Column("api_key_hash", Text(), nullable=True, unique=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer(), nullable=False),
)

# Credentials, not history: each signing secret sealed with the vault (subject `partner-<id>`).
# The current secret has no expiry; a rotation gives the ones before it their overlap's end.
partner_secrets = Table(
    "partner_secrets",
    metadata,
    Column("secret_id", Text(), primary_key=True),
    Column("partner_id", Text(), nullable=False, index=True),
    Column("sealed_secret", Text(), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

# Inbound webhooks already accepted, by the partner's `webhook-id`: the key makes a repeated
# delivery, even a concurrent one, append nothing.
partner_inbound_messages = Table(
    "partner_inbound_messages",
    metadata,
    Column("partner_id", Text(), primary_key=True),
    Column("webhook_id", Text(), primary_key=True),
    Column("case_id", Text(), nullable=False),
    Column("development_id", Text(), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# --- Partner webhooks (campaign/partners/letter_reports.py, campaign/partners/webhooks) ---

# Letters confirmed per action, target and UTC day of confirmation, kept by the
# `letter_reports` subscription: the source of milestones and of the daily counts partners get.
letter_report_counts = Table(
    "letter_report_counts",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("target_id", Text(), primary_key=True),
    Column("day", Date(), primary_key=True),
    Column("letters", Integer(), nullable=False),
)

# Each partner-visible event once, as partners get it: its body is signed and sent to every
# partner following it, unchanged across retries, redeliveries and replays.
webhook_messages = Table(
    "webhook_messages",
    metadata,
    Column("event_id", Text(), primary_key=True),
    Column("position", BigInteger(), nullable=False, unique=True),
    Column("type", Text(), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False, index=True),
    Column("case_id", Text(), nullable=True),
    Column("action_id", Text(), nullable=True),
    Column("country", Text(), nullable=True),
    Column("body", Text(), nullable=False),
)

# One row per (message, partner): `delivery_id` is the `webhook-id` header, the same on every
# attempt. `next_attempt_at`: not before; `wake_at`: when the clock's scan (re)sends a queue
# message for it; `lease_until`: an attempt is under way until then.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", Text(), primary_key=True),
    Column("partner_id", Text(), nullable=False),
    Column("event_id", Text(), nullable=False),
    Column("position", BigInteger(), nullable=False),
    Column("type", Text(), nullable=False),
    Column("status", Text(), nullable=False),  # pending | succeeded | failed | cancelled
    Column("failures", Integer(), nullable=False),  # failed attempts since last (re)armed
    Column("attempts", Integer(), nullable=False),  # every attempt ever: numbers the next
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("wake_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_status_code", Integer(), nullable=True),
    Column("last_error", Text(), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_webhook_deliveries_status_wake_at", "status", "wake_at"),
    Index("ix_webhook_deliveries_partner_due", "partner_id", "status", "next_attempt_at"),
    Index("ix_webhook_deliveries_partner_position", "partner_id", "position"),
)

# Every attempt of a delivery, numbered from 1 across redeliveries: what the API shows. The
# partner's id is repeated here so its health over the last day is one index range.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("delivery_id", Text(), primary_key=True),
    Column("attempt", Integer(), primary_key=True),
    Column("partner_id", Text(), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False),
    Column("outcome", Text(), nullable=False),  # succeeded | failed | rate_limited | gone
    Column("status_code", Integer(), nullable=True),
    Column("latency_ms", Integer(), nullable=False),
    Column("error", Text(), nullable=True),
    Index("ix_webhook_attempts_partner_attempted_at", "partner_id", "attempted_at"),
)

# Per partner endpoint: since when it fails (disabled after five days), until when it asked
# us to wait (429/503 with Retry-After), when it last took a delivery, and when it last
# failed with which status (null: no answer came).
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("partner_id", Text(), primary_key=True),
    Column("failing_since", DateTime(timezone=True), nullable=True),
    Column("paused_until", DateTime(timezone=True), nullable=True),
    Column("last_success_at", DateTime(timezone=True), nullable=True),
    Column("last_failure_at", DateTime(timezone=True), nullable=True),
    Column("last_failure_status", Integer(), nullable=True),
)

# The live action dashboard (campaign/read_models/action_dashboard.py), following the log.
# People and letters are counted apart: `supporters` are people who pledged, `letters_pledged`
# is pledges × officials named, `letters_confirmed` letters said to be sent.
dashboard_days = Table(
    "dashboard_days",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("day", Date(), primary_key=True),  # UTC day of the pledge or the confirmation
    Column("supporters", Integer(), nullable=False),
    Column("letters_pledged", Integer(), nullable=False),
    Column("letters_confirmed", Integer(), nullable=False),
)

# The same three counts split one way at a time: by official (`target`), by the channel a
# letter went by (`channel`), by the supporter's `country` and `language`.
dashboard_splits = Table(
    "dashboard_splits",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("dimension", Text(), primary_key=True),  # target | channel | country | language
    Column("name", Text(), primary_key=True),  # "" when not known
    Column("supporters", Integer(), nullable=False),
    Column("letters_pledged", Integer(), nullable=False),
    Column("letters_confirmed", Integer(), nullable=False),
)

# Country and language of each supporter as the log stood at each event, so a rebuild counts
# a pledge where it was counted live; an erased supporter's row goes, their counts stay.
dashboard_supporters = Table(
    "dashboard_supporters",
    metadata,
    Column("supporter_id", Text(), primary_key=True),
    Column("country", Text(), nullable=False),
    Column("language", Text(), nullable=False),
)

# What the time chart marks: launch, each numbered update, each deadline extension, the stop.
dashboard_markers = Table(
    "dashboard_markers",
    metadata,
    Column("action_id", Text(), primary_key=True),
    Column("position", BigInteger(), primary_key=True),  # the event's place in the log
    Column("kind", Text(), nullable=False),  # launched | updated | extended | closed
    Column("number", Integer(), nullable=True),  # the update's number
    Column("at", DateTime(timezone=True), nullable=False),
    Column("deadline_at", DateTime(timezone=True), nullable=True),  # an extension's new one
)

# Each migration applied, with whether the code before it runs on it (rolling deploys):
# code one migration behind reads its own row here, since it does not have the migration's
# file. Written by migrations/env.py after every `campaign db upgrade`, never by the app.
schema_revisions = Table(
    "schema_revisions",
    metadata,
    Column("revision", Text(), primary_key=True),
    Column("previous_revision", Text(), nullable=True),
    Column("compatible_with_previous", Boolean(), nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

# --- Operations (campaign/mail/stuck_alerts.py) ---

# One row per stuck episode (a subscription stopped at one position) that was e-mailed about:
# the claim that makes two clocks, or a restarted one, send the alert once.
subscription_alerts = Table(
    "subscription_alerts",
    metadata,
    Column("subscription", Text(), primary_key=True),
    Column("failed_position", BigInteger(), primary_key=True, autoincrement=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

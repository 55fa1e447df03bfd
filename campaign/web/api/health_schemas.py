"""Response shapes of partner delivery health."""

from __future__ import annotations

import marshmallow as ma

from campaign.web.api.common import ApiSchema

F = ma.fields


class HourSchema(ApiSchema):
    start = F.AwareDateTime(required=True)
    attempts = F.Integer(required=True, metadata={"description": "Attempts (events, total)"})
    failures = F.Integer(required=True, metadata={"description": "Of which failed"})


class PartnerHealthSchema(ApiSchema):
    partner_id = F.String(required=True)
    name = F.String(required=True)
    endpoint_enabled = F.Boolean(required=True)
    disabled_reason = F.String(allow_none=True, required=True, metadata={
        "enum": ["gone", "failing", "campaigner", None]})
    last_success_at = F.AwareDateTime(allow_none=True, required=True)
    last_failure_at = F.AwareDateTime(allow_none=True, required=True)
    last_failure_status = F.Integer(allow_none=True, required=True, metadata={
        "description": "The last failure's HTTP status; null when no answer came"})
    failing_since = F.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "Failing without a success since then (disabled after five days)"})
    paused_until = F.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "The partner asked us to wait until then (Retry-After)"})
    attempts_24h = F.Integer(required=True, metadata={
        "description": "Delivery attempts in the last 24 hours (events, total)"})
    succeeded_24h = F.Integer(required=True)
    success_rate_24h = F.Float(allow_none=True, required=True, metadata={
        "description": "Succeeded attempts out of all, 0 to 1; null without attempts"})
    p95_latency_ms_24h = F.Integer(allow_none=True, required=True, metadata={
        "description": "95th percentile of the attempts' latency (nearest rank)"})
    hours = F.List(F.Nested(HourSchema), required=True, metadata={
        "description": "The last 24 hours, oldest first"})
    backlog = F.Integer(required=True, metadata={
        "description": "Deliveries pending or waiting for a retry"})
    oldest_undelivered_at = F.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "When the oldest event still pending for this partner happened"})
    oldest_undelivered_age_seconds = F.Integer(allow_none=True, required=True)
    failed_deliveries = F.Integer(required=True, metadata={
        "description": "Deliveries whose retries ran out (redeliver them one by one)"})
    signing_secret_created_at = F.AwareDateTime(allow_none=True, required=True)
    signing_secret_age_seconds = F.Integer(allow_none=True, required=True)
    as_of = F.AwareDateTime(required=True)


class PartnerHealthListSchema(ApiSchema):
    items = F.List(F.Nested(PartnerHealthSchema), required=True)
    as_of = F.AwareDateTime(required=True)

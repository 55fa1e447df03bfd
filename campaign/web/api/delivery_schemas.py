"""Request and response shapes of webhook deliveries, redeliveries and replays."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from campaign.partners.webhooks.deliveries import STATUSES
from campaign.web.api.common import ApiSchema, PageQuerySchema

F = ma.fields
OUTCOMES = ["succeeded", "failed", "rate_limited", "gone"]
MAX_POSITION = 2**63 - 1


class DeliveryFilterSchema(PageQuerySchema):
    """Newest first; `status` keeps one kind only."""

    status = F.String(load_default=None, validate=ma.validate.OneOf(STATUSES))


class AttemptSchema(ApiSchema):
    attempt = F.Integer(required=True, metadata={"description": "1 for the first attempt"})
    attempted_at = F.AwareDateTime(required=True)
    outcome = F.String(required=True, metadata={"enum": OUTCOMES})
    status_code = F.Integer(allow_none=True, required=True,
                            metadata={"description": "The partner's HTTP status; null when "
                                                     "no answer came (timeout, refused)"})
    latency_ms = F.Integer(required=True)
    error = F.String(allow_none=True, required=True)


class DeliverySchema(ApiSchema):
    delivery_id = F.String(required=True, metadata={
        "description": "The `webhook-id` header: the same on every attempt and replay"})
    partner_id = F.String(required=True)
    event_id = F.String(required=True)
    position = F.Integer(required=True, metadata={"description": "The event's log position"})
    type = F.String(required=True, metadata={"example": "action.launched"})
    status = F.String(required=True, metadata={"enum": list(STATUSES)})
    failures = F.Integer(required=True, metadata={
        "description": "Failed attempts since it was last (re)armed, out of 8"})
    next_attempt_at = F.AwareDateTime(allow_none=True, required=True)
    last_status_code = F.Integer(allow_none=True, required=True)
    last_error = F.String(allow_none=True, required=True)
    created_at = F.AwareDateTime(required=True)
    updated_at = F.AwareDateTime(required=True)
    attempts = F.List(F.Nested(AttemptSchema), required=True)


class DeliveryPageSchema(ApiSchema):
    items = F.List(F.Nested(DeliverySchema), required=True)
    next_cursor = F.String(allow_none=True, required=True)


class Since(F.String):
    """A log position (a whole number, also as a JSON number) or an ISO 8601 instant."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not 0 < len(text) <= 64:
            raise ma.ValidationError("give a log position or an ISO 8601 instant")
        if text.isascii() and text.isdigit():
            if int(text) > MAX_POSITION:
                raise ma.ValidationError("no log position is that high")
            return int(text)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError("a log position or an ISO 8601 instant, like "
                                     "2020-05-13T00:00:00Z") from None
        if moment.utcoffset() is None:
            raise ma.ValidationError("the instant needs an offset, like Z or +06:00")
        return moment


class ReplaySchema(ApiSchema):
    since = Since(required=True, metadata={
        "maxLength": 64,
        "description": "Send again what the partner follows from this log position (as in "
                       "the feed's cursor) or this instant on",
        "example": "2020-05-12T00:00:00Z"})


class ReplayResultSchema(ApiSchema):
    partner_id = F.String(required=True)
    from_position = F.Integer(allow_none=True, required=True)
    through_position = F.Integer(allow_none=True, required=True)
    deliveries = F.Integer(required=True, metadata={
        "description": "Deliveries queued: existing ones re-armed with their ids, new ones "
                       "for events the partner follows now but was not sent"})

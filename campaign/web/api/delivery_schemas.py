"""Request and response shapes of webhook deliveries, redeliveries and replays."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import marshmallow as ma

from campaign.domain.partner import PARTNER_EVENT_TYPES
from campaign.partners.webhooks.deliveries import STATUSES
from campaign.web.api import formats
from campaign.web.api.common import ApiSchema, PageQuerySchema

F = ma.fields
OUTCOMES = ["succeeded", "failed", "rate_limited", "gone"]
MAX_POSITION = 2**63 - 1
CURSOR = r"^[0-9]{1,18}:[^\x00]+$"
"""`<log position>:<delivery id>` of the last delivery of a page."""


class DeliveryFilterSchema(PageQuerySchema):
    """Newest first; `status` and `type` keep one kind only."""

    status = F.String(load_default=None, validate=ma.validate.OneOf(STATUSES))
    type = F.String(load_default=None, validate=ma.validate.OneOf(PARTNER_EVENT_TYPES),
                    metadata={"description": "Only deliveries of this event type"})
    cursor = F.String(load_default=None, validate=[
        ma.validate.Length(min=1, max=1_000),
        formats.Whole(CURSOR, "`next_cursor` of the previous page: <log position>:<delivery id>")],
        metadata={"description": "`next_cursor` of the previous page: the log position and id "
                                 "of its last delivery"})


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


class Since(F.Field):  # type: ignore[type-arg]
    """A log position (a whole number, as a JSON number or a string of digits) or an
    RFC 3339 instant with its offset, in the years 1900 to 2200."""

    _POSITION = re.compile(r"^[0-9]{1,18}$")
    _INSTANT = re.compile(formats.INSTANT)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value <= MAX_POSITION:
                raise ma.ValidationError(f"a log position from 0 to {MAX_POSITION}")
            return value
        if not isinstance(value, str):
            raise ma.ValidationError("a log position or an RFC 3339 instant")
        if self._POSITION.fullmatch(value):
            return int(value)
        if not self._INSTANT.fullmatch(value):
            raise ma.ValidationError("a log position or an RFC 3339 instant with its offset, "
                                     "like 2020-05-13T00:00:00Z, in the years 1900 to 2200")
        try:
            return datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:  # a day the month does not have
            raise ma.ValidationError("not a valid instant") from None


SINCE_DOC = {"oneOf": [
    {"type": "integer", "minimum": 0, "maximum": MAX_POSITION,
     "description": "A log position, as in the feed's cursor"},
    {"type": "string", "maxLength": 18, "pattern": "^[0-9]{1,18}$",
     "description": "A log position"},
    {"type": "string", "format": "date-time", "maxLength": 32, "pattern": formats.INSTANT,
     "description": "An instant with its offset"},
]}


class ReplaySchema(ApiSchema):
    since = Since(required=True, metadata={
        **SINCE_DOC,
        "description": "Send again what the partner follows from this log position (as in "
                       "the feed's cursor) or this instant on",
        "example": "2020-05-12T00:00:00Z"})
    until = Since(load_default=None, allow_none=False, metadata={
        **SINCE_DOC,
        "description": "Optional end: up to this log position (included) or before this "
                       "instant; the whole range after `since` when absent",
        "example": "2020-05-13T00:00:00Z"})


class ReplayResultSchema(ApiSchema):
    partner_id = F.String(required=True)
    from_position = F.Integer(allow_none=True, required=True)
    through_position = F.Integer(allow_none=True, required=True)
    deliveries = F.Integer(required=True, metadata={
        "description": "Deliveries queued: existing ones re-armed with their ids, new ones "
                       "for events the partner follows now but was not sent"})

"""Request and response shapes of the partner registry, inbound developments and the feed."""

from __future__ import annotations

from typing import Any, get_args

import marshmallow as ma

from campaign.domain.case import DevelopmentKind
from campaign.domain.partner import PARTNER_EVENT_TYPES
from campaign.web.api import formats
from campaign.web.api.case_schemas import DEVELOPMENT_ID, SOURCE_URL, Occurred
from campaign.web.api.common import COUNTRY, EMAIL, ApiSchema, plain_text, single_line

F = ma.fields
ID = single_line(200, visible=True)
PARTNER_ID = formats.Whole(formats.SLUG, "lowercase letters and digits in dash-separated words")
TEXT = plain_text(20_000, min_length=1, visible=True)
MAX_FOLLOWED = 1_000
FOLLOW_LISTS = ("case_ids", "action_ids", "countries", "event_types")


def followed_ids(**options: Any) -> ma.fields.List[Any]:
    """Followed case or action ids."""
    return F.List(F.String(validate=ID), validate=ma.validate.Length(max=MAX_FOLLOWED),
                  **options)


def followed_countries(**options: Any) -> ma.fields.List[Any]:
    """Followed countries (ISO 3166-1 alpha-2)."""
    return F.List(F.String(validate=COUNTRY), validate=ma.validate.Length(max=250), **options)


def followed_types(**options: Any) -> ma.fields.List[Any]:
    """Followed partner event types, at least one."""
    return F.List(F.String(validate=ma.validate.OneOf(PARTNER_EVENT_TYPES)),
                  validate=ma.validate.Length(min=1, max=len(PARTNER_EVENT_TYPES)), **options)


def _deduplicated(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, **{name: tuple(dict.fromkeys(data[name])) for name in FOLLOW_LISTS}}


class NewPartnerSchema(ApiSchema):
    """A partner organisation, where to send webhooks, and what it follows."""

    partner_id = F.String(validate=[ma.validate.Length(min=1, max=64), PARTNER_ID],
                          metadata={"description": "Optional slug; generated when absent",
                                    "example": "bir-duino-kyrgyzstan"})
    name = F.String(required=True, validate=single_line(200, visible=True),
                    metadata={"example": "Human Rights Movement Bir Duino-Kyrgyzstan"})
    contact_email = F.Email(required=True, validate=EMAIL)
    webhook_url = F.String(required=True, validate=formats.webhook_url(),
                           metadata={"description": "https, resolving to public addresses only "
                                                    "(422 otherwise; a server set up for "
                                                    "development also takes http and private "
                                                    "addresses)",
                                     "example": "https://partner.example.org/webhooks"})
    case_ids = followed_ids(load_default=list)
    action_ids = followed_ids(load_default=list)
    countries = followed_countries(load_default=list)
    event_types = followed_types(load_default=lambda: list(PARTNER_EVENT_TYPES),
                                 metadata={"description": "Default: every type"})
    auto_approve_developments = formats.Boolean(
        load_default=False,
        metadata={"description": "Publish the partner's developments without approval"})

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _deduplicated(data)


class FollowsSchema(ApiSchema):
    """Everything the partner follows from now on: each list replaces the one it had.

    An event reaches the partner when its type is listed and its case, action or country is
    (an action's events carry its case, so following a case follows its actions).
    """

    case_ids = followed_ids(required=True, metadata={"example": ["azimzhan-askarov"]})
    action_ids = followed_ids(required=True, metadata={"example": []})
    countries = followed_countries(required=True, metadata={"example": ["KG"]})
    event_types = followed_types(required=True, metadata={
        "example": ["action.launched", "case.development_recorded"]})

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return _deduplicated(data)


class PartnerSchema(ApiSchema):
    partner_id = F.String(required=True)
    name = F.String(required=True)
    contact_email = F.String(required=True)
    webhook_url = F.String(required=True)
    case_ids = F.List(F.String(), required=True)
    action_ids = F.List(F.String(), required=True)
    countries = F.List(F.String(), required=True)
    event_types = F.List(F.String(), required=True)
    auto_approve_developments = F.Boolean(required=True)
    endpoint_enabled = F.Boolean(required=True)
    disabled_reason = F.String(allow_none=True, metadata={
        "enum": ["gone", "failing", "campaigner", None]})
    registered_at = F.AwareDateTime(required=True)
    version = F.Integer(required=True)


class CreatedPartnerSchema(PartnerSchema):
    signing_secret = F.String(required=True, metadata={
        "description": "Standard Webhooks secret (whsec_…). Shown once; store it now."})
    api_key = F.String(required=True, metadata={
        "description": "The partner's API key for the feed and inbound calls. Shown once."})


class PartnerPageSchema(ApiSchema):
    items = F.List(F.Nested(PartnerSchema), required=True)
    next_cursor = F.String(allow_none=True, required=True)


class RotateSecretSchema(ApiSchema):
    overlap_hours = F.Integer(load_default=24, strict=True,
                              validate=ma.validate.Range(min=0, max=720),
                              metadata={"description": "How long the old secret stays valid"})


class RotatedSecretSchema(ApiSchema):
    partner_id = F.String(required=True)
    secret_id = F.String(required=True)
    signing_secret = F.String(required=True, metadata={"description": "Shown once."})
    overlap_until = F.AwareDateTime(required=True, metadata={
        "description": "Until then, webhooks carry signatures with the old and new secrets"})


class RotatedApiKeySchema(ApiSchema):
    partner_id = F.String(required=True)
    api_key = F.String(required=True, metadata={
        "description": "The partner's new API key (uap_…). Shown once; the old key no longer "
                       "works."})
    version = F.Integer(required=True)


class InboundDevelopmentSchema(ApiSchema):
    """A case development reported by a partner."""

    case_id = F.String(required=True, validate=ID)
    development_id = F.String(validate=DEVELOPMENT_ID,
                              metadata={"description": "Optional; derived from webhook-id"})
    kind = F.String(required=True, validate=ma.validate.OneOf(list(get_args(DevelopmentKind))))
    occurred = Occurred(required=True)
    summary = F.String(required=True, validate=TEXT)
    source_url = F.String(load_default=None, allow_none=True, validate=SOURCE_URL)


class InboundMessageSchema(ApiSchema):
    """The signed body: Standard Webhooks' `{type, timestamp, data}`."""

    type = F.String(required=True, validate=ma.validate.OneOf(["case.development_recorded"]))
    timestamp = F.String(validate=ma.validate.Length(max=64),
                         metadata={"description": "When the partner sent it (informational)"})
    data = F.Nested(InboundDevelopmentSchema, required=True)


class InboundResultSchema(ApiSchema):
    case_id = F.String(required=True)
    development_id = F.String(required=True)
    status = F.String(required=True, metadata={"enum": ["recorded", "duplicate"]})
    pending_approval = F.Boolean(required=True)


class FeedQuerySchema(ApiSchema):
    after = F.String(load_default="0", validate=[
        ma.validate.Length(min=1, max=18),
        formats.Whole(r"^[0-9]{1,18}$", "a log position: 1 to 18 digits")],
                     metadata={"description": "`next_cursor` of the previous page; 0 to start"})
    limit = F.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class FeedItemSchema(ApiSchema):
    event_id = F.String(required=True, metadata={
        "description": "The event's id, the same for every partner; each webhook body carries "
                       "it as `event_id` too, so events already received by webhook can be "
                       "skipped"})
    position = F.Integer(required=True, metadata={"description": "Global log position"})
    type = F.String(required=True, metadata={"enum": list(PARTNER_EVENT_TYPES)})
    timestamp = F.String(required=True, metadata={"format": "date-time"})
    data = F.Dict(required=True, metadata={
        "description": "Case and action content and aggregate counts, as in webhooks"})


class FeedPageSchema(ApiSchema):
    items = F.List(F.Nested(FeedItemSchema), required=True)
    next_cursor = F.String(required=True)
    has_more = F.Boolean(required=True, metadata={
        "description": "True while more events may follow: keep paging"})

"""Request and response shapes of supporters: sign-up, consent, preferences, export, erasure.

Error messages never repeat a personal value: a bad e-mail address is "not valid", never
"'ada@…' is not valid", so neither a 422 body nor a log line can carry it.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from campaign.web.api import formats
from campaign.web.api.common import COUNTRY, EMAIL, LANGUAGE, TIMEZONE, ApiSchema, single_line

F = ma.fields
LINK_TOKEN = ma.validate.Length(min=1, max=2_000)
CASE_ID = ma.validate.Length(min=1, max=500)


class SignUpSchema(ApiSchema):
    """What a person gives to sign up; campaign e-mail waits for the confirmation click."""

    email = F.Email(required=True, validate=EMAIL)
    name = F.String(required=True, validate=single_line(200, visible=True), metadata={
        "description": "One line: it becomes the display name of e-mails to this person"})
    locale = F.String(required=True, validate=LANGUAGE,
                      metadata={"description": "BCP 47 tag, canonical case", "example": "pt-BR"})
    country = F.String(required=True, validate=COUNTRY,
                       metadata={"description": "ISO 3166-1 alpha-2", "example": "KG"})
    timezone = F.String(required=True, validate=TIMEZONE,
                        metadata={"description": "IANA zone", "example": "Asia/Bishkek"})


class SignUpAcceptedSchema(ApiSchema):
    """The same answer for a new and an already registered address: nothing is revealed."""

    status = F.String(required=True, metadata={"enum": ["confirmation_pending"]})


class LinkTokenSchema(ApiSchema):
    """A token from a signed link we e-mailed (confirmation or erasure)."""

    token = F.String(required=True, validate=LINK_TOKEN)


class ConfirmedSchema(ApiSchema):
    """Consent recorded; no credential: pledges use action e-mails' links, data a manage link."""

    supporter_id = F.String(required=True)
    consented = F.Boolean(required=True)


class ManageRequestSchema(ApiSchema):
    """The address to send a "manage my data" link to, if it is registered."""

    email = F.Email(required=True, validate=EMAIL)


class ManageRequestAcceptedSchema(ApiSchema):
    """The same answer for a registered and an unknown address: nothing is revealed."""

    status = F.String(required=True, metadata={"enum": ["link_sent_if_registered"]})


class SubscriptionsSchema(ApiSchema):
    """Which actions to receive: all of them, or those for some countries or cases."""

    all_actions = formats.Boolean(required=True)
    countries = F.List(F.String(validate=COUNTRY), load_default=list,
                       validate=ma.validate.Length(max=250))
    case_ids = F.List(F.String(validate=CASE_ID), load_default=list,
                      validate=ma.validate.Length(max=1_000))

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Lists as tuples, each value once, in the order given."""
        return {k: tuple(dict.fromkeys(v)) if isinstance(v, list) else v
                for k, v in data.items()}


class SupporterSchema(ApiSchema):
    """A supporter as they see themselves; `export` has the e-mail and name."""

    supporter_id = F.String(required=True)
    locale = F.String(required=True)
    country = F.String(required=True)
    timezone = F.String(required=True)
    consented = F.Boolean(required=True)
    subscriptions = F.Nested(SubscriptionsSchema, required=True)
    unsubscribed = F.Boolean(required=True)
    email_paused = F.Boolean(required=True, metadata={
        "description": "Campaign e-mail is paused until the supporter resumes it"})
    suppressed = F.Boolean(required=True, metadata={
        "description": "The mail provider reported the address as unusable or unwilling"})
    suppression_reason = F.String(allow_none=True, metadata={
        "enum": ["bounce", "spam_report", "dropped", None]})


class SupporterSummarySchema(ApiSchema):
    """One supporter for audience checks: no personal data (no e-mail, no name)."""

    supporter_id = F.String(required=True)
    locale = F.String(allow_none=True, required=True)
    country = F.String(allow_none=True, required=True)
    consented = F.Boolean(required=True)
    unsubscribed = F.Boolean(required=True)
    email_paused = F.Boolean(required=True)
    suppressed = F.Boolean(required=True)
    suppression_reason = F.String(allow_none=True)
    erased = F.Boolean(required=True)


class SupporterPageSchema(ApiSchema):
    items = F.List(F.Nested(SupporterSummarySchema), required=True)
    next_cursor = F.String(allow_none=True, required=True)


class ExportedEventSchema(ApiSchema):
    """One event as stored, personal fields decrypted (or `[erased]` once erased)."""

    type = F.String(required=True, metadata={"example": "SupporterRegistered"})
    recorded_at = F.String(required=True, metadata={"format": "date-time"})
    data = F.Dict(keys=F.String(), values=F.Raw(), required=True, metadata={
        "description": "The event's fields; see the event type"})


class ChoicesSchema(ApiSchema):
    """What the supporter chose, as it stands now."""

    locale = F.String(required=True)
    country = F.String(required=True)
    timezone = F.String(required=True)
    subscriptions = F.Nested(SubscriptionsSchema, required=True)
    email_paused = F.Boolean(required=True)
    unsubscribed = F.Boolean(required=True)


class ExportSchema(ApiSchema):
    """Everything held about one person (GDPR access request)."""

    supporter_id = F.String(required=True)
    erased = F.Boolean(required=True)
    profile = F.Dict(keys=F.String(), values=F.Raw(), allow_none=True, required=True, metadata={
        "description": "As given at sign-up: email, name, locale, country, timezone, "
                       "registered_at; email and name read `[erased]` after erasure"})
    choices = F.Nested(ChoicesSchema, allow_none=True, required=True, metadata={
        "description": "Language, country, timezone, subscriptions and pause as they are "
                       "now (their changes are among `events`); null after erasure"})
    events = F.List(F.Nested(ExportedEventSchema), required=True,
                    metadata={"description": "The supporter's own stream, oldest first"})
    pledges = F.List(F.Nested(ExportedEventSchema), required=True,
                     metadata={"description": "The events of every pledge they made"})

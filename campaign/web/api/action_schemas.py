"""Request and response shapes of urgent actions, checked by the domain's own rules.

Every string and list of a request has a length limit; text that can reach an e-mail's
header or subject is single-line; dates lie in the domain's sane years.
"""

from __future__ import annotations

from typing import Any, get_args

import marshmallow as ma

from campaign.domain.action import CloseReason
from campaign.domain.values import (
    Deadline,
    Target,
)
from campaign.infra.i18n import LOCALES
from campaign.web.api import formats
from campaign.web.api.common import (
    COUNTRY,
    EMAIL,
    LANGUAGE,
    LOCALE,
    TIMEZONE,
    ApiSchema,
    Validators,
    domain_value,
    plain_text,
    single_line,
)

F = ma.fields
SHORT = single_line(500)
NAME = single_line(500, visible=True)
ASK = plain_text(20_000, min_length=1, visible=True)
SUMMARY = plain_text(20_000)
LONG = plain_text(100_000)
TARGET_ID: Validators = [ma.validate.Length(min=1, max=64), formats.Whole(
    formats.SLUG, "lowercase letters and digits in dash-separated words")]
UA_NUMBER: Validators = [ma.validate.Length(max=20),
                         formats.Whole(r"^[0-9]+/[0-9]{2}$", "a UA number like 135/10")]
MAX_ASKS = 50
MAX_TARGETS = 50
MAX_LANGUAGES = 20
MAX_LINKS = 50
MAX_ADDRESS_LINES = 12


def _many(most: int, least: int = 0) -> ma.validate.Length:
    return ma.validate.Length(min=least, max=most)


class TargetSchema(ApiSchema):
    """An official: `primary` receives appeals, `copy` receives copies."""

    target_id = F.String(required=True, validate=TARGET_ID,
                         metadata={"example": "minister-interior"})
    name = F.String(required=True, validate=NAME)
    title = F.String(required=True, validate=SHORT, metadata={"description": "Position"})
    organisation = F.String(load_default=None, allow_none=True, validate=SHORT)
    address_lines = F.List(F.String(validate=SHORT), load_default=list,
                           validate=_many(MAX_ADDRESS_LINES))
    country = F.String(required=True, validate=COUNTRY)
    fax = F.String(load_default=None, allow_none=True, validate=single_line(100))
    email = F.Email(load_default=None, allow_none=True, validate=EMAIL)
    salutation = F.String(load_default=None, allow_none=True, validate=SHORT)
    role = F.String(required=True, validate=ma.validate.OneOf(["primary", "copy"]))

    @ma.post_load
    def to_target(self, data: dict[str, Any], **_: Any) -> Target:
        data["address_lines"] = tuple(data["address_lines"])
        return domain_value(lambda: Target(**data), "target_id")  # type: ignore[no-any-return]


class DeadlineSchema(ApiSchema):
    """"Send appeals before 27 October 2010", in the action's IANA timezone.

    Without `time`, appeals are wanted through the whole day `on` (they stop when the next
    day starts there); with it, until that local time on `on`.
    """

    on = formats.Date(required=True, metadata={"description": "The last day appeals are wanted"})
    timezone = F.String(required=True, validate=TIMEZONE, metadata={"example": "Asia/Bishkek"})
    time = formats.LocalTime(load_default=None, allow_none=True, metadata={
        "description": "When appeals stop on `on`, as a local wall time in `timezone` "
                       "(HH:MM or HH:MM:SS, no offset; shown as HH:MM:SS); absent or null: "
                       "at the end of that day"})

    @ma.post_load
    def to_deadline(self, data: dict[str, Any], **_: Any) -> Deadline:
        return domain_value(lambda: Deadline(**data), "on")  # type: ignore[no-any-return]


class ActionContentSchema(ApiSchema):
    """Everything an urgent action document carries."""

    case_id = F.String(required=True, validate=single_line(200, visible=True),
                       metadata={"description": "An existing case"})
    ua_number = F.String(required=True, validate=UA_NUMBER, metadata={"example": "135/10"})
    index_number = F.String(required=True, validate=SHORT, metadata={"example": "EUR 58/015/2010"})
    title = F.String(required=True, validate=NAME)
    country = F.String(required=True, validate=COUNTRY)
    issued_on = formats.Date(required=True)
    deadline = F.Nested(DeadlineSchema, required=True)
    language = F.String(load_default="en", validate=LOCALE, metadata={
        "description": "The language the action is written in: one of the shipped locales "
                       "(default en). Supporters whose language has no translation of the "
                       "action receive it in this one."})
    languages = F.List(F.String(validate=LANGUAGE), required=True, validate=_many(MAX_LANGUAGES),
                       metadata={"description": "The languages appeals may be written in"})
    own_language_welcome = formats.Boolean(load_default=True)
    asks = F.List(F.String(validate=ASK), required=True, validate=_many(MAX_ASKS))
    targets = F.List(F.Nested(TargetSchema), required=True, validate=_many(MAX_TARGETS))
    copies_to_diplomats = formats.Boolean(load_default=False)
    summary = F.String(load_default="", validate=SUMMARY)
    body = F.String(load_default="", validate=LONG)
    additional_information = F.String(load_default="", validate=LONG)
    source_links = F.List(F.String(validate=formats.url()), load_default=list,
                          validate=_many(MAX_LINKS))

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


class UpdateSchema(ApiSchema):
    """A numbered update: what it replaces; omitted fields stay as they were."""

    number = F.Integer(required=True, strict=True, validate=ma.validate.Range(min=1, max=1000))
    title = F.String(validate=NAME)
    summary = F.String(validate=SUMMARY)
    body = F.String(validate=LONG)
    asks = F.List(F.String(validate=ASK), validate=_many(MAX_ASKS))
    targets = F.List(F.Nested(TargetSchema), validate=_many(MAX_TARGETS))
    additional_information = F.String(validate=LONG)
    deadline = F.Nested(DeadlineSchema, metadata={"description": "Only later than the current"})

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


class TranslationSchema(ApiSchema):
    """The action's text in another language: every text the action has, and one ask for
    each of its asks, in order. Targets, salutations and addresses are never translated."""

    title = F.String(required=True, validate=NAME)
    summary = F.String(load_default="", validate=SUMMARY)
    body = F.String(load_default="", validate=LONG)
    asks = F.List(F.String(validate=ASK), required=True, validate=_many(MAX_ASKS, 1))
    additional_information = F.String(load_default="", validate=LONG)

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


class StoredTranslationSchema(TranslationSchema):
    """A translation as stored; `current` is false once an update or a revision changed the
    text it translated: supporters then get the action's own language until it is redone."""

    language = F.String(required=True, metadata={"enum": list(LOCALES)})
    translated_at = F.DateTime(required=True)
    current = F.Boolean(required=True)


class CloseSchema(ApiSchema):
    """Stop action: why appeals are no longer wanted."""

    reason = F.String(required=True, validate=ma.validate.OneOf(list(get_args(CloseReason))))
    note = F.String(load_default="", validate=plain_text(5_000))


class ActionSchema(ActionContentSchema):
    """An action as stored: its document, state and counters."""

    action_id = F.String(required=True)
    status = F.String(required=True, metadata={"enum": ["drafted", "launched", "closed"]})
    update_number = F.Integer(required=True)
    version = F.Integer(required=True)
    deadline_passed = F.Boolean(required=True)
    deadline_notice = F.String(allow_none=True)
    launched_at = F.DateTime(allow_none=True)
    closed_at = F.DateTime(allow_none=True)
    close_reason = F.String(allow_none=True)
    pledges = F.Integer(required=True)
    letters = F.Integer(required=True)
    translations = F.List(F.Nested(StoredTranslationSchema), required=True,
                          metadata={"description": "By language"})


class ActionPageSchema(ApiSchema):
    items = F.List(F.Nested(ActionSchema), required=True)
    next_cursor = F.String(allow_none=True, required=True)


class ActionFilterSchema(ApiSchema):
    status = F.String(validate=ma.validate.OneOf(["drafted", "launched", "closed"]))
    country = F.String(validate=COUNTRY)


class TargetStatsSchema(ApiSchema):
    target_id = F.String(required=True)
    name = F.String(required=True)
    role = F.String(required=True)
    current = F.Boolean(required=True)
    letters = F.Integer(required=True)


class DayStatsSchema(ApiSchema):
    day = F.Date(required=True)
    target_id = F.String(required=True)
    letters = F.Integer(required=True)


class StatsSchema(ApiSchema):
    """The action's numbers; `languages` and `missing_translations` count the supporters it
    reaches (its launch's recipients who can still be mailed, or before launch those it
    would reach), as the mail planner assigns them a language."""

    action_id = F.String(required=True)
    status = F.String(required=True)
    pledges = F.Integer(required=True)
    pledges_by_status = F.Dict(keys=F.String(), values=F.Integer(), required=True)
    letters = F.Integer(required=True)
    targets = F.List(F.Nested(TargetStatsSchema), required=True)
    letters_per_day = F.List(F.Nested(DayStatsSchema), required=True)
    languages = F.Dict(keys=F.String(), values=F.Integer(), required=True, metadata={
        "description": "How many supporters receive the action in each language",
        "example": {"en": 1200, "ru": 300}})
    missing_translations = F.Dict(keys=F.String(), values=F.Integer(), required=True, metadata={
        "description": "Per supporters' locale with no current translation (and other than "
                       "the action's own), how many receive the action's own language instead",
        "example": {"ky": 40}})

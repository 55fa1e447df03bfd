"""Request and response shapes of cases and their developments."""

from __future__ import annotations

from typing import Any, get_args

import marshmallow as ma

from campaign.application.case_history import DevelopmentStatus, EntryKind
from campaign.domain.case import DevelopmentKind
from campaign.domain.values import (
    AtLocalTime,
    LocalDateTime,
    OnDate,
)
from campaign.web.api import formats
from campaign.web.api.action_schemas import DeadlineSchema
from campaign.web.api.common import (
    COUNTRY,
    TIMEZONE,
    ApiSchema,
    Validators,
    domain_value,
    plain_text,
    single_line,
)

F = ma.fields
NAME = single_line(500, visible=True)
TEXT = plain_text(20_000, min_length=1, visible=True)
DEVELOPMENT_ID: Validators = [ma.validate.Length(min=1, max=100), formats.Whole(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    "1 to 100 ASCII letters, digits, dots, dashes and underscores, starting with a letter "
    "or digit")]
SOURCE_URL = formats.url()


class NewCaseSchema(ApiSchema):
    """A person or group at risk."""

    subject_name = F.String(required=True, validate=NAME, metadata={"example": "Azimzhan Askarov"})
    subject_kind = F.String(load_default="person", validate=ma.validate.OneOf(["person", "group"]))
    country = F.String(required=True, validate=COUNTRY)
    summary = F.String(required=True, validate=TEXT)
    tags = F.List(F.String(validate=single_line(64, visible=True)), load_default=list,
                  validate=ma.validate.Length(max=50))

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, "tags": tuple(data["tags"])}


class OnDateSchema(ApiSchema):
    """It happened on a day."""

    on = formats.Date(required=True)

    @ma.post_load
    def to_occurrence(self, data: dict[str, Any], **_: Any) -> OnDate:
        return domain_value(lambda: OnDate(on=data["on"]), "on")  # type: ignore[no-any-return]


class AtLocalTimeSchema(ApiSchema):
    """It happened at a local date-time (no offset: not an RFC 3339 date-time) in a zone."""

    at = formats.LocalDateTime(required=True)
    timezone = F.String(required=True, validate=TIMEZONE, metadata={"example": "Asia/Bishkek"})
    instant = F.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "`at` in UTC; null for a reading no timezone can convert"})

    @ma.post_load
    def to_occurrence(self, data: dict[str, Any], **_: Any) -> AtLocalTime:
        local = domain_value(lambda: LocalDateTime(at=data["at"], timezone=data["timezone"]),
                             "at")
        return AtLocalTime(local=local)


OCCURRED_FORMS = {"OnDate": OnDateSchema, "AtLocalTime": AtLocalTimeSchema}
"""The spec's components for the two forms of `occurred` (registered by init_api)."""


class Occurred(F.Field):  # type: ignore[type-arg]
    """When it happened: `{"on": date}`, or `{"at": local date-time, "timezone": zone}`.

    One form or the other, never both (the spec's `oneOf`): an object with `on` is read as
    a date and may hold nothing else; any other object is read as a local time.
    """

    def __init__(self, **kwargs: Any) -> None:
        forms = [{"$ref": f"#/components/schemas/{name}"} for name in OCCURRED_FORMS]
        super().__init__(metadata={"oneOf": forms}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict):
            raise ma.ValidationError("an object: {on} or {at, timezone}")
        form = OnDateSchema if "on" in value else AtLocalTimeSchema
        return form().load(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        form = OnDateSchema if "on" in value else AtLocalTimeSchema
        return form().dump(value)


class NewDevelopmentSchema(ApiSchema):
    """A case development recorded by a campaigner."""

    development_id = F.String(validate=DEVELOPMENT_ID,
                              metadata={"description": "Optional; generated when absent"})
    kind = F.String(required=True, validate=ma.validate.OneOf(list(get_args(DevelopmentKind))))
    occurred = Occurred(required=True)
    summary = F.String(required=True, validate=TEXT)
    source_url = F.String(load_default=None, allow_none=True, validate=SOURCE_URL)


class CloseCaseSchema(ApiSchema):
    outcome = F.String(required=True, validate=TEXT)


class RejectDevelopmentSchema(ApiSchema):
    """Why a partner's development is kept out of sight (for the campaigners who read it)."""

    reason = F.String(required=True, validate=TEXT,
                      metadata={"example": "Not confirmed by a second source."})


class SourceSchema(ApiSchema):
    kind = F.String(required=True)
    partner_id = F.String(allow_none=True)
    url = F.String(allow_none=True)


class DevelopmentSchema(ApiSchema):
    development_id = F.String(required=True)
    kind = F.String(required=True)
    occurred = Occurred(required=True)
    occurred_on = F.Date(required=True)
    summary = F.String(required=True)
    source = F.Nested(SourceSchema, required=True)
    pending_approval = F.Boolean(required=True)
    recorded_at = F.AwareDateTime(required=True)
    approved_at = F.AwareDateTime(allow_none=True)
    rejected_at = F.AwareDateTime(allow_none=True)
    rejection_reason = F.String(allow_none=True)
    recorded_by = F.String(allow_none=True, metadata={
        "description": "Who recorded it: `token:<id>`, `partner:<id>`…; null if not known"})
    approved_by = F.String(allow_none=True)
    rejected_by = F.String(allow_none=True)


class CaseSchema(ApiSchema):
    case_id = F.String(required=True)
    status = F.String(required=True, metadata={"enum": ["open", "closed"]})
    subject_name = F.String(required=True)
    subject_kind = F.String(required=True)
    country = F.String(required=True)
    summary = F.String(required=True)
    tags = F.List(F.String(), required=True)
    opened_at = F.AwareDateTime(required=True)
    closed_at = F.AwareDateTime(allow_none=True)
    outcome = F.String(allow_none=True)
    version = F.Integer(required=True)
    timeline = F.List(F.Nested(DevelopmentSchema), required=True)


class HistoryEntrySchema(ApiSchema):
    """One line of a case's history; fields that do not apply to its kind are null."""

    position = F.Integer(required=True, metadata={"description": "The event's place in the log"})
    kind = F.String(required=True, metadata={"enum": list(get_args(EntryKind))})
    at = F.AwareDateTime(required=True, metadata={"description": "When it was recorded"})
    actor = F.String(allow_none=True, required=True, metadata={
        "description": "Who did it: `token:<id>`, `partner:<id>`, `cli`…"})
    text = F.String(allow_none=True, required=True, metadata={
        "description": "The summary, update title, reason or outcome"})
    action_id = F.String(allow_none=True, required=True)
    reference = F.String(allow_none=True, required=True, metadata={"example": "UA 135/10"})
    update_number = F.Integer(allow_none=True, required=True)
    old_deadline = F.Nested(DeadlineSchema, allow_none=True, required=True)
    new_deadline = F.Nested(DeadlineSchema, allow_none=True, required=True)
    development_id = F.String(allow_none=True, required=True)
    development_kind = F.String(allow_none=True, required=True)
    partner_id = F.String(allow_none=True, required=True)
    status = F.String(allow_none=True, required=True, metadata={
        "enum": [*get_args(DevelopmentStatus), None]})
    decided_by = F.String(allow_none=True, required=True)
    decided_at = F.AwareDateTime(allow_none=True, required=True)


class CaseHistorySchema(ApiSchema):
    case_id = F.String(required=True)
    version = F.Integer(required=True)
    entries = F.List(F.Nested(HistoryEntrySchema), required=True, metadata={
        "description": "Newest first"})


class CasePageSchema(ApiSchema):
    items = F.List(F.Nested(CaseSchema), required=True)
    next_cursor = F.String(allow_none=True, required=True)


class CaseFilterSchema(ApiSchema):
    status = F.String(validate=ma.validate.OneOf(["open", "closed"]))
    country = F.String(validate=COUNTRY)

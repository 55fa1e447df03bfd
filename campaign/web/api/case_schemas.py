"""Request and response shapes of cases and their developments."""

from __future__ import annotations

from typing import Any, get_args

import marshmallow as ma

from campaign.domain.case import DevelopmentKind
from campaign.domain.values import (
    AtLocalTime,
    LocalDateTime,
    OnDate,
)
from campaign.web.api.common import (
    COUNTRY,
    IN_RANGE,
    TIMEZONE,
    ApiSchema,
    Validators,
    domain_value,
    plain_text,
    single_line,
)

F = ma.fields
SHORT = single_line(500)
TEXT = plain_text(20_000, min_length=1)
DEVELOPMENT_ID: Validators = [ma.validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"),
                              *single_line(100)]
SOURCE_URL = ma.validate.Length(max=2_000)


class NewCaseSchema(ApiSchema):
    """A person or group at risk."""

    subject_name = F.String(required=True, validate=SHORT, metadata={"example": "Azimzhan Askarov"})
    subject_kind = F.String(load_default="person", validate=ma.validate.OneOf(["person", "group"]))
    country = F.String(required=True, validate=COUNTRY)
    summary = F.String(required=True, validate=TEXT)
    tags = F.List(F.String(validate=single_line(64)), load_default=list,
                  validate=ma.validate.Length(max=50))

    @ma.post_load
    def tuples(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, "tags": tuple(data["tags"])}


class OccurredSchema(ApiSchema):
    """When it happened: `on` (a date), or `at` (local date-time) with its `timezone`."""

    on = F.Date(validate=IN_RANGE)
    # Local wall-clock time, no offset: not an RFC 3339 date-time, so documented by pattern.
    at = F.NaiveDateTime(validate=IN_RANGE, metadata={
        "example": "2020-05-13T14:00:00", "format": "local-date-time",
        "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
    })
    timezone = F.String(validate=TIMEZONE, metadata={"example": "Asia/Bishkek"})
    instant = F.AwareDateTime(dump_only=True, allow_none=True, metadata={
        "description": "`at` in UTC; null for a reading no timezone can convert"})

    @ma.validates_schema
    def one_form(self, data: dict[str, Any], **_: Any) -> None:
        if ("on" in data) == ("at" in data):
            raise ma.ValidationError("give either `on`, or `at` with `timezone`", "on")
        if ("at" in data) != ("timezone" in data):
            raise ma.ValidationError("`at` needs its `timezone`", "timezone")

    @ma.post_load
    def to_occurrence(self, data: dict[str, Any], **_: Any) -> OnDate | AtLocalTime:
        if "on" in data:
            return domain_value(lambda: OnDate(on=data["on"]), "on")  # type: ignore[no-any-return]
        local = domain_value(lambda: LocalDateTime(at=data["at"], timezone=data["timezone"]),
                             "at")
        return AtLocalTime(local=local)


class NewDevelopmentSchema(ApiSchema):
    """A case development recorded by a campaigner."""

    development_id = F.String(validate=DEVELOPMENT_ID,
                              metadata={"description": "Optional; generated when absent"})
    kind = F.String(required=True, validate=ma.validate.OneOf(list(get_args(DevelopmentKind))))
    occurred = F.Nested(OccurredSchema, required=True)
    summary = F.String(required=True, validate=TEXT)
    source_url = F.Url(schemes={"http", "https"}, load_default=None, allow_none=True,
                       validate=SOURCE_URL)


class CloseCaseSchema(ApiSchema):
    outcome = F.String(required=True, validate=TEXT)


class SourceSchema(ApiSchema):
    kind = F.String(required=True)
    partner_id = F.String(allow_none=True)
    url = F.String(allow_none=True)


class DevelopmentSchema(ApiSchema):
    development_id = F.String(required=True)
    kind = F.String(required=True)
    occurred = F.Nested(OccurredSchema, required=True)
    occurred_on = F.Date(required=True)
    summary = F.String(required=True)
    source = F.Nested(SourceSchema, required=True)
    pending_approval = F.Boolean(required=True)
    recorded_at = F.AwareDateTime(required=True)
    approved_at = F.AwareDateTime(allow_none=True)


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


class CasePageSchema(ApiSchema):
    items = F.List(F.Nested(CaseSchema), required=True)
    next_cursor = F.String(allow_none=True, required=True)


class CaseFilterSchema(ApiSchema):
    status = F.String(validate=ma.validate.OneOf(["open", "closed"]))
    country = F.String(validate=COUNTRY)

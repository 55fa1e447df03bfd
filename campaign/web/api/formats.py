"""Rules on request values, each stated in the spec exactly as the server enforces it.

A client (or a fuzzer) reading /api/openapi.json must be able to tell which values the
server takes: a rule the spec does not state turns a valid-looking request into a 422, and
a rule the spec states but the server skips lets bad data in. So every check here carries
the JSON Schema keyword that accepts the same values: a validator's `regex` becomes the
field's `pattern` and its `choices` its `enum` (apispec reads both attributes).

`Stated` runs the domain's own check (its rule, its message); `Whole` matches a pattern
against the whole text, as JSON Schema does (Python's `$` would also take a final line
feed). Patterns use only what ECMA-262, Python and Rust regexes read alike: no `\\d`, no
`\\s`, no Unicode classes. Lone surrogates, which JSON Schema's strings cannot hold, are
left out of the patterns; the server refuses them (ApiSchema). tests/unit/test_stated_formats.py
checks, character by character, that each pattern accepts what its domain check accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import available_timezones

import marshmallow as ma

from campaign.domain.base import DomainError
from campaign.domain.countries import ISO_3166_ALPHA_2
from campaign.domain.values import (
    require_plain_text,
    require_single_line,
    require_text,
    validate_language,
    validate_timezone,
)
from campaign.infra.i18n import LOCALES

# Unicode category Cc: C0 and C1 controls, with DEL.
_CONTROLS = r"\x00-\x1f\x7f-\x9f"
_CONTROLS_BUT_LAYOUT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # keeps tab, LF, CR
# Line and paragraph separators (Zl, Zp) and the bidirectional embeddings, overrides
# (U+202A-U+202E) and isolates (U+2066-U+2069): see campaign.domain.values.
_NOT_IN_A_LINE = _CONTROLS + r"\u2028-\u202e\u2066-\u2069"
# What str.strip() removes besides control characters: a text of only these is blank.
_SPACES = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_LAYOUT = r"\t\n\r"

SINGLE_LINE = rf"^[^{_NOT_IN_A_LINE}]*$"
"""One line: no control characters, line separators or bidirectional controls."""
VISIBLE_LINE = rf"^[^{_NOT_IN_A_LINE}]*[^{_NOT_IN_A_LINE}{_SPACES}][^{_NOT_IN_A_LINE}]*$"
"""One line with at least one character that is not a space."""
PLAIN_TEXT = rf"^[^{_CONTROLS_BUT_LAYOUT}]*$"
"""Several lines: line breaks and tabs, no other control characters."""
VISIBLE_TEXT = (rf"^[^{_CONTROLS_BUT_LAYOUT}]*[^{_CONTROLS}{_SPACES}]"
                rf"[^{_CONTROLS_BUT_LAYOUT}]*$")
"""Several lines with at least one character that is not a space or a line break."""
NO_NUL = r"^[^\x00]*$"
"""Any text the database can store: PostgreSQL's text holds no NUL."""
LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"
"""Lowercase letters and digits in dash-separated words: target and partner ids."""

# A day of the years 1900 to 2200 (campaign.domain.base), each month as long as it is:
# without a standard format for a local date-time, only the pattern can refuse 31 September.
_YEAR = "(19[0-9]{2}|2[01][0-9]{2}|2200)"
_LEAP_YEAR = ("(19(0[48]|[2468][048]|[13579][26])|20([02468][048]|[13579][26])"
              "|21(0[48]|[2468][048]|[13579][26]))")
_MONTH_DAY = ("((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)"
              "|02-(0[1-9]|1[0-9]|2[0-8]))")
_DAY = rf"({_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_CLOCK = "([01][0-9]|2[0-3]):[0-5][0-9]"
DATE = rf"^{_DAY}$"
LOCAL_TIME = rf"^{_CLOCK}(:[0-5][0-9])?$"
LOCAL_DATE_TIME = rf"^{_DAY}T{_CLOCK}(:[0-5][0-9](\.[0-9]{{1,6}})?)?$"
INSTANT = rf"^{_DAY}[Tt]{_CLOCK}:[0-5][0-9](\.[0-9]{{1,6}})?([Zz]|[+-]{_CLOCK})$"

# RFC 3986: an http(s) URL whose authority is plain ASCII (userinfo, host, port), then any
# path, query and fragment without spaces or control characters.
# A source link's host is a name or an IPv4 address: Python's urlsplit refuses brackets
# that do not hold a valid IPv6 address, which no pattern can say. A webhook URL may name
# an IPv6 literal: the SSRF check reads it (and refuses a malformed one by name).
_AUTHORITY = r"[A-Za-z0-9._~!$&'()*+,;=:@%-]+"
_REST = rf"([/?#][^{_CONTROLS} ]*)?"
HTTP_URL = rf"^https?://{_AUTHORITY}{_REST}$"
WEBHOOK_URL = rf"^https?://[A-Za-z0-9._~!$&'()*+,;=:@%\[\]-]+{_REST}$"

class Whole(ma.validate.Validator):
    """The text matches `pattern` from its first character to its last."""

    def __init__(self, pattern: str, error: str) -> None:
        self.regex = re.compile(pattern)
        self.message = error

    def __call__(self, value: str) -> str:
        if not self.regex.fullmatch(value):
            raise ma.ValidationError(self.message)
        return value


class Stated(ma.validate.Validator):
    """A domain check, with the `pattern` or `enum` that accepts exactly the same values."""

    def __init__(self, check: Callable[[str], object], *, pattern: str | None = None,
                 choices: Iterable[str] | None = None) -> None:
        if pattern is not None:
            self.regex = re.compile(pattern)
        if choices is not None:
            self.choices = list(choices)
        self._check = check

    def __call__(self, value: str) -> str:
        try:
            self._check(value)
        except DomainError as exc:
            raise ma.ValidationError(exc.message) from None
        return value


def accepted(check: Callable[[str], object], candidates: Iterable[str]) -> list[str]:
    """The candidates `check` accepts, sorted: an enum that is the check by construction."""
    found = []
    for candidate in candidates:
        try:
            check(candidate)
        except DomainError:
            continue
        found.append(candidate)
    return sorted(found)


def _country(code: str) -> None:
    if code not in ISO_3166_ALPHA_2:
        raise DomainError("invalid_country", "not an ISO 3166-1 alpha-2 code")


COUNTRY = Stated(_country, choices=sorted(ISO_3166_ALPHA_2))
"""An assigned ISO 3166-1 alpha-2 code, in upper case."""
TIMEZONE = Stated(validate_timezone, choices=accepted(validate_timezone, available_timezones()))
"""An IANA zone name from the server's tz database."""
LANGUAGE = Stated(validate_language, pattern=LANGUAGE_TAG)
"""A BCP 47 language[-script][-region] tag in canonical case."""


def _shipped(tag: str) -> None:
    if tag not in LOCALES:
        raise DomainError("unsupported_locale", f"one of the shipped locales {', '.join(LOCALES)}")


LOCALE = Stated(_shipped, choices=LOCALES)
"""A locale the product ships (campaign.infra.i18n.LOCALES): what an action is written or
translated in, so that every e-mail and page about it can be in that language throughout."""


def single_line_text(visible: bool = False) -> Stated:
    """One line; `visible`: and not blank (the domain refuses blank names and titles)."""

    def check(text: str) -> None:
        require_single_line(text, "the text")
        if visible:
            require_text(text, "empty_text", "the text")

    return Stated(check, pattern=VISIBLE_LINE if visible else SINGLE_LINE)


def plain_text(visible: bool = False) -> Stated:
    """Line breaks and tabs allowed; `visible`: and not blank."""

    def check(text: str) -> None:
        require_plain_text(text, "the text")
        if visible:
            require_text(text, "empty_text", "the text")

    return Stated(check, pattern=VISIBLE_TEXT if visible else PLAIN_TEXT)


class Boolean(ma.fields.Boolean):
    """JSON true or false, nothing else: marshmallow's Boolean also reads 0, 1, "yes", "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ma.ValidationError("true or false")
        return value


class Date(ma.fields.Date):
    """A calendar date written YYYY-MM-DD, in the years 1900 to 2200.

    Python's `date.fromisoformat` also reads "20200513" and "2020-W20-3": the spec's
    `format: date` does not, so neither does the server.
    """

    _PATTERN = re.compile(DATE)

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"pattern": DATE, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> date:
        if not (isinstance(value, str) and self._PATTERN.fullmatch(value)):
            raise ma.ValidationError("a date like 2020-05-13, in the years 1900 to 2200")
        found: date = super()._deserialize(value, attr, data, **kwargs)
        return found


class LocalTime(ma.fields.Time):
    """A wall-clock time without offset, HH:MM or HH:MM:SS ("17:00"), written as HH:MM:SS.

    Marshmallow's Time also reads fractions and offsets; a deadline's time has neither.
    """

    _PATTERN = re.compile(LOCAL_TIME)

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"format": "local-time", "pattern": LOCAL_TIME, "example": "17:00",
                    "minLength": 5, "maxLength": 8, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> time:
        if not (isinstance(value, str) and self._PATTERN.fullmatch(value)):
            raise ma.ValidationError("a local time like 17:00 or 17:00:00, without offset")
        found: time = super()._deserialize(value, attr, data, **kwargs)
        return found


class LocalDateTime(ma.fields.NaiveDateTime):
    """A wall-clock reading without offset, YYYY-MM-DDTHH:MM[:SS[.ffffff]], years 1900-2200."""

    _PATTERN = re.compile(LOCAL_DATE_TIME)

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"format": "local-date-time", "pattern": LOCAL_DATE_TIME,
                    "example": "2020-05-13T14:00:00", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not (isinstance(value, str) and self._PATTERN.fullmatch(value)):
            raise ma.ValidationError("a local date-time like 2020-05-13T14:00, no offset, "
                                     "in the years 1900 to 2200")
        found: datetime = super()._deserialize(value, attr, data, **kwargs)
        return found


def url(max_length: int = 2_000) -> list[ma.validate.Validator]:
    """An http(s) URL with a plain ASCII host, no spaces or control characters."""
    return [ma.validate.Length(max=max_length),
            Whole(HTTP_URL, "an http(s) URL without spaces, with an ASCII host name")]


def webhook_url(max_length: int = 2_000) -> list[ma.validate.Validator]:
    """A URL to post webhooks to; its host may be an IPv6 literal.

    The pattern takes http as well: a server for development or tests
    (WEBHOOK_ALLOW_PRIVATE) posts to local receivers over plain http. Elsewhere the SSRF
    check refuses it by name (422), as the field's description says.
    """
    return [ma.validate.Length(max=max_length),
            Whole(WEBHOOK_URL, "an http(s) URL without spaces, with an ASCII host name")]

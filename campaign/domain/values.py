"""Value objects and checks shared by the aggregates: time, text, targets, countries, languages.

Value objects check their structure on construction (a known zone, a naive local time,
a short target id), so a malformed one cannot exist anywhere. The *policies* below (sane
years, one-line text) are checked where a command comes in (`check_*`, called by the
aggregates' decide functions, and the API's schemas before them), not on construction:
an event stored before a policy existed must still decode, so that its case or action
can be read and written again; readers contain what such an event holds.

**Time.** Every date and instant lies in the years `EARLIEST_YEAR` to `LATEST_YEAR`.
Far from `datetime`'s own limits (years 1 and 9999), so no zone (UTC−12 to UTC+14)
can overflow converting it, and wide enough for any case history or deadline.

**Text.** Text that can become an e-mail header or subject (titles, names, salutations,
the UA number) is *single-line*: no control characters (Unicode category Cc, which holds
CR, LF and tab), no line or paragraph separators (Zl, Zp), no lone surrogates (Cs), and
none of the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
U+2066–U+2069): one left unclosed reverses everything shown after it in a subject or a
From line, the "RLO" disguise, and no name needs them. Other format characters (Cf) are
kept: right-to-left and left-to-right marks, zero-width joiners and non-joiners are part
of how real names are written (Persian, Hebrew, Indic scripts) and of emoji.
*Multi-line* text (summaries, bodies, asks) may also hold line breaks and tabs, and the
bidirectional controls, which a paragraph of mixed scripts legitimately uses; no other
control characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Annotated, Final, Literal, TypeAlias, get_args
from zoneinfo import ZoneInfo, available_timezones

from campaign.domain.base import EARLIEST_YEAR as EARLIEST_YEAR
from campaign.domain.base import LATEST_YEAR as LATEST_YEAR
from campaign.domain.base import DomainError
from campaign.domain.base import require_in_range as require_in_range
from campaign.domain.countries import ISO_3166_ALPHA_2

WALL_TIME: Final = "wall-time"
"""Marks a datetime that is deliberately naive: a local clock reading, not an instant."""

WallTime: TypeAlias = Annotated[datetime, WALL_TIME]

# Files in the tz database directory that are not IANA zone names.
_NOT_ZONE_NAMES: Final = frozenset({"localtime", "posixrules", "Factory"})

# language[-script][-region], in canonical case: "ru", "pt-BR", "sr-Latn-RS", "es-419".
# Matched whole (fullmatch): "$" would let a trailing line feed through.
_LANGUAGE_TAG: Final = re.compile(r"[a-z]{2,3}(-[A-Z][a-z]{3})?(-(?:[A-Z]{2}|[0-9]{3}))?")
_TARGET_ID: Final = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_MAX_EMAIL_LENGTH: Final = 254

_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NEVER: Final = frozenset({"Cc", "Cs"})
_NOT_IN_A_LINE: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})
_LAYOUT: Final = frozenset("\t\n\r")


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_ZONE_NAMES


def validate_timezone(name: str) -> str:
    """Return `name` if it is an IANA zone name known to this system's tz database."""
    if name not in _zone_names():
        raise DomainError("invalid_timezone", f"not an IANA timezone name: {name!r}")
    return name


def validate_country(code: str) -> str:
    """Return `code` if it is an assigned ISO 3166-1 alpha-2 code, in upper case."""
    if code not in ISO_3166_ALPHA_2:
        raise DomainError("invalid_country", f"not an ISO 3166-1 alpha-2 code: {code!r}")
    return code


def validate_language(tag: str) -> str:
    """Return `tag` if it is a BCP 47 language[-script][-region] tag in canonical case.

    Only that subset is accepted (no variants or extensions): it is all that choosing a
    letter's language or a supporter's locale needs, and canonical case keeps comparisons
    exact ("pt-BR", never "pt-br").
    """
    if not _LANGUAGE_TAG.fullmatch(tag):
        raise DomainError("invalid_language", f"not a BCP 47 language tag: {tag!r}")
    return tag


def validate_email(email: str) -> str:
    """Return `email` if it passes a deliberately basic syntax check.

    Deliverability is proven by double opt-in, not by a regex; this only rejects
    what cannot possibly be an address.
    """
    local, at, domain = email.rpartition("@")
    plausible = (
        at == "@"
        and email.count("@") == 1
        and local != ""
        and "." in domain.strip(".")
        and not any(ch.isspace() for ch in email)
        and is_single_line(email)
        and len(email) <= _MAX_EMAIL_LENGTH
    )
    if not plausible:
        raise DomainError("invalid_email", f"not an e-mail address: {email!r}")
    return email


def normalise_email(email: str) -> str:
    """The form of an address used for the blind index: stripped and case-folded."""
    return email.strip().casefold()


def require_text(value: str, code: str, what: str) -> str:
    """Return `value` if it has visible content, else DomainError(`code`)."""
    if not value.strip():
        raise DomainError(code, f"{what} must not be empty")
    return value


def is_single_line(text: str) -> bool:
    """True if `text` may become a header or a subject (see the module's docstring)."""
    return not any(ch in _BIDI_CONTROLS or unicodedata.category(ch) in _NOT_IN_A_LINE
                   for ch in text)


def require_single_line(text: str, what: str) -> str:
    """Return `text` if it is single-line, else DomainError("not_single_line")."""
    if not is_single_line(text):
        message = f"{what} must be a single line without control characters"
        raise DomainError("not_single_line", message)
    return text


def require_plain_text(text: str, what: str) -> str:
    """Return `text` if its only control characters are line breaks and tabs."""
    if any(ch not in _LAYOUT and unicodedata.category(ch) in _NEVER for ch in text):
        message = f"{what} may hold line breaks and tabs but no other control characters"
        raise DomainError("control_character", message)
    return text


def require_aware(instant: datetime, what: str) -> datetime:
    """Return `instant` if it carries a UTC offset: instants in the log are never naive."""
    if instant.utcoffset() is None:
        raise DomainError("naive_datetime", f"{what} must be timezone-aware")
    return instant


def require_choice(value: str, choices: object, code: str, what: str) -> str:
    """Return `value` if it is one of the strings of the Literal type `choices`."""
    if value not in get_args(choices):
        raise DomainError(code, f"{what} must be one of {get_args(choices)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Deadline:
    """When appeals stop ("send appeals before 27 October 2010"), in the action's zone.

    Most actions print only a date. Campaign practice treats it as the last day to send,
    so appeals stop at the *start of the following day* in the action's timezone. Some
    give a time as well (a hearing at 14:00): `time` is that local wall time on `on`,
    and appeals stop then. `ends_at` is the instant in UTC either way. A local time that
    a DST change skips or repeats is read as zoneinfo reads it with fold=0: the offset
    before the transition (a skipped 02:30 is the instant the clocks would have shown it;
    a repeated 01:30 is the earlier one).
    """

    on: date
    timezone: str
    time: time | None = None

    def __post_init__(self) -> None:
        validate_timezone(self.timezone)
        if self.time is not None and self.time.tzinfo is not None:
            raise DomainError("invalid_local_time", "a deadline's time is a local wall time")

    def ends_at(self) -> datetime:
        """The UTC instant appeals stop: `time` on `on`, else midnight starting the next day."""
        zone = ZoneInfo(self.timezone)
        if self.time is not None:
            return datetime.combine(self.on, self.time, tzinfo=zone).astimezone(UTC)
        next_day = self.on + timedelta(days=1)
        return datetime.combine(next_day, time(), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class LocalDateTime:
    """A wall-clock reading in a named zone ("13 May 2020 at 2:00 p.m., Asia/Bishkek").

    Kept as reported, not as an instant, so the record says what the source said even
    if the zone's rules change later; `instant` converts it when a moment is needed.
    """

    at: WallTime
    timezone: str

    def __post_init__(self) -> None:
        if self.at.tzinfo is not None:
            raise DomainError("invalid_local_time", "a local date-time must be naive")
        validate_timezone(self.timezone)

    def instant(self) -> datetime:
        """The UTC instant; an ambiguous reading (DST fall-back) takes the earlier one."""
        return self.at.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)


@dataclass(frozen=True)
class OnDate:
    """Something happened on a calendar day, time unknown (how most reports put it)."""

    on: date

    @property
    def day(self) -> date:
        """The calendar day, for ordering a timeline."""
        return self.on


@dataclass(frozen=True)
class AtLocalTime:
    """Something happened (or will) at a known local time, e.g. a scheduled hearing."""

    local: LocalDateTime

    @property
    def day(self) -> date:
        """The local calendar day, for ordering a timeline."""
        return self.local.at.date()


Occurrence: TypeAlias = OnDate | AtLocalTime
"""When a development happened: a date, or a local date-time with its zone."""

TargetRole = Literal["primary", "copy"]


@dataclass(frozen=True, kw_only=True)
class Target:
    """An official to write to ("primary") or to send a copy to ("copy").

    Contact fields are optional because real actions omit them: the seed's General
    Prosecutor has no e-mail and its President no salutation.
    """

    target_id: str
    name: str
    title: str
    organisation: str | None = None
    address_lines: tuple[str, ...] = ()
    country: str
    fax: str | None = None
    email: str | None = None
    salutation: str | None = None
    role: TargetRole

    def __post_init__(self) -> None:
        if not _TARGET_ID.fullmatch(self.target_id):
            raise DomainError("invalid_target_id", f"not a short lowercase id: {self.target_id!r}")
        require_text(self.name, "invalid_target", "a target's name")
        validate_country(self.country)
        require_choice(self.role, TargetRole, "invalid_target", "a target's role")
        if self.email is not None:
            validate_email(self.email)


def check_deadline(deadline: Deadline) -> Deadline:
    """Return `deadline` if its day lies in the sane years (see `require_in_range`)."""
    require_in_range(deadline.on, "the deadline")
    return deadline


def check_occurrence(occurred: Occurrence) -> Occurrence:
    """Return `occurred` if its day or local time lies in the sane years."""
    if isinstance(occurred, AtLocalTime):
        require_in_range(occurred.local.at, "a local date-time")
    else:
        require_in_range(occurred.on, "the date")
    return occurred


def check_target(target: Target) -> Target:
    """Return `target` if every field that reaches a letter's header or a line is one line."""
    for name in ("name", "title", "organisation", "fax", "salutation"):
        value = getattr(target, name)
        if value is not None:
            require_single_line(value, f"a target's {name}")
    for line in target.address_lines:
        require_single_line(line, "an address line")
    return target

"""What the "manage my data" page shows, and how its forms become commands.

The page reads the supporter's row (no personal data: the e-mail and name stay sealed) and
the cases they follow or could follow. The forms send codes from lists the page drew
(countries, zones, languages, cases); each value is checked again here and by the domain,
since anyone can post anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, exists, or_, select
from werkzeug.datastructures import MultiDict

from campaign.domain import preferences
from campaign.domain.base import DomainError
from campaign.domain.values import validate_country, validate_timezone
from campaign.infra import i18n
from campaign.infra.tables import actions, cases, supporters
from campaign.web.pages import N_, choices

MOST_COUNTRIES = 250
MOST_CASES = 1_000  # as the API's subscriptions schema


class FormError(ValueError):
    """A field of the form is missing or not one the page offered; the message is a
    catalogue message id, translated by the page."""


@dataclass(frozen=True)
class CaseChoice:
    """A case the supporter follows or could follow, as the page names it."""

    case_id: str
    subject_name: str
    country: str
    title: str | None
    """The title of the case's latest public action, when it has one."""
    followed: bool


def supporter_row(conn: Connection, supporter_id: str) -> Any:
    """The supporter's read-model row (the link checked they are on file and not erased)."""
    return conn.execute(select(supporters).where(
        supporters.c.supporter_id == supporter_id)).one()


def case_choices(conn: Connection, followed: Iterable[str]) -> list[CaseChoice]:
    """The cases the supporter follows, then the open cases with a public action.

    A case with only drafted actions is not offered: nothing about it is public yet.
    """
    followed = list(followed)
    public = exists(select(actions.c.action_id).where(
        actions.c.case_id == cases.c.case_id, actions.c.status != "drafted"))
    rows = conn.execute(select(cases.c.case_id, cases.c.subject_name, cases.c.country)
                        .where(or_(cases.c.case_id.in_(followed),
                                   and_(cases.c.status == "open", public)))
                        .order_by(cases.c.subject_name, cases.c.case_id)).all()
    titles = _latest_titles(conn, [row.case_id for row in rows])
    found = [CaseChoice(row.case_id, row.subject_name, row.country, titles.get(row.case_id),
                        row.case_id in followed) for row in rows]
    known = {choice.case_id for choice in found}
    gone = [CaseChoice(case_id, case_id, "", None, True)
            for case_id in followed if case_id not in known]
    return sorted(found, key=lambda c: not c.followed) + gone


def _latest_titles(conn: Connection, case_ids: list[str]) -> dict[str, str]:
    rows = conn.execute(select(actions.c.case_id, actions.c.title)
                        .where(actions.c.case_id.in_(case_ids), actions.c.status != "drafted")
                        .order_by(actions.c.issued_on, actions.c.action_id))
    return {row.case_id: row.title for row in rows}  # the latest issued wins


def preferences_command(form: MultiDict[str, str], row: Any, supporter_id: str,
                        now: datetime) -> preferences.ChangePreferences:
    """Language, country and timezone from the form, each one the page offered."""
    locale = form.get("locale", "")
    if locale not in i18n.LOCALES and locale != row.locale:
        raise FormError(N_("Choose a language from the list."))
    country = _country(form.get("country", ""))
    timezone = form.get("timezone", "")
    try:
        validate_timezone(timezone)
    except DomainError:
        raise FormError(N_("Choose a timezone from the list.")) from None
    return preferences.ChangePreferences(supporter_id=supporter_id, locale=locale,
                                         country=country, timezone=timezone, changed_at=now)


def subscriptions_command(form: MultiDict[str, str], offered: list[CaseChoice],
                          supporter_id: str, now: datetime) -> preferences.ChangeSubscriptions:
    """All actions or some: kept countries, a country added, and the cases ticked."""
    everything = form.get("all_actions", "")
    if everything not in ("yes", "no"):
        raise FormError(N_("Choose every action, or only the actions you pick."))
    codes = [*form.getlist("countries"), form.get("add_country", "")]
    countries = tuple(dict.fromkeys(_country(code) for code in codes if code))
    case_ids = tuple(dict.fromkeys(form.getlist("case_ids")))
    if not set(case_ids) <= {choice.case_id for choice in offered}:
        raise FormError(N_("Choose cases from the list."))
    if len(countries) > MOST_COUNTRIES or len(case_ids) > MOST_CASES:
        raise FormError(N_("That is more than this page can save at once."))
    if everything == "no" and not countries and not case_ids:
        raise FormError(N_("Choose at least one country or case, or every action."))
    return preferences.ChangeSubscriptions(supporter_id=supporter_id,
                                           all_actions=everything == "yes",
                                           countries=countries, case_ids=case_ids,
                                           changed_at=now)


def _country(code: str) -> str:
    try:
        return validate_country(code)
    except DomainError:
        raise FormError(N_("Choose countries from the list.")) from None


def page_context(row: Any, offered: list[CaseChoice], locale: str) -> dict[str, Any]:
    """The choices the page shows, named in `locale`."""
    return {
        "consented": row.consented, "unsubscribed": row.unsubscribed,
        "email_paused": row.email_paused, "all_actions": row.all_actions,
        "chosen_locale": row.locale, "chosen_country": row.country,
        "chosen_timezone": row.timezone,
        "languages": choices.languages(row.locale),
        "countries": choices.countries(locale),
        "timezones": choices.timezones(locale, row.timezone),
        "chosen_countries": [choices.Choice(code, choices.country_name(code, locale))
                             for code in row.countries],
        "country_name": lambda code: choices.country_name(code, locale),
        "cases": offered,
    }

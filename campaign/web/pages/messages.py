"""What the supporter pages say besides their forms: one-sentence pages, in one language.

Page modules name their sentences with `N_` (extracted into the `pages` catalogue) and the
template translates them when it shows them, in the page's locale. A visitor whose link
names no supporter (forged, expired, erased) reads their browser's language.
"""

from __future__ import annotations

from flask import Response, request

from campaign.infra import i18n
from campaign.web.pages import render_page


def N_(message: str) -> str:  # noqa: N802 (gettext's name for "translate later")
    """Mark `message` for the catalogue; the page translates it when it shows it."""
    return message


def visitor_locale(asked: str | None = None) -> str:
    """`asked` (a `?lang=`) when given, else the browser's best shipped language, else
    English."""
    if asked:
        return i18n.negotiate(asked)
    return i18n.negotiate(request.accept_languages.best_match(i18n.LOCALES))


def notice(status: int, locale: str, title: str, message: str) -> Response:
    """A page that only tells something: a title and a sentence (message ids), in `locale`."""
    return render_page("pages/notice.html", locale, status, title=title, message=message)

"""UA 135/10's text in other languages, as a campaigner sends it to
`PUT /api/v1/actions/{id}/translations/{language}`: Russian (the demo's translation) and
Arabic (`tests.ua_135_10_ar`). Targets, salutations and addresses are never translated."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from campaign.demo import ua_135_10_ru
from tests import ua_135_10_ar

TEXTS: dict[str, ModuleType] = {"ru": ua_135_10_ru, "ar": ua_135_10_ar}


def seed_translation(language: str, **changes: Any) -> dict[str, Any]:
    """The seed's title, summary, body, asks and additional information in `language`
    ("ru" or "ar"), with `changes` replacing fields: a translation request's body."""
    text = TEXTS[language]
    return {"title": text.TITLE, "summary": text.SUMMARY, "body": text.BODY,
            "asks": list(text.ASKS), "additional_information": text.ADDITIONAL_INFORMATION,
            **changes}

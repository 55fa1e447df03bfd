"""The action editor's HTML forms, read into what the API's schemas check, and back.

A form that works without JavaScript: asks and officials are numbered fields, and "add an
ask" or "add an official" re-render the form with one more empty one. What the campaigner
typed is checked by the same schemas as the JSON API (campaign.web.api.action_schemas), so
a rule has one wording; their messages are shown next to the form, field by field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import marshmallow as ma
from werkzeug.datastructures import MultiDict

from campaign.web.api.action_schemas import (
    ActionContentSchema,
    CloseSchema,
    TranslationSchema,
    UpdateSchema,
)

TARGET_FIELDS: Final = ("target_id", "name", "title", "organisation", "address", "country",
                        "fax", "email", "salutation", "role")
TEXTS: Final = ("title", "summary", "body", "additional_information")
_NOT_SLUG: Final = re.compile(r"[^a-z0-9]+")


@dataclass
class Form:
    """What a form shows: the values as typed, one list per repeated field, the errors."""

    values: dict[str, str] = field(default_factory=dict)
    asks: list[str] = field(default_factory=list)
    targets: list[dict[str, str]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def shown_errors(self) -> list[tuple[str, str]]:
        """The errors with their fields named as the form labels them."""
        return [(field_label(f), m) for f, m in self.errors]

    def error(self, name: str) -> str | None:
        """The first message about field `name` (or one inside it), if any."""
        return next((m for f, m in self.errors if f == name or f.startswith(f"{name}.")), None)


def field_label(path: str) -> str:
    """A schema's field path in the form's words: "targets.1.name" is "official 2 name"."""
    parts = path.split(".")
    words = []
    for part in parts:
        if part.isdigit():
            words.append(str(int(part) + 1))
        else:
            words.append({"targets": "official", "asks": "ask", "address_lines": "address",
                          "on": "day", "ua_number": "UA number"}.get(part, part.replace("_", " ")))
    return " ".join(words)


def blank_content(case_id: str, today: str, deadline: str) -> Form:
    """A new action's form: one ask and one official to fill in."""
    return Form(values={"case_id": case_id, "language": "en", "issued_on": today,
                        "deadline_on": deadline, "deadline_timezone": "UTC",
                        "own_language_welcome": "on"},
                asks=[""], targets=[{"role": "primary"}])


def content_form(document: Mapping[str, Any]) -> Form:
    """The form of an action as its read-model document holds it."""
    deadline = document["deadline"]
    values = {name: str(document.get(name) or "") for name in (
        "case_id", "ua_number", "index_number", "title", "country", "issued_on", "language",
        "summary", "body", "additional_information")}
    values.update(deadline_on=deadline["on"], deadline_timezone=deadline["timezone"],
                  deadline_time=(deadline.get("time") or "")[:5],
                  languages=", ".join(document["languages"]),
                  source_links="\n".join(document["source_links"]))
    for flag in ("own_language_welcome", "copies_to_diplomats"):
        if document.get(flag):
            values[flag] = "on"
    return Form(values=values, asks=list(document["asks"]),
                targets=[_target_form(t) for t in document["targets"]])


def read_form(posted: MultiDict[str, str]) -> Form:
    """The form as posted, with "add an ask" or "add an official" applied."""
    values = {k: v for k, v in posted.items() if not k.startswith(("ask", "t_"))}
    asks = posted.getlist("ask")
    count = len(posted.getlist("t_name"))
    targets = [{name: _nth(posted, f"t_{name}", n) for name in TARGET_FIELDS}
               for n in range(count)]
    if posted.get("do") == "add_ask":
        asks.append("")
    if posted.get("do") == "add_target":
        targets.append({"role": "primary"})
    return Form(values=values, asks=asks, targets=targets)


def content_of(form: Form) -> dict[str, Any] | None:
    """The checked content of `form`, as a DraftAction takes it; None with `form.errors` set."""
    return _load(ActionContentSchema(), _content_json(form), form)


def update_of(form: Form, document: Mapping[str, Any]) -> dict[str, Any] | None:
    """A PublishUpdate's fields: what `form` changes in the action, and its number."""
    typed = _content_json(form)
    body: dict[str, Any] = {"number": form.values.get("number", "")}
    for name in (*TEXTS, "asks", "targets"):
        if typed[name] != _comparable(document, name):
            body[name] = typed[name]
    if typed["deadline"] != _comparable(document, "deadline"):
        body["deadline"] = typed["deadline"]
    try:
        body["number"] = int(body["number"])
    except ValueError:
        form.errors.append(("number", "The update's number must be a whole number."))
        return None
    return _load(UpdateSchema(), body, form)


def translation_of(form: Form) -> dict[str, Any] | None:
    """A TranslateAction's text from `form`."""
    body = {name: form.values.get(name, "") for name in TEXTS}
    return _load(TranslationSchema(), {**body, "asks": form.asks}, form)


def close_of(posted: Mapping[str, str], form: Form) -> dict[str, Any] | None:
    """A CloseAction's reason and note; the reason must be chosen."""
    return _load(CloseSchema(), {"reason": posted.get("reason", ""),
                                 "note": posted.get("note", "")}, form)


def _content_json(form: Form) -> dict[str, Any]:
    """The form in the JSON API's shape, blank repeated fields left out."""
    v = form.values
    deadline: dict[str, Any] = {"on": v.get("deadline_on", ""),
                                "timezone": v.get("deadline_timezone", "")}
    if v.get("deadline_time"):
        deadline["time"] = v["deadline_time"]
    targets = [t for t in form.targets if any(t.get(n) for n in ("name", "title"))]
    return {
        "case_id": v.get("case_id", ""), "ua_number": v.get("ua_number", ""),
        "index_number": v.get("index_number", ""), "title": v.get("title", ""),
        "country": v.get("country", "").upper(), "issued_on": v.get("issued_on", ""),
        "deadline": deadline, "language": v.get("language", "en"),
        "languages": [t.strip() for t in v.get("languages", "").split(",") if t.strip()],
        "own_language_welcome": bool(v.get("own_language_welcome")),
        "asks": [a for a in form.asks if a.strip()],
        "targets": [_target_json(t, n, targets) for n, t in enumerate(targets)],
        "copies_to_diplomats": bool(v.get("copies_to_diplomats")),
        "summary": v.get("summary", ""), "body": v.get("body", ""),
        "additional_information": v.get("additional_information", ""),
        "source_links": [u.strip() for u in v.get("source_links", "").splitlines() if u.strip()],
    }


def _target_json(target: dict[str, str], n: int, every: list[dict[str, str]]) -> dict[str, Any]:
    """One official as the API takes it; an official without an id gets one from the name."""
    target_id = target.get("target_id") or _slug(target.get("name", ""), n, every)
    return {
        "target_id": target_id, "name": target.get("name", ""),
        "title": target.get("title", ""), "organisation": target.get("organisation") or None,
        "address_lines": [a.strip() for a in target.get("address", "").splitlines()
                          if a.strip()],
        "country": target.get("country", "").upper(), "fax": target.get("fax") or None,
        "email": target.get("email") or None, "salutation": target.get("salutation") or None,
        "role": target.get("role") or "primary",
    }


def _slug(name: str, n: int, every: list[dict[str, str]]) -> str:
    base = _NOT_SLUG.sub("-", name.lower()).strip("-")[:40].strip("-") or "official"
    taken = {t.get("target_id") for t in every}
    return base if base not in taken and base != "official" else f"{base}-{n + 1}"


def _target_form(target: Mapping[str, Any]) -> dict[str, str]:
    found = {name: str(target.get(name) or "") for name in TARGET_FIELDS if name != "address"}
    found["address"] = "\n".join(target.get("address_lines") or ())
    return found


def _comparable(document: Mapping[str, Any], name: str) -> Any:
    """A document's field as `_content_json` writes it, to see what a form changed."""
    value = document[name]
    if name == "deadline":
        found = {"on": value["on"], "timezone": value["timezone"]}
        if value.get("time"):
            found["time"] = value["time"][:5]
        return found
    if name == "targets":
        return [_target_json(_target_form(t), n, []) for n, t in enumerate(value)]
    return list(value) if isinstance(value, list | tuple) else value


def _nth(posted: MultiDict[str, str], name: str, n: int) -> str:
    found = posted.getlist(name)
    return found[n] if n < len(found) else ""


def _load(schema: ma.Schema, body: dict[str, Any], form: Form) -> dict[str, Any] | None:
    try:
        loaded: dict[str, Any] = schema.load(body)
    except ma.ValidationError as invalid:
        form.errors.extend(_flatten(invalid.messages))
        return None
    return loaded


def _flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Marshmallow's nested messages as (field path, message) pairs."""
    if isinstance(messages, dict):
        return [pair for key, value in messages.items()
                for pair in _flatten(value, f"{prefix}{key}.")]
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [(prefix.rstrip("."), m) for m in messages]
    if isinstance(messages, list):
        return [pair for m in messages for pair in _flatten(m, prefix)]
    return [(prefix.rstrip("."), str(messages))]


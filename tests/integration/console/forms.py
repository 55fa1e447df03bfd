"""Reading a console form out of its page as a browser would submit it, unchanged."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any


class _Form(HTMLParser):
    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.open: tuple[str, str] | None = None  # a textarea or select being read
        self.text = ""
        self.chosen: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form" and found.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside:
            return
        name = found.get("name", "")
        if tag == "input" and name and found.get("type") not in ("submit", "checkbox"):
            self.fields.append((name, found.get("value", "")))
        elif tag == "input" and found.get("type") == "checkbox" and "checked" in found:
            self.fields.append((name, "on"))
        elif tag in ("textarea", "select") and name:
            self.open, self.text, self.chosen = (tag, name), "", None
        elif tag == "option" and self.open and ("selected" in found or self.chosen is None):
            if "selected" in found or self.chosen is None:
                self.chosen = found.get("value", "")

    def handle_data(self, data: str) -> None:
        if self.open and self.open[0] == "textarea":
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        if self.open and tag == self.open[0]:
            value = self.text if tag == "textarea" else (self.chosen or "")
            self.fields.append((self.open[1], value.removeprefix("\n")))
            self.open = None


def filled_form(html: str, testid: str) -> dict[str, Any]:
    """The fields of the form `data-testid=testid` as it would be posted: a list for a name
    that repeats."""
    parser = _Form(testid)
    parser.feed(html)
    found: dict[str, Any] = {}
    for name, value in parser.fields:
        if name in found:
            found[name] = [*([found[name]] if isinstance(found[name], str) else found[name]),
                           value]
        else:
            found[name] = value
    repeated = {"ask", "t_target_id", "t_name", "t_title", "t_organisation", "t_salutation",
                "t_address", "t_country", "t_fax", "t_email", "t_role"}
    return {k: ([v] if k in repeated and isinstance(v, str) else v) for k, v in found.items()}

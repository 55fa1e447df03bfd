"""Reading an e-mail's HTML part as its reader sees it: the language it declares, its text."""

from __future__ import annotations

from html.parser import HTMLParser


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities decoded, as a mail client shows them
        self.attributes: dict[str, str | None] = {}
        self.in_body = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.attributes = dict(attrs)
        self.in_body = self.in_body or tag == "body"

    def handle_endtag(self, tag: str) -> None:
        self.in_body = self.in_body and tag != "body"

    def handle_data(self, data: str) -> None:
        if self.in_body:
            self.text.append(data)


def _read(html: str) -> _Reader:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader


def html_text(html: str) -> str:
    """The text of the HTML part's body: tags stripped, entities decoded."""
    return "".join(_read(html).text)


def html_language(html: str) -> tuple[str | None, str | None]:
    """The `lang` and `dir` the HTML part's `<html>` element declares."""
    attributes = _read(html).attributes
    return attributes.get("lang"), attributes.get("dir")

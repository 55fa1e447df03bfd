"""Screenshots for docs/: written only when asked (`make screenshots`), so a normal test
run leaves the work tree as it found it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Page

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def wanted() -> bool:
    """True when this run writes the docs' screenshots (DOCS_SCREENSHOTS=1)."""
    return os.environ.get("DOCS_SCREENSHOTS") == "1"


def screenshot_for_docs(page: Page, name: str) -> Path | None:
    """Write the whole page as docs/screenshots/<name>.png when DOCS_SCREENSHOTS=1.

    `name` says what and in which locale, in lowercase words and dashes: "join-en",
    "act-ar". Returns the file written, or None when screenshots were not asked for.
    """
    assert NAME.match(name), f"screenshot name {name!r}: lowercase words and dashes only"
    if not wanted():
        return None
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = DOCS_SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return path

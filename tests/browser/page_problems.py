"""What a page does wrong that its DOM does not show: a Content-Security-Policy violation
(an inline script or style the browser refused) or an uncaught script error."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import BrowserContext, ConsoleMessage, WebError

CSP = "Content Security Policy"


@dataclass
class PageProblems:
    """The problems of every page of one browser context, as they happen."""

    seen: list[str] = field(default_factory=list)

    @classmethod
    def watch(cls, context: BrowserContext) -> PageProblems:
        """Start recording the problems of `context`'s pages, present and future."""
        problems = cls()
        context.on("console", problems._console)
        context.on("weberror", problems._error)
        return problems

    def assert_none(self) -> None:
        assert not self.seen, "the page misbehaved:\n" + "\n".join(f"  {p}" for p in self.seen)

    def _console(self, message: ConsoleMessage) -> None:
        if CSP in message.text:
            self.seen.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def _error(self, error: WebError) -> None:
        where = error.page.url if error.page else "?"
        self.seen.append(f"{where}: uncaught {error.error}")

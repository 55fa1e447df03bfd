"""The links campaign e-mail carries: confirm, unsubscribe, manage my data, and the pledge
page of an action; and, in every campaign e-mail's footer, the page to ask for a manage link.

Each carries a signed token for one purpose only (campaign.application.access); the pledge
page's token also names its one action. The paths are the web pages' routes
(campaign.web.pages); a test holds the two together.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import quote, urlencode

from campaign.application.access import SupporterLinks


@dataclass(frozen=True)
class MailLinks:
    """Absolute URLs under `base_url` for one supporter's links."""

    base_url: str
    links: SupporterLinks

    def confirm(self, supporter_id: str) -> str:
        """The double opt-in link of the confirmation e-mail."""
        return f"{self._base}/confirm/{self.links.sign('confirm', supporter_id)}"

    def unsubscribe(self, supporter_id: str) -> str:
        """The one-click link in `List-Unsubscribe` and the footer of every campaign e-mail."""
        return f"{self._base}/unsubscribe/{self.links.sign('unsubscribe', supporter_id)}"

    def manage(self, supporter_id: str) -> str:
        """The hour-long link to the supporter's data: export, preferences, erasure."""
        return f"{self._base}/manage/{self.links.sign('manage', supporter_id)}"

    def manage_page(self, locale: str) -> str:
        """The page that asks for an address and e-mails it a manage link: no token, so the
        same URL for every reader of a batch, and nothing for whoever it is forwarded to."""
        return f"{self._base}/manage?{urlencode({'lang': locale})}"

    def pledge(self, action_id: str, supporter_id: str) -> str:
        """The page where the supporter pledges letters to this action and confirms them.

        Forwarding the e-mail hands on this action's pledge, nothing else of the person.
        """
        # The token's alphabet (URL-safe base64 and ".") is what urlencode leaves as it is.
        token = self.links.sign_action(supporter_id, action_id)
        return f"{self._base}/act/{_path_segment(action_id)}?token={token}"

    @cached_property
    def _base(self) -> str:
        return self.base_url.rstrip("/")


@lru_cache(maxsize=256)
def _path_segment(value: str) -> str:
    """`value` escaped as one path segment: once per action, not per recipient."""
    return quote(value, safe="")

"""An action e-mail's pledge link, written without urlencode per recipient, is the same URL."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode, urlsplit

from campaign.application.access import SupporterLinks
from campaign.mail.links import MailLinks

SECRET = "pledge-link-secret-" + "p" * 32


def test_a_pledge_link_escapes_the_action_id_and_carries_the_token_as_urlencode_writes_it(
) -> None:
    links = SupporterLinks(SECRET)
    mail_links = MailLinks("https://ua.example.org/", links)

    for action_id in ("a-1", "ua 135/10 & más?", "a-1"):
        url = mail_links.pledge(action_id, "s-1")
        path, token = url.split("?", 1)
        assert path == f"https://ua.example.org/act/{quote(action_id, safe='')}"
        assert token == urlencode({"token": parse_qs(urlsplit(url).query)["token"][0]})
        assert links.verify_action(parse_qs(urlsplit(url).query)["token"][0]) == (
            links.verify_action(links.sign_action("s-1", action_id)))

"""Which stage of a mailing's funnel each SendGrid event puts its person in."""

from __future__ import annotations

from typing import Any

import pytest

from campaign.mail.provider_people import stage_of

PLEDGE_LINK = "https://ua.example.org/act/4f1c?token=abc"


@pytest.mark.parametrize("event, stage", [
    ({"event": "delivered"}, "delivered"),
    ({"event": "open"}, "opened"),
    ({"event": "open", "sg_machine_open": False}, "opened"),
    ({"event": "open", "sg_machine_open": True}, "opened_machine"),
    ({"event": "click", "url": PLEDGE_LINK}, "clicked"),
    ({"event": "click", "url": "https://ua.example.org/unsubscribe/abc"}, None),
    ({"event": "click", "url": "https://ua.example.org/manage?lang=en"}, None),
    ({"event": "click"}, None),
    ({"event": "bounce", "type": "bounce"}, "bounced_hard"),
    ({"event": "bounce"}, "bounced_hard"),
    ({"event": "bounce", "type": "blocked"}, "bounced_soft"),
    ({"event": "dropped", "reason": "Bounced Address"}, "dropped"),
    ({"event": "spamreport"}, "spam_report"),
    ({"event": "unsubscribe"}, "unsubscribed"),
    ({"event": "group_unsubscribe"}, "unsubscribed"),
    ({"event": "deferred"}, None),
    ({"event": "processed"}, None),
])
def test_an_event_puts_its_person_in_one_stage_or_none(event: dict[str, Any],
                                                       stage: str | None) -> None:
    assert stage_of(event) == stage

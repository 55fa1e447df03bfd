"""A webhook body names its event as the feed does, so a partner catching up skips what it has.

The partner side is the test's receiver: it verifies every request with the reference
`standardwebhooks` library before reading the body, as docs/partners.md tells partners to.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.infra.clock import utc_now
from campaign.partners.registry import get_partner
from campaign.partners.webhooks.deliveries import rearm, replay
from tests.fakes.partner_receiver import Answer, PartnerReceiver
from tests.integration.webhooks.conftest import (
    Clock,
    Pipeline,
    deliveries,
    launch_seed_action,
    register,
)


def feed_items(client: FlaskClient, api_key: str) -> list[dict[str, Any]]:
    """Every item of the partner's feed, paged as a partner would."""
    items: list[dict[str, Any]] = []
    after = "0"
    while True:
        page = client.get(f"/api/v1/feed?after={after}&limit=3",
                          headers={"Authorization": f"Bearer {api_key}"}).get_json()
        items += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return items


def test_each_webhook_carries_the_event_id_the_feed_shows_for_that_event(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
    client: FlaskClient,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)

    pipeline.run()

    arrived = receiver.deliveries()
    assert arrived and all(d.verified for d in arrived)
    feed = feed_items(client, str(issued.api_key))
    assert [d.payload["event_id"] for d in arrived] == [item["event_id"] for item in feed]
    # The whole body is the feed item without its log position.
    assert [d.payload for d in arrived] == [
        {k: v for k, v in item.items() if k != "position"} for item in feed]
    # The webhook-id stays the partner's own delivery id, not the event's.
    assert {d.webhook_id for d in arrived}.isdisjoint({item["event_id"] for item in feed})


def test_a_partner_catching_up_from_the_feed_finds_exactly_what_its_webhooks_missed(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
    client: FlaskClient,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    receiver.answer_next(Answer(200), 3)
    receiver.answer_always(Answer(503, body=b"down for maintenance"))

    pipeline.run()

    taken = {d.payload["event_id"] for d in receiver.deliveries()}
    feed = feed_items(client, str(issued.api_key))
    missed = [item["event_id"] for item in feed if item["event_id"] not in taken]
    assert len(taken) == 3 and taken <= {item["event_id"] for item in feed}
    unsent = [r.event_id for r in deliveries(container, issued.partner_id)
              if r.status != "succeeded"]
    assert missed == unsent and len(missed) == len(feed) - 3


def test_the_body_and_its_event_id_stay_the_same_across_retries_redeliveries_and_replays(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=("action.launched",))
    launch_seed_action(container)
    receiver.fail_next(1)
    pipeline.run()
    clock.advance(timedelta(seconds=6))
    pipeline.run()  # the retry
    (row,) = deliveries(container, issued.partner_id)
    with container.engine.begin() as conn:
        rearm(conn, [row.delivery_id], clock())  # a redelivery
    pipeline.run()
    with container.engine.begin() as conn:
        partner = get_partner(conn, issued.partner_id)
        assert partner is not None
        replay(conn, partner, utc_now() - timedelta(days=1), clock())
    pipeline.run()

    sent = receiver.requests()
    assert [r.answered for r in sent] == [500, 200, 200, 200]
    assert all(r.verified for r in sent)
    assert {r.body for r in sent} == {sent[0].body}
    assert {r.webhook_id for r in sent} == {row.delivery_id}
    assert sent[0].payload["event_id"] == row.event_id


def partner_snippet() -> dict[str, Any]:
    """The receiver docs/partners.md gives partners to copy, as they would run it."""
    text = (Path(__file__).resolve().parents[3] / "docs" / "partners.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    found: dict[str, Any] = {}
    exec(compile(code, "docs/partners.md", "exec"), found)  # noqa: S102 - our own docs
    return found


def test_the_receiver_in_the_partner_docs_verifies_our_webhooks_and_skips_them_in_the_feed(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
    client: FlaskClient,
) -> None:
    issued = register(container, receiver, clock())
    launch_seed_action(container)
    receiver.answer_next(Answer(200), 2)
    receiver.answer_always(Answer(503, body=b"down"))
    pipeline.run()
    snippet, seen = partner_snippet(), set[str]()

    answers = [snippet["receive"](issued.signing_secret, d.body, d.headers, seen)
               for d in receiver.deliveries()]
    forged = snippet["receive"]("whsec_" + "A" * 44, receiver.deliveries()[0].body,
                                receiver.deliveries()[0].headers, seen)
    new = snippet["catch_up"](feed_items(client, str(issued.api_key)), seen)

    assert answers == [204, 204] and forged == 401
    unsent = [r.event_id for r in deliveries(container, issued.partner_id)
              if r.status != "succeeded"]
    assert [item["event_id"] for item in new] == unsent

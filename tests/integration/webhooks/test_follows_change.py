"""Webhooks follow a partner's new follows from the change on; what was queued is still sent."""

from __future__ import annotations

from datetime import timedelta

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain.partner import Follows
from campaign.partners.admin import change_follows
from campaign.partners.registry import get_partner
from campaign.partners.webhooks.deliveries import replay
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import (
    META,
    Clock,
    Pipeline,
    deliveries,
    register,
)

LAUNCHES_OF_THE_ACTION = Follows(action_ids=(seed.ACTION_ID,), event_types=("action.launched",))


def test_events_after_a_change_reach_the_partner_by_its_new_follows(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock())  # the seed case, every type
    for command in seed.CASE_COMMANDS:
        container.commands.handle(command, META)
    pipeline.run()
    before = len(receiver.deliveries())

    change_follows(container.commands, issued.partner_id, LAUNCHES_OF_THE_ACTION, META, clock())
    for command in seed.ACTION_COMMANDS:  # launched, then updated
        container.commands.handle(command, META)
    pipeline.run()

    assert before == len(seed.DEVELOPMENTS_2010)  # the 2020 hearing waits for approval
    after = receiver.deliveries()[before:]
    assert [d.payload["type"] for d in after] == ["action.launched"]


def test_deliveries_made_before_a_change_are_still_sent_and_retried(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=("case.development_recorded",))
    for command in seed.CASE_COMMANDS:
        container.commands.handle(command, META)
    receiver.fail_next(1)
    pipeline.run()  # every development is a delivery row; the first attempt fails
    made = deliveries(container, issued.partner_id)

    change_follows(container.commands, issued.partner_id, LAUNCHES_OF_THE_ACTION, META, clock())
    clock.advance(timedelta(seconds=6))
    pipeline.run()

    assert len(made) == len(seed.DEVELOPMENTS_2010)
    assert [r.status for r in deliveries(container, issued.partner_id)] == ["succeeded"] * len(made)
    assert len(receiver.deliveries()) == len(made)


def test_a_replay_after_a_change_sends_what_the_partner_follows_now(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=("case.development_recorded",))
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS):
        container.commands.handle(command, META)
    pipeline.run()
    sent = len(receiver.deliveries())

    change_follows(container.commands, issued.partner_id, LAUNCHES_OF_THE_ACTION, META, clock())
    with container.engine.begin() as conn:
        partner = get_partner(conn, issued.partner_id)
        assert partner is not None
        replay(conn, partner, 0, clock())
    pipeline.run()

    assert [d.payload["type"] for d in receiver.deliveries()[sent:]] == ["action.launched"]

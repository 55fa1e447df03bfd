"""Partner payloads read a case's or action's history as every reader does: upcast."""

from __future__ import annotations

from typing import Any

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.partners.payloads import partner_event
from events import EventStore, Upcasters

META = Meta(actor="test", correlation_id="upcast")


def test_payloads_describe_the_history_as_the_upcasters_give_it(container: Container) -> None:
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS):
        container.commands.handle(command, META)
    upcasters = Upcasters()

    @upcasters.register("ActionDrafted", 1)
    def louder_title(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "title": data["title"].upper()}

    @upcasters.register("DevelopmentRecorded", 1)
    def marked_summary(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "summary": "[v2] " + data["summary"]}

    store = EventStore(container.engine, upcasters=upcasters)
    with container.engine.connect() as conn:
        built = [partner_event(store, conn, stored)
                 for stored in store.read_all(0, 1_000, conn=conn)]
    seen = [event for event in built if event is not None]

    launched = next(e for e in seen if e.type == "action.launched")
    assert launched.data["title"] == seed.TITLE.upper()
    developments = [e for e in seen if e.type == "case.development_recorded"]
    assert developments
    assert all(e.data["summary"].startswith("[v2] ") for e in developments)

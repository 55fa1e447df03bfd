"""One stored event no reader expected breaks nothing downstream.

The event is a case development dated 1 January of year 1 in Asia/Tokyo, written straight
into the log as data stored before dates were checked would be: no zone can turn it into
an instant. The case's timeline, the case list, the partner feed, webhooks and every
subscription go on; what could not be handled is parked where operators see it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import case
from campaign.domain.codec import to_data
from campaign.domain.values import OnDate
from events import ANY, EventStore, NewEvent, SubscriptionRunner, rebuild
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import (
    META,
    Clock,
    Pipeline,
    launch_seed_action,
    register,
)

Headers = dict[str, str]


def write_year_one_development(container: Container) -> None:
    """Append the development as stored data, bypassing commands and projections."""
    valid = replace(seed.SUPREME_COURT_HEARING, development_id="year-one",
                    requires_approval=False)
    data = to_data(case.DevelopmentRecorded(
        case_id=valid.case_id, development_id=valid.development_id, kind=valid.kind,
        occurred=valid.occurred, summary=valid.summary, source=valid.source,
        recorded_at=valid.recorded_at, pending_approval=False))
    data["occurred"]["local"] = {"at": "0001-01-01T00:00:00", "timezone": "Asia/Tokyo"}
    raw = EventStore(container.engine)  # no inline projection: the row it never got
    raw.append(case.case_stream(seed.CASE_ID), [NewEvent(
        "DevelopmentRecorded", data, {"actor": "legacy", "correlation_id": "legacy"})], ANY)
    rebuild(container.store, container.projections["cases"])


def record_later_development(container: Container, clock: Clock) -> None:
    container.commands.handle(case.RecordDevelopment(
        case_id=seed.CASE_ID, development_id="released-2020-07-25", kind="released",
        occurred=OnDate(clock().date() - timedelta(days=1)),
        summary="Released.", source=case.DevelopmentSource(kind="campaigner"),
        recorded_at=clock()), META)


def test_a_development_no_zone_can_convert_breaks_no_reader(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
    client: FlaskClient, token_headers: Callable[[str], Headers],
) -> None:
    issued = register(container, receiver, clock(), event_types=(
        "case.development_recorded",))
    launch_seed_action(container)
    pipeline.run()
    before = len(receiver.deliveries())

    write_year_one_development(container)
    record_later_development(container, clock)
    for subscription in container.subscriptions.values():
        assert not SubscriptionRunner(container.store, subscription).run().failed
    pipeline.run()

    admin = token_headers("admin")
    assert client.get("/api/v1/cases", headers=admin).status_code == 200
    one = client.get(f"/api/v1/cases/{seed.CASE_ID}", headers=admin)
    assert one.status_code == 200, one.get_json()
    timeline = {d["development_id"]: d for d in one.get_json()["timeline"]}
    assert "released-2020-07-25" in timeline
    if "year-one" in timeline:  # kept as reported, with no instant to show
        assert timeline["year-one"]["occurred"]["instant"] is None
    sent = [d.payload["data"]["development_id"] for d in receiver.deliveries()[before:]]
    assert sent == ["released-2020-07-25"]
    feed = client.get("/api/v1/feed?after=0&limit=200",
                      headers={"Authorization": f"Bearer {issued.api_key}"})
    assert feed.status_code == 200, feed.get_json()
    feed_ids = [i["data"].get("development_id") for i in feed.get_json()["items"]]
    assert "released-2020-07-25" in feed_ids and "year-one" not in feed_ids

    states = {s["name"]: s for s in
              client.get("/api/v1/subscriptions", headers=admin).get_json()}
    assert states["webhook_outbox"]["parked"] == 1
    assert states["webhook_outbox"]["failed_position"] is None
    set_aside = client.get("/api/v1/subscriptions/webhook_outbox/parked", headers=admin)
    (item,) = set_aside.get_json()["items"]
    assert (item["event_type"], item["error"]) == ("DevelopmentRecorded", "OverflowError")

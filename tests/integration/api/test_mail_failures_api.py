"""Operators see, over the API, the recipients a batch left out and why."""

from __future__ import annotations

from datetime import UTC, datetime

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.domain import mailing
from campaign.domain.codec import to_data
from events import NewEvent
from tests.integration.api.conftest import Headers, assert_problem

LINE_BREAK = "the name contains a line break"


def left_out(container: Container, mailing_id: str, supporter_ids: list[str],
             minute: int) -> None:
    """A batch of `mailing_id` accepted with `supporter_ids` left out, as the sender records it."""
    outcome = mailing.BatchAccepted(
        mailing_id=mailing_id, batch_id=f"{mailing_id}-b{minute}", message_id="msg",
        accepted_at=datetime(2026, 12, 6, 10, minute, tzinfo=UTC),
        failed=tuple(mailing.RecipientFailure(f"d-{s}", s, LINE_BREAK) for s in supporter_ids))
    container.store.append(f"mailing-{mailing_id}",
                           [NewEvent(outcome.type_name, to_data(outcome))])


def test_admins_see_the_recipients_left_out_newest_first_and_per_mailing(
    client: FlaskClient, container: Container, admin: Headers,
) -> None:
    left_out(container, "launch-1", ["s-1", "s-2"], minute=1)
    left_out(container, "update-1", ["s-3"], minute=2)

    every = client.get("/api/v1/mail/failures", headers=admin)
    one = client.get("/api/v1/mail/failures?mailing_id=launch-1&limit=1", headers=admin)

    assert every.status_code == 200 and one.status_code == 200
    assert every.get_json()["total"] == 3
    assert [f["supporter_id"] for f in every.get_json()["items"]][0] == "s-3"
    assert one.get_json()["total"] == 2 and len(one.get_json()["items"]) == 1
    item = one.get_json()["items"][0]
    assert item["mailing_id"] == "launch-1" and item["reason"] == LINE_BREAK
    assert item["failed_at"] == "2026-12-06T10:01:00+00:00"
    assert set(item) == {"delivery_id", "mailing_id", "batch_id", "supporter_id", "reason",
                         "failed_at"}


def test_only_admins_see_the_recipients_left_out(
    client: FlaskClient, campaigner: Headers, viewer: Headers, admin: Headers,
) -> None:
    for headers in (campaigner, viewer):
        assert_problem(client.get("/api/v1/mail/failures", headers=headers), 403)
    assert_problem(client.get("/api/v1/mail/failures", headers={}), 401)
    assert_problem(client.get("/api/v1/mail/failures?limit=0", headers=admin), 422)

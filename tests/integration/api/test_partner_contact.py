"""A partner's contact e-mail is sealed in the log with the partner's key, like supporter data.

Events stored before it was sealed (PartnerRegistered v1) keep their clear address: the log
is immutable. They still read back through the upcaster, as the registry shows them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import partner
from campaign.infra.tables import partners
from events import NO_STREAM, NewEvent, rebuild
from events.personal_data import PREFIX
from events.schema import events
from tests.integration.api.conftest import Headers
from tests.integration.api.partners import PUBLIC_WEBHOOK_URL, open_seed_case, register

CONTACT = "info@birduino.example.org"
OLD_CONTACT = "old-contact@example.org"


def stored_registrations(container: Container) -> list[Any]:
    with container.engine.connect() as conn:
        return list(conn.execute(select(events.c.stream_id, events.c.schema_version,
                                        events.c.data)
                                 .where(events.c.type == "PartnerRegistered")))


def registered_before_sealing(container: Container, partner_id: str) -> None:
    """A PartnerRegistered as the previous version stored it: schema 1, the address in clear."""
    data = {"partner_id": partner_id, "name": "Old Partner", "contact_email": OLD_CONTACT,
            "webhook_url": PUBLIC_WEBHOOK_URL, "case_ids": [seed.CASE_ID], "action_ids": [],
            "countries": [], "event_types": list(partner.PARTNER_EVENT_TYPES),
            "auto_approve_developments": False,
            "registered_at": datetime(2024, 1, 2, tzinfo=UTC).isoformat(),
            "api_key_hash": None}
    container.store.append(partner.partner_stream(partner_id), [NewEvent(
        type="PartnerRegistered", data=data, schema_version=1,
        metadata={"actor": "cli"})], NO_STREAM)


def test_a_new_partners_contact_is_stored_sealed_and_shown_clear_to_admins(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)

    created = register(client, admin, partner_id=seed.PARTNER_ID, contact_email=CONTACT)

    ((stream_id, version, data),) = stored_registrations(container)
    assert (stream_id, version) == (f"partner-{seed.PARTNER_ID}", 2)
    assert data["contact_email"].startswith(PREFIX) and CONTACT not in str(data)
    assert created["contact_email"] == CONTACT
    shown = client.get(f"/api/v1/partners/{seed.PARTNER_ID}", headers=admin).get_json()
    listed = client.get("/api/v1/partners", headers=admin).get_json()["items"]
    assert shown["contact_email"] == CONTACT
    assert [p["contact_email"] for p in listed] == [CONTACT]


def test_a_partner_registered_before_sealing_still_reads_with_its_address(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    registered_before_sealing(container, "old-partner")

    shown = client.get("/api/v1/partners/old-partner", headers=admin)

    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["contact_email"] == OLD_CONTACT
    with container.engine.connect() as conn:
        stored = list(container.store.read_stream("partner-old-partner", conn=conn))
        event = container.commands.mapper.to_domain(conn, stored[0])
    assert stored[0].schema_version == 2
    assert isinstance(event, partner.PartnerRegistered) and event.contact_email == OLD_CONTACT
    disabled = client.post("/api/v1/partners/old-partner/disable", headers=admin)
    assert disabled.status_code == 200, disabled.get_json()
    assert disabled.get_json()["contact_email"] == OLD_CONTACT


def test_rebuilding_the_read_model_keeps_old_and_new_contacts_readable(
    client: FlaskClient, container: Container, admin: Headers
) -> None:
    open_seed_case(container)
    registered_before_sealing(container, "old-partner")
    register(client, admin, partner_id="new-partner", contact_email=CONTACT)
    before = _rows(container)

    rebuild(container.store, container.projections["partners"])

    assert _rows(container) == before
    listed = client.get("/api/v1/partners", headers=admin).get_json()["items"]
    assert {p["partner_id"]: p["contact_email"] for p in listed} == {
        "new-partner": CONTACT, "old-partner": OLD_CONTACT}
    assert PREFIX not in str(listed)


def _rows(container: Container) -> list[dict[str, object]]:
    with container.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(
            select(partners).order_by(partners.c.partner_id))]

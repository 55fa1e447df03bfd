"""The upcasters the store is built with raise every old event to the version now written."""

from __future__ import annotations

from campaign.bootstrap import upcasters
from campaign.domain import (
    action,
    case,
    letter_reports,
    mailing,
    operations,
    partner,
    pledge,
    supporter,
)

ALL_EVENT_CLASSES = [*case.EVENTS, *action.EVENTS, *supporter.EVENTS, *pledge.EVENTS,
                     *mailing.EVENTS, *partner.EVENTS, *letter_reports.EVENTS,
                     *operations.EVENTS]


def test_every_event_type_is_written_at_the_version_old_ones_are_raised_to() -> None:
    registry = upcasters()

    assert {c.type_name: registry.current_version(c.type_name) for c in ALL_EVENT_CLASSES} == {
        c.type_name: c.schema_version for c in ALL_EVENT_CLASSES}


def test_a_partner_registered_before_sealing_reads_as_v2_with_its_address_as_stored() -> None:
    stored = {"partner_id": "p", "contact_email": "old@example.org", "name": "Old"}

    assert upcasters().upcast("PartnerRegistered", 1, stored) == (2, stored)

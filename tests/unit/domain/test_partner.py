"""Partner: given these events, when this command, then these events (or this refusal)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from campaign.demo import ua_135_10 as seed
from campaign.domain import partner
from campaign.domain.base import DomainEvent
from campaign.domain.codec import from_data, to_data
from campaign.domain.partner import (
    ChangePartnerFollows,
    DisablePartnerEndpoint,
    EnablePartnerEndpoint,
    Follows,
    PartnerApiKeyRotated,
    PartnerEndpointDisabled,
    PartnerEndpointEnabled,
    PartnerFollowsChanged,
    PartnerRegistered,
    PartnerSecretRotated,
    RegisterPartner,
    RotatePartnerApiKey,
    RotatePartnerSecret,
)
from tests.unit.domain.scenario import refusal

AT = datetime(2020, 5, 12, 9, tzinfo=UTC)
LATER = AT + timedelta(hours=1)
REGISTER = RegisterPartner(
    partner_id=seed.PARTNER_ID, name="Human Rights Movement Bir Duino-Kyrgyzstan",
    contact_email="info@birduino.example.org", webhook_url="https://birduino.example.org/hooks",
    case_ids=(seed.CASE_ID,), action_ids=(), countries=("KG",),
    event_types=("case.development_recorded", "action.launched"),
    auto_approve_developments=False, registered_at=AT, api_key_hash="ab" * 32,
)
REGISTERED = PartnerRegistered(**vars(REGISTER))


def when(given: list[DomainEvent], command: partner.Command) -> list[DomainEvent]:
    return partner.decide(partner.replay(given), command)


def refused(given: list[DomainEvent], command: partner.Command) -> str:
    return refusal(lambda: when(given, command))


def disable(reason: partner.DisableReason = "gone") -> DisablePartnerEndpoint:
    return DisablePartnerEndpoint(seed.PARTNER_ID, reason, disabled_at=LATER)


def test_registering_a_partner_records_who_it_is_and_what_it_follows() -> None:
    assert when([], REGISTER) == [REGISTERED]
    state = partner.replay([REGISTERED])
    assert (state.follows.case_ids, state.follows.countries, state.endpoint_enabled) == (
        (seed.CASE_ID,), ("KG",), True)


def test_a_partner_cannot_be_registered_twice() -> None:
    assert refused([REGISTERED], REGISTER) == "already_exists"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"name": " "}, "empty_name"),
        ({"contact_email": "not an address"}, "invalid_email"),
        ({"webhook_url": "ftp://birduino.example.org"}, "invalid_webhook_url"),
        ({"countries": ("XX",)}, "invalid_country"),
        ({"case_ids": ("",)}, "invalid_follow"),
        ({"event_types": ()}, "no_event_types"),
        ({"event_types": ("supporter.registered",)}, "unknown_event_type"),
    ],
)
def test_registration_refuses_a_malformed_partner(changes: dict[str, object], code: str) -> None:
    assert refused([], replace(REGISTER, **changes)) == code  # type: ignore[arg-type]


def test_disabling_an_enabled_endpoint_records_why_and_a_second_disable_records_nothing() -> None:
    disabled = PartnerEndpointDisabled(seed.PARTNER_ID, "gone", disabled_at=LATER)

    assert when([REGISTERED], disable("gone")) == [disabled]
    assert when([REGISTERED, disabled], disable("failing")) == []
    state = partner.replay([REGISTERED, disabled])
    assert (state.endpoint_enabled, state.disabled_reason) == (False, "gone")


def test_enabling_resumes_a_disabled_endpoint_and_is_a_no_op_when_enabled() -> None:
    disabled = PartnerEndpointDisabled(seed.PARTNER_ID, "campaigner", disabled_at=LATER)
    enable = EnablePartnerEndpoint(seed.PARTNER_ID, enabled_at=LATER)

    assert when([REGISTERED, disabled], enable) == [
        PartnerEndpointEnabled(seed.PARTNER_ID, enabled_at=LATER)]
    assert when([REGISTERED], enable) == []


def test_an_unknown_reason_or_partner_is_refused() -> None:
    assert refused([REGISTERED], disable("bored")) == "invalid_reason"  # type: ignore[arg-type]
    assert refused([], disable()) == "unknown_partner"
    assert refused([], EnablePartnerEndpoint(seed.PARTNER_ID, enabled_at=LATER)) == \
        "unknown_partner"


def test_rotating_the_secret_records_the_new_secret_and_the_overlap_once() -> None:
    rotate = RotatePartnerSecret(seed.PARTNER_ID, "secret-2", rotated_at=LATER,
                                 overlap_until=LATER + timedelta(hours=24))
    rotated = PartnerSecretRotated(**vars(rotate))

    assert when([REGISTERED], rotate) == [rotated]
    assert when([REGISTERED, rotated], rotate) == []
    assert refused([REGISTERED], replace(rotate, overlap_until=AT)) == "invalid_overlap"
    assert refused([], rotate) == "unknown_partner"


def test_partner_events_survive_the_codec_and_carry_no_secret() -> None:
    rotated = PartnerSecretRotated(seed.PARTNER_ID, "secret-2", LATER, LATER)
    for event in (REGISTERED, rotated):
        data = to_data(event)
        assert from_data(event.type_name, data) == event
        assert "whsec_" not in repr(data)


FOLLOW_ACTIONS = ChangePartnerFollows(
    seed.PARTNER_ID, case_ids=(), action_ids=(seed.ACTION_ID,), countries=("RU", "KG"),
    event_types=("action.launched",), changed_at=LATER)


def test_changing_what_a_partner_follows_replaces_every_follow_field() -> None:
    changed = PartnerFollowsChanged(**vars(FOLLOW_ACTIONS))

    assert when([REGISTERED], FOLLOW_ACTIONS) == [changed]
    assert partner.replay([REGISTERED, changed]).follows == Follows(
        (), (seed.ACTION_ID,), ("RU", "KG"), ("action.launched",))
    assert partner.replay([REGISTERED, changed]).name == REGISTERED.name


def test_following_what_a_partner_already_follows_records_nothing() -> None:
    same = replace(FOLLOW_ACTIONS, case_ids=REGISTER.case_ids, action_ids=(),
                   countries=REGISTER.countries, event_types=REGISTER.event_types)

    assert when([REGISTERED], same) == []
    assert when([REGISTERED, PartnerFollowsChanged(**vars(FOLLOW_ACTIONS))],
                FOLLOW_ACTIONS) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"countries": ("XX",)}, "invalid_country"),
        ({"action_ids": (" ",)}, "invalid_follow"),
        ({"event_types": ()}, "no_event_types"),
        ({"event_types": ("supporter.registered",)}, "unknown_event_type"),
    ],
)
def test_a_change_of_follows_is_held_to_the_rules_of_registration(
        changes: dict[str, object], code: str) -> None:
    assert refused([REGISTERED], replace(FOLLOW_ACTIONS, **changes)) == code  # type: ignore[arg-type]
    assert refused([], FOLLOW_ACTIONS) == "unknown_partner"


def test_rotating_the_api_key_records_the_new_hash_once() -> None:
    rotate = RotatePartnerApiKey(seed.PARTNER_ID, api_key_hash="cd" * 32, rotated_at=LATER)
    rotated = PartnerApiKeyRotated(**vars(rotate))

    assert when([REGISTERED], rotate) == [rotated]
    assert partner.replay([REGISTERED, rotated]).api_key_hash == "cd" * 32
    assert when([REGISTERED, rotated], rotate) == []
    assert refused([REGISTERED], replace(rotate, api_key_hash="")) == "empty_api_key_hash"
    assert refused([], rotate) == "unknown_partner"


def test_the_new_partner_events_survive_the_codec() -> None:
    for event in (PartnerFollowsChanged(**vars(FOLLOW_ACTIONS)),
                  PartnerApiKeyRotated(seed.PARTNER_ID, "cd" * 32, LATER)):
        assert from_data(event.type_name, to_data(event)) == event

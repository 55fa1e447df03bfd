"""Supporter: given these events, when this command, then these events (or this refusal)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta

import pytest

from campaign.domain import supporter
from campaign.domain.base import DomainEvent, decide_all
from campaign.domain.codec import from_data
from campaign.domain.preferences import (
    ChangePreferences,
    EmailPaused,
    EmailResumed,
    PauseEmail,
    PreferencesChanged,
    ResumeEmail,
)
from campaign.domain.subscriptions import NOTHING_MORE, Subscriptions
from campaign.domain.supporter import (
    ChangeSubscriptions,
    ConfirmationRequested,
    ConfirmConsent,
    ConsentConfirmed,
    EraseSupporter,
    RegisterSupporter,
    RequestConfirmation,
    SubscriptionsChanged,
    SupporterErased,
    SupporterRegistered,
    SupporterSuppressed,
    Suppress,
    Unsubscribe,
    Unsubscribed,
    normalise_email,
)
from tests.unit.domain.scenario import refusal

ID = "s-1"
AT = datetime(2010, 9, 16, 12, tzinfo=UTC)
REGISTER = RegisterSupporter(
    supporter_id=ID,
    email="ainura@example.org",
    name="Ainura",
    locale="ky",
    country="KG",
    timezone="Asia/Bishkek",
    registered_at=datetime(2010, 9, 15, 12, tzinfo=UTC),
)
REGISTERED = SupporterRegistered(**vars(REGISTER))
CONFIRM = ConfirmConsent(ID, AT)
CONFIRMED = ConsentConfirmed(ID, AT)
CHANGE = ChangeSubscriptions(ID, False, ("KG", "BY"), ("azimzhan-askarov",), AT)
CHANGED = SubscriptionsChanged(**vars(CHANGE))
UNSUBSCRIBE = Unsubscribe(ID, AT, "one_click")
UNSUBSCRIBED = Unsubscribed(ID, "one_click", AT)
SUPPRESS = Suppress(ID, "bounce", AT)
SUPPRESSED = SupporterSuppressed(ID, "bounce", AT)
ERASE = EraseSupporter(ID, "supporter", AT)
ERASED = SupporterErased(ID, "supporter", AT)
PREFER = ChangePreferences(ID, "ru", "RU", "Europe/Moscow", AT)
PREFERRED = PreferencesChanged(ID, "ru", "RU", "Europe/Moscow", AT)
PAUSE = PauseEmail(ID, AT)
PAUSED = EmailPaused(ID, AT)
RESUME = ResumeEmail(ID, AT)
RESUMED = EmailResumed(ID, AT)


def when(given: list[DomainEvent], command: supporter.Command) -> list[DomainEvent]:
    return supporter.decide(supporter.replay(given), command)


def refused(given: list[DomainEvent], command: supporter.Command) -> str:
    return refusal(lambda: when(given, command))


# Registration


def test_registering_records_the_supporter_with_email_and_name_as_personal_data() -> None:
    assert when([], REGISTER) == [REGISTERED]
    assert SupporterRegistered.personal_fields == frozenset({"email", "name"})


def test_the_state_of_a_supporter_holds_no_personal_data() -> None:
    state = supporter.replay([REGISTERED])

    assert "email" not in {f.name for f in fields(state)}
    assert (state.locale, state.country, state.timezone) == ("ky", "KG", "Asia/Bishkek")


def test_registering_strips_the_address_but_keeps_its_case() -> None:
    [event] = when([], replace(REGISTER, email="  Ainura@Example.org "))

    assert isinstance(event, SupporterRegistered)
    assert event.email == "Ainura@Example.org"


def test_registering_again_changes_nothing() -> None:
    assert when([REGISTERED], REGISTER) == []
    assert when([REGISTERED], replace(REGISTER, email="other@example.org")) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"email": "ainura"}, "invalid_email"),
        ({"locale": "Kyrgyz"}, "invalid_language"),
        ({"country": "XX"}, "invalid_country"),
        ({"timezone": "Bishkek"}, "invalid_timezone"),
        ({"registered_at": datetime(2010, 9, 15)}, "naive_datetime"),
    ],
)
def test_a_malformed_registration_is_refused(changes: dict[str, object], code: str) -> None:
    assert refused([], replace(REGISTER, **changes)) == code  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "command", [CONFIRM, CHANGE, PREFER, PAUSE, RESUME, UNSUBSCRIBE, SUPPRESS, ERASE],
    ids=lambda c: type(c).__name__
)
def test_commands_for_an_unknown_supporter_are_refused(command: supporter.Command) -> None:
    assert refused([], command) == "unknown_supporter"


# Consent


def test_confirming_consent_lets_campaign_email_through() -> None:
    assert not supporter.replay([REGISTERED]).can_receive_campaign_email
    assert when([REGISTERED], CONFIRM) == [CONFIRMED]
    assert supporter.replay([REGISTERED, CONFIRMED]).can_receive_campaign_email


def test_confirming_consent_twice_changes_nothing() -> None:
    assert when([REGISTERED, CONFIRMED], CONFIRM) == []


def test_confirming_consent_after_unsubscribing_subscribes_again() -> None:
    given: list[DomainEvent] = [REGISTERED, CONFIRMED, UNSUBSCRIBED]

    assert when(given, CONFIRM) == [CONFIRMED]
    assert supporter.replay([*given, CONFIRMED]).can_receive_campaign_email


def ask_again(minutes_after: int) -> RequestConfirmation:
    return RequestConfirmation(ID, REGISTER.registered_at + timedelta(minutes=minutes_after))


def test_the_confirmation_is_sent_again_only_after_a_quarter_hour() -> None:
    assert when([REGISTERED], ask_again(14)) == []
    assert when([REGISTERED], ask_again(15)) == [
        ConfirmationRequested(ID, REGISTER.registered_at + timedelta(minutes=15))]
    again = ConfirmationRequested(ID, REGISTER.registered_at + timedelta(minutes=15))
    assert when([REGISTERED, again], ask_again(29)) == []
    assert len(when([REGISTERED, again], ask_again(30))) == 1


def test_a_confirmed_or_suppressed_address_is_not_asked_to_confirm_again() -> None:
    assert when([REGISTERED, CONFIRMED], ask_again(60)) == []
    assert when([REGISTERED, SUPPRESSED], ask_again(60)) == []


def test_someone_who_unsubscribed_may_be_asked_to_opt_in_afresh() -> None:
    assert len(when([REGISTERED, CONFIRMED, UNSUBSCRIBED], ask_again(60))) == 1


def test_asking_to_opt_in_again_right_after_unsubscribing_is_not_held_back() -> None:
    registered = REGISTER.registered_at
    left = Unsubscribed(ID, "link", registered + timedelta(minutes=5))
    again = ConfirmationRequested(ID, registered + timedelta(minutes=6))

    assert when([REGISTERED, CONFIRMED, left], ask_again(6)) == [again]
    assert when([REGISTERED, CONFIRMED, left, again], ask_again(7)) == []  # once, not a flood


def test_a_sign_up_from_a_case_wants_only_that_case() -> None:
    event = replace(REGISTERED, all_actions=False, case_ids=("azimzhan-askarov",))

    assert when([], replace(REGISTER, all_actions=False, case_ids=("azimzhan-askarov",))) == [
        event]
    assert supporter.replay([event]).subscriptions == Subscriptions(
        all_actions=False, case_ids=("azimzhan-askarov",))


@pytest.mark.parametrize(("changes", "code"), [
    ({"all_actions": False}, "no_subscription"),
    ({"all_actions": False, "case_ids": ("",)}, "invalid_case_id"),
    ({"all_actions": False, "case_ids": ("a\nb",)}, "not_single_line"),
    ({"all_actions": False, "case_ids": tuple(str(n) for n in range(21))}, "too_many_cases"),
])
def test_a_sign_up_asks_for_all_actions_or_a_few_named_cases(changes: dict[str, object],
                                                            code: str) -> None:
    assert refused([], replace(REGISTER, **changes)) == code  # type: ignore[arg-type]
    assert refused([], replace(SIGN_UP, **changes)) == code  # type: ignore[arg-type]


def test_what_a_sign_up_again_asks_for_joins_the_subscriptions_only_once_confirmed() -> None:
    only_kg = SubscriptionsChanged(ID, False, ("KG",), ("case-a",), AT)
    left = Unsubscribed(ID, "link", AT + timedelta(minutes=1))
    ask = RequestConfirmation(ID, AT + timedelta(minutes=20), adds_case_ids=("case-b",))
    [asked] = when([REGISTERED, CONFIRMED, only_kg, left], ask)
    given = [REGISTERED, CONFIRMED, only_kg, left, asked]

    assert asked == ConfirmationRequested(ID, ask.at, adds_case_ids=("case-b",))
    assert supporter.replay(given).subscriptions == Subscriptions(False, ("KG",), ("case-a",))
    confirm = ConfirmConsent(ID, AT + timedelta(minutes=30))
    assert when(given, confirm) == [
        ConsentConfirmed(ID, confirm.confirmed_at),
        SubscriptionsChanged(ID, False, ("KG",), ("case-a", "case-b"), confirm.confirmed_at)]


def test_confirming_a_request_that_asks_for_nothing_new_changes_no_subscription() -> None:
    left = Unsubscribed(ID, "link", AT)
    asked = ConfirmationRequested(ID, AT + timedelta(minutes=1), adds_all_actions=True)

    assert when([REGISTERED, CONFIRMED, left, asked], CONFIRM) == [CONFIRMED]


def test_sign_ups_and_confirmation_requests_stored_before_subscriptions_still_decode() -> None:
    registered = from_data("SupporterRegistered", {
        "supporter_id": ID, "email": "ainura@example.org", "name": "Ainura", "locale": "ky",
        "country": "KG", "timezone": "Asia/Bishkek", "registered_at": AT.isoformat()})
    asked = from_data("ConfirmationRequested", {"supporter_id": ID,
                                                "requested_at": AT.isoformat()})

    assert supporter.replay([registered]).subscriptions == Subscriptions(all_actions=True)
    assert supporter.replay([registered, asked]).pending == NOTHING_MORE


def test_an_erased_or_unknown_supporter_is_not_asked_to_confirm() -> None:
    assert refused([REGISTERED, ERASED], ask_again(60)) == "supporter_erased"
    assert refused([], ask_again(60)) == "unknown_supporter"


def test_a_new_supporter_receives_all_actions_once_consented() -> None:
    assert supporter.replay([REGISTERED]).subscriptions == Subscriptions(all_actions=True)


# Subscriptions


def test_changing_subscriptions_records_the_new_choice() -> None:
    assert when([REGISTERED, CONFIRMED], CHANGE) == [CHANGED]
    chosen = supporter.replay([REGISTERED, CONFIRMED, CHANGED]).subscriptions
    assert chosen == Subscriptions(False, ("KG", "BY"), ("azimzhan-askarov",))


def test_subscriptions_cover_all_actions_or_chosen_countries_or_cases() -> None:
    chosen = Subscriptions(False, ("KG",), ("azimzhan-askarov",))

    assert chosen.covers("KG", "other-case")
    assert chosen.covers("BY", "azimzhan-askarov")
    assert not chosen.covers("BY", "other-case")
    assert Subscriptions().covers("BY", "other-case")


def test_subscriptions_cannot_be_chosen_before_consent() -> None:
    assert refused([REGISTERED], CHANGE) == "consent_required"


def test_choosing_the_same_subscriptions_changes_nothing() -> None:
    assert when([REGISTERED, CONFIRMED, CHANGED], CHANGE) == []


def test_subscribing_to_an_unknown_country_is_refused() -> None:
    command = replace(CHANGE, countries=("Kyrgyzstan",))

    assert refused([REGISTERED, CONFIRMED], command) == "invalid_country"


# Language, country and timezone


def test_changing_preferences_records_the_new_language_country_and_timezone() -> None:
    assert when([REGISTERED], PREFER) == [PREFERRED]
    state = supporter.replay([REGISTERED, PREFERRED])
    assert (state.locale, state.country, state.timezone) == ("ru", "RU", "Europe/Moscow")


def test_choosing_the_same_preferences_changes_nothing() -> None:
    assert when([REGISTERED, PREFERRED], PREFER) == []
    assert when([REGISTERED], ChangePreferences(ID, "ky", "KG", "Asia/Bishkek", AT)) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"locale": "Russian"}, "invalid_language"),
        ({"locale": "ru\n"}, "invalid_language"),
        ({"country": "SU"}, "invalid_country"),
        ({"timezone": "Moscow"}, "invalid_timezone"),
        ({"changed_at": datetime(2010, 9, 15)}, "naive_datetime"),
    ],
)
def test_malformed_preferences_are_refused_as_at_sign_up(changes: dict[str, object],
                                                          code: str) -> None:
    assert refused([REGISTERED], replace(PREFER, **changes)) == code  # type: ignore[arg-type]


# Pausing e-mail


def test_pausing_holds_campaign_email_back_and_resuming_lets_it_through() -> None:
    assert when([REGISTERED, CONFIRMED], PAUSE) == [PAUSED]
    paused = supporter.replay([REGISTERED, CONFIRMED, PAUSED])
    assert (paused.email_paused, paused.can_receive_campaign_email) == (True, False)
    assert not paused.unsubscribed  # a pause is not an unsubscribe

    assert when([REGISTERED, CONFIRMED, PAUSED], RESUME) == [RESUMED]
    assert supporter.replay([REGISTERED, CONFIRMED, PAUSED, RESUMED]).can_receive_campaign_email


def test_pausing_or_resuming_twice_changes_nothing() -> None:
    assert when([REGISTERED, CONFIRMED, PAUSED], PAUSE) == []
    assert when([REGISTERED, CONFIRMED], RESUME) == []
    assert when([REGISTERED, CONFIRMED, PAUSED, RESUMED], RESUME) == []


def test_email_cannot_be_paused_before_consent() -> None:
    assert refused([REGISTERED], PAUSE) == "consent_required"


# Unsubscribing and suppression


def test_unsubscribing_stops_campaign_email() -> None:
    assert when([REGISTERED, CONFIRMED], UNSUBSCRIBE) == [UNSUBSCRIBED]
    state = supporter.replay([REGISTERED, CONFIRMED, UNSUBSCRIBED])
    assert (state.unsubscribed, state.can_receive_campaign_email) == (True, False)


def test_unsubscribing_twice_changes_nothing() -> None:
    again = replace(UNSUBSCRIBE, via="provider")

    assert when([REGISTERED, CONFIRMED, UNSUBSCRIBED], again) == []


def test_unsubscribing_needs_a_known_channel() -> None:
    command = replace(UNSUBSCRIBE, via="carrier-pigeon")  # type: ignore[arg-type]

    assert refused([REGISTERED], command) == "invalid_via"


def test_a_suppressed_address_gets_no_campaign_email() -> None:
    assert when([REGISTERED, CONFIRMED], SUPPRESS) == [SUPPRESSED]
    state = supporter.replay([REGISTERED, CONFIRMED, SUPPRESSED])
    assert (state.suppressed, state.suppression_reason) == (True, "bounce")
    assert not state.can_receive_campaign_email


def test_suppressing_twice_changes_nothing() -> None:
    assert when([REGISTERED, SUPPRESSED], replace(SUPPRESS, reason="spam_report")) == []


def test_suppression_needs_a_known_reason() -> None:
    command = replace(SUPPRESS, reason="annoyed")  # type: ignore[arg-type]

    assert refused([REGISTERED], command) == "invalid_reason"


# Erasure


def test_erasing_a_supporter_records_it_without_personal_data() -> None:
    assert when([REGISTERED, CONFIRMED], ERASE) == [ERASED]
    assert SupporterErased.personal_fields == frozenset()
    names = {f.name for f in fields(SupporterErased)}
    assert names == {"supporter_id", "requested_by", "erased_at"}
    state = supporter.replay([REGISTERED, CONFIRMED, ERASED])
    assert (state.erased, state.can_receive_campaign_email) == (True, False)


def test_erasure_needs_a_known_requester() -> None:
    command = replace(ERASE, requested_by="police")  # type: ignore[arg-type]

    assert refused([REGISTERED], command) == "invalid_requester"


@pytest.mark.parametrize(
    "command",
    [REGISTER, CONFIRM, CHANGE, PREFER, PAUSE, RESUME, UNSUBSCRIBE, SUPPRESS, ERASE],
    ids=lambda c: type(c).__name__,
)
def test_an_erased_supporter_takes_no_command_at_all(command: supporter.Command) -> None:
    assert refused([REGISTERED, CONFIRMED, ERASED], command) == "supporter_erased"


def test_the_blind_index_form_of_an_address_is_exported_here() -> None:
    assert normalise_email(" Ainura@Example.ORG ") == "ainura@example.org"


def test_evolving_leaves_the_earlier_state_untouched() -> None:
    before = supporter.replay([REGISTERED, CONFIRMED])

    supporter.evolve(before, ERASED)

    assert not before.erased and before.can_receive_campaign_email


def test_the_stream_of_a_supporter_is_named_after_them() -> None:
    assert supporter.supporter_stream("s-1") == "supporter-s-1"


# Public requests, recorded as asked


SIGN_UP = supporter.ReceiveSignUp(ID, "  Ainura@Example.org ", "Ainura", "ky", "KG",
                                  "Asia/Bishkek", AT)
MANAGE = supporter.ReceiveManageRequest(ID, "ainura@example.org", AT)


def test_a_public_sign_up_is_recorded_as_asked_with_its_personal_data_sealed() -> None:
    [event] = when([], SIGN_UP)

    assert event == supporter.SignUpReceived(ID, "Ainura@Example.org", "Ainura", "ky", "KG",
                                             "Asia/Bishkek", AT)
    assert supporter.SignUpReceived.personal_fields == frozenset({"email", "name"})
    assert supporter.ManageRequestReceived.personal_fields == frozenset({"email"})
    assert when([event], SIGN_UP) == []  # a stream records one request


def test_a_recorded_sign_up_becomes_the_supporter_on_registration() -> None:
    [received] = when([], SIGN_UP)

    assert when([received], REGISTER) == [REGISTERED]
    assert supporter.replay([received, REGISTERED]).registered
    assert refused([received], CONFIRM) == "unknown_supporter"  # not a supporter before


@pytest.mark.parametrize("command", [
    replace(SIGN_UP, email="ainura"), replace(SIGN_UP, country="XX"),
    replace(MANAGE, email="not an address")], ids=["email", "country", "manage-email"])
def test_a_malformed_public_request_is_refused(command: supporter.Command) -> None:
    assert refused([], command) in {"invalid_email", "invalid_country"}


def test_a_manage_link_is_sent_at_most_once_in_five_minutes_and_never_to_a_suppressed_address(
) -> None:
    ask = supporter.RequestManageLink(ID, AT)
    [sent] = when([REGISTERED], ask)

    assert sent == supporter.ManageLinkRequested(ID, AT)
    assert when([REGISTERED, sent], replace(ask, at=AT + timedelta(minutes=4))) == []
    assert when([REGISTERED, sent], replace(ask, at=AT + timedelta(minutes=5))) != []
    assert when([REGISTERED, SUPPRESSED], ask) == []
    assert refused([REGISTERED, ERASED], ask) == "supporter_erased"


# Retention


def test_an_unconfirmed_sign_up_past_the_cutoff_is_erased_for_retention() -> None:
    purge = supporter.PurgeUnconfirmed(ID, cutoff=AT, at=AT + timedelta(days=30))

    [event] = when([REGISTERED], purge)  # registered the day before the cutoff

    assert event == SupporterErased(ID, "retention", AT + timedelta(days=30))
    assert supporter.replay([REGISTERED, event]).erased


def test_retention_spares_the_confirmed_and_those_mailed_again_since_the_cutoff() -> None:
    purge = supporter.PurgeUnconfirmed(ID, cutoff=AT, at=AT + timedelta(days=30))
    asked_again = ConfirmationRequested(ID, AT + timedelta(hours=1))

    assert when([REGISTERED, CONFIRMED], purge) == []
    assert when([REGISTERED, asked_again], purge) == []


def test_erasures_stored_before_retention_existed_still_decode() -> None:
    for requester in ("supporter", "campaigner"):
        event = from_data("SupporterErased", {"supporter_id": ID, "requested_by": requester,
                                              "erased_at": AT.isoformat()})
        assert event == SupporterErased(ID, requester, AT)  # type: ignore[arg-type]


def test_a_new_stream_decided_at_once_gets_each_command_decided_on_the_state_before_it() -> None:
    events = decide_all(supporter.AGGREGATE, [REGISTER, CONFIRM, CONFIRM])

    assert events == [REGISTERED, CONFIRMED]  # the second confirmation saw the first

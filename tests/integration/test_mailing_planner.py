"""Who gets which campaign e-mail: subscribers for a launch, earlier recipients after that."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.domain import action, case, mailing, preferences, supporter
from campaign.domain.values import OnDate
from campaign.infra.tables import mail_deliveries
from campaign.mail import planning
from campaign.mail.planning import (
    NAMESPACE,
    Recipient,
    _batches,
    delivery_id,
    launch_mailing_id,
    plan_mailings,
)
from events import SubscriptionRunner
from events.subscriptions import ensure_checkpoint, save_checkpoint

META = Meta(actor="test", correlation_id="planner")
AT = datetime(2010, 9, 20, tzinfo=UTC)


def run_planner(container: Container) -> None:
    SubscriptionRunner(container.store, plan_mailings(container.commands)).run()


def planned(container: Container) -> list[mailing.MailingPlanned]:
    found = []
    with container.engine.connect() as conn:
        for stored in container.store.read_all(limit=10_000, conn=conn):
            if stored.type == mailing.MailingPlanned.type_name:
                event = container.commands.mapper.to_domain(conn, stored)
                assert isinstance(event, mailing.MailingPlanned)
                found.append(event)
    return found


def recipients(container: Container, mailing_id: str) -> set[str]:
    with container.engine.connect() as conn:
        return set(conn.execute(select(mail_deliveries.c.supporter_id)
                                .where(mail_deliveries.c.mailing_id == mailing_id)).scalars())


def newcomer(container: Container, email: str, **subscriptions: object) -> str:
    supporter_id = register_supporter(
        container.commands, container.blind_index,
        Registration(email, "New Comer", "fr", "FR", "Europe/Paris"), META, AT)
    container.commands.handle(supporter.ConfirmConsent(supporter_id=supporter_id,
                                                      confirmed_at=AT), META)
    if subscriptions:
        container.commands.handle(supporter.ChangeSubscriptions(
            supporter_id=supporter_id, changed_at=AT, **subscriptions), META)  # type: ignore[arg-type]
    return supporter_id


def test_a_launch_is_mailed_to_every_consented_subscriber_once_by_language_received(
    container: Container,
) -> None:
    load_demo(container)
    unconsented = register_supporter(container.commands, container.blind_index, Registration(
        "silent@example.org", "Not Confirmed", "en", "GB", "Europe/London"), META, AT)
    elsewhere = newcomer(container, "fr-only@example.org", all_actions=False,
                         countries=("FR",), case_ids=())
    by_case = newcomer(container, "case@example.org", all_actions=False, countries=(),
                       case_ids=(seed.CASE_ID,))

    run_planner(container)
    run_planner(container)

    (launch,) = [m for m in planned(container) if m.kind == "action_launched"]
    audience = recipients(container, launch.mailing_id)
    assert len(audience) == len(SUPPORTERS) + 1
    assert by_case in audience and elsewhere not in audience and unconsented not in audience
    # UA 135/10 is written in English and translated into Russian: the ky, es and fr
    # supporters receive English (tests/integration/mail/test_action_languages.py has the rule).
    assert sorted(b.locale for b in launch.batches) == ["en", "ru"]
    assert sum(b.recipients for b in launch.batches) == len(audience)
    assert launch.mailing_id == launch_mailing_id(seed.ACTION_ID)


def test_updates_and_stop_notices_go_to_the_earlier_recipients_only(
    container: Container,
) -> None:
    load_demo(container)
    run_planner(container)
    launch = recipients(container, launch_mailing_id(seed.ACTION_ID))
    late = newcomer(container, "late@example.org")
    container.commands.handle(action.PublishUpdate(action_id=seed.ACTION_ID, number=6,
                                                  published_at=AT, title="STILL JAILED"), META)
    container.commands.handle(action.CloseAction(action_id=seed.ACTION_ID, reason="released",
                                                note="", closed_at=AT), META)

    run_planner(container)

    later = {m.kind: recipients(container, m.mailing_id) for m in planned(container)}
    assert later["action_updated"] == launch == later["action_closed"]
    assert late not in later["action_updated"]


def test_a_published_case_development_is_mailed_only_once_approved(container: Container) -> None:
    load_demo(container)
    run_planner(container)
    kinds = [m.kind for m in planned(container)]
    assert "case_development" not in kinds  # the 2010 developments predate the launch…

    container.commands.handle(case.ApproveDevelopment(
        case_id=seed.CASE_ID, development_id=seed.SUPREME_COURT_HEARING.development_id,
        approved_at=AT), META)
    container.commands.handle(case.RecordDevelopment(
        case_id=seed.CASE_ID, development_id="pending-news", kind="other",
        occurred=OnDate(AT.date()), summary="Unconfirmed report",
        source=case.DevelopmentSource(kind="partner", partner_id=seed.PARTNER_ID),
        recorded_at=AT, requires_approval=True), META)
    run_planner(container)

    developments = [m for m in planned(container) if m.kind == "case_development"]
    assert len(developments) == 1  # the approved hearing; the pending report waits


def test_a_rejected_case_development_is_never_mailed(container: Container) -> None:
    load_demo(container)
    run_planner(container)

    container.commands.handle(case.RejectDevelopment(
        case_id=seed.CASE_ID, development_id=seed.SUPREME_COURT_HEARING.development_id,
        reason="Not confirmed.", rejected_at=AT), META)
    run_planner(container)

    assert [m for m in planned(container) if m.kind == "case_development"] == []


def test_planning_the_same_event_again_plans_nothing_new(container: Container) -> None:
    load_demo(container)
    run_planner(container)
    before = (len(planned(container)), recipients(container, launch_mailing_id(seed.ACTION_ID)))
    ensure_checkpoint(container.store, "mailing_planner")
    with container.engine.begin() as conn:  # as after a crash before the checkpoint moved
        save_checkpoint(conn, "mailing_planner", 0)

    run_planner(container)

    after = (len(planned(container)), recipients(container, launch_mailing_id(seed.ACTION_ID)))
    assert after == before


def test_batches_hold_at_most_a_thousand_people_of_one_locale() -> None:
    audience = ([Recipient(f"en-{n:04}", "en") for n in range(1005)]
                + [Recipient(f"ru-{n}", "ru") for n in range(3)])

    planned = list(_batches("m", "action_launched", audience))

    batches = [batch for batch, _ in planned]
    assert [(b.locale, b.recipients) for b in batches] == [("en", 1000), ("en", 5), ("ru", 3)]
    assert all(len(rows) == batch.recipients and {r["batch_id"] for r in rows} == {batch.batch_id}
               for batch, rows in planned)
    assert len({row["delivery_id"] for _, rows in planned for row in rows}) == 1008


def test_unsubscribed_and_suppressed_people_are_left_out(container: Container) -> None:
    load_demo(container)
    gone, bounced = newcomer(container, "gone@example.org"), newcomer(container, "b@example.org")
    container.commands.handle(supporter.Unsubscribe(supporter_id=gone, at=AT, via="link"), META)
    container.commands.handle(supporter.Suppress(supporter_id=bounced, reason="bounce", at=AT),
                             META)

    run_planner(container)

    audience = recipients(container, launch_mailing_id(seed.ACTION_ID))
    assert gone not in audience and bounced not in audience


def test_confirming_again_after_unsubscribing_brings_a_supporter_back(
    container: Container,
) -> None:
    load_demo(container)
    returning = newcomer(container, "back@example.org")
    container.commands.handle(supporter.Unsubscribe(supporter_id=returning, at=AT, via="link"),
                             META)
    container.commands.handle(supporter.ConfirmConsent(supporter_id=returning, confirmed_at=AT),
                             META)

    run_planner(container)

    assert returning in recipients(container, launch_mailing_id(seed.ACTION_ID))


def test_a_supporter_who_paused_e_mail_is_left_out_of_a_launch_until_they_resume(
    container: Container,
) -> None:
    paused = newcomer(container, "paused@example.org")
    resumed = newcomer(container, "resumed@example.org")
    for supporter_id in (paused, resumed):
        container.commands.handle(preferences.PauseEmail(supporter_id=supporter_id, at=AT), META)
    container.commands.handle(preferences.ResumeEmail(supporter_id=resumed, at=AT), META)
    load_demo(container)

    run_planner(container)

    launch = recipients(container, launch_mailing_id(seed.ACTION_ID))
    assert resumed in launch and paused not in launch
    updated = [m for m in planned(container) if m.kind == "action_updated"]
    assert updated and all(paused not in recipients(container, m.mailing_id) for m in updated)


def test_a_delivery_id_is_the_uuid5_of_its_mailing_and_supporter() -> None:
    for mailing_id, supporter_id in (("m", "s"), (launch_mailing_id("a-1"), "ünï-42"), ("", "")):
        assert delivery_id(mailing_id, supporter_id) == str(
            uuid.uuid5(NAMESPACE, f"{mailing_id}:{supporter_id}"))


def test_an_audience_read_in_many_small_pages_is_the_one_read_in_one(
    container: Container, monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_demo(container)
    newcomer(container, "fr-only@example.org", all_actions=False, countries=("FR",),
             case_ids=())
    newcomer(container, "case@example.org", all_actions=False, countries=(),
             case_ids=(seed.CASE_ID,))
    with container.engine.connect() as conn:
        whole = planning.eligible_subscribers(conn, seed.ACTION_ID)
        monkeypatch.setattr(planning, "PAGE_SIZE", 2)
        paged = planning.eligible_subscribers(conn, seed.ACTION_ID)

    assert paged == whole and len(whole) == len(SUPPORTERS) + 1
    assert [r.supporter_id for r in whole] == sorted(r.supporter_id for r in whole)

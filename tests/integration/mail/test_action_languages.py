"""Each supporter receives an action in their language when it exists in it, else in the
action's own: planned in batches of one language, composed in that language, sent.

The mail goes through the real pipeline to the `.eml` outbox (the embedded default's
transport), read back as a mail client would.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from campaign.application.commands import Meta
from campaign.application.deadlines import run_deadline_scans
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo import ua_135_10_ru as ru
from campaign.demo.loader import load_demo
from campaign.domain import action, mailing
from campaign.domain.values import Deadline
from events import SubscriptionRunner
from tests.fakes.sendgrid_server import Mail
from tests.integration.mail.test_output_encoding import join, read_outbox, send_planned

META = Meta(actor="test", correlation_id="action-languages")
AT = datetime(2010, 9, 15, 6, 30, tzinfo=UTC)
PLANNER = ("mailing_planner",)
SAM, OLGA, AIGERIM = "sam@example.org", "olga@example.org", "aigerim@example.org"
IN_RUSSIAN = replace(seed.IN_RUSSIAN, translated_at=AT)


def draft_with_readers(container: Container) -> None:
    """UA 135/10 drafted in English, and three readers: English, Russian, Kyrgyz."""
    container.commands.handle(seed.OPEN_CASE, META)
    container.commands.handle(seed.DRAFT, META)
    for email, name, locale in ((SAM, "Sam Okafor", "en"), (OLGA, "Olga Petrova", "ru"),
                                (AIGERIM, "Aigerim Sadykova", "ky")):
        join(container, email, name, "Asia/Bishkek", locale)


def plan(container: Container) -> None:
    """The planner's run, without sending."""
    for name in PLANNER:
        SubscriptionRunner(container.store, container.subscriptions[name]).run()


def received(container: Container, kind: str) -> dict[str, Mail]:
    mails = [m for m in read_outbox(container.settings.var_dir / "outbox")
             if kind in m.categories]
    return {m.to["email"]: m for m in mails}


def batch_languages(container: Container, kind: str) -> list[str]:
    """The language of each batch of the one mailing of `kind`: one language per batch."""
    with container.engine.connect() as conn:
        every = [container.commands.mapper.to_domain(conn, e)
                 for e in container.store.read_all(limit=10_000, conn=conn)
                 if e.type == mailing.MailingPlanned.type_name]
    [planned] = [e for e in every if isinstance(e, mailing.MailingPlanned) and e.kind == kind]
    return sorted(b.locale for b in planned.batches)


def assert_in(language: str, mail: Mail, titled: bool = True) -> None:
    """The action's text in `language` ("ru", its translation, or "en", as written), and
    none of the other's; `titled`: in the subject too."""
    wanted, other = (ru, seed) if language == "ru" else (seed, ru)
    assert wanted.TITLE in mail.subject or not titled
    for text in (mail.text, mail.html):
        assert wanted.TITLE in text and wanted.ASKS[0][:40] in text
        assert other.TITLE not in text and other.ASKS[0][:40] not in text
    assert f'lang="{language}"' in mail.html


def test_a_russian_reader_gets_the_russian_translation_and_a_kyrgyz_reader_english(
    container: Container,
) -> None:
    draft_with_readers(container)
    container.commands.handle(IN_RUSSIAN, META)
    container.commands.handle(seed.LAUNCH, META)

    send_planned(container, PLANNER)

    launch = received(container, "action_launched")
    assert set(launch) == {SAM, OLGA, AIGERIM}
    assert_in("ru", launch[OLGA])
    assert ru.SUMMARY in launch[OLGA].text
    assert "Zarylbek Rysaliev" in launch[OLGA].text  # officials and addresses as written
    assert_in("en", launch[SAM])
    assert_in("en", launch[AIGERIM])  # no Kyrgyz translation: the action's language
    assert batch_languages(container, "action_launched") == ["en", "ru"]


def test_a_translation_added_after_the_launch_reaches_the_next_mailing(
    container: Container,
) -> None:
    draft_with_readers(container)
    container.commands.handle(seed.LAUNCH, META)
    send_planned(container, PLANNER)
    assert_in("en", received(container, "action_launched")[OLGA])  # not translated yet

    container.commands.handle(replace(IN_RUSSIAN, translated_at=seed.LAUNCH.launched_at), META)
    later = Deadline(on=date(2010, 11, 10), timezone=seed.TIMEZONE)  # text left as it was
    container.commands.handle(action.PublishUpdate(
        action_id=seed.ACTION_ID, number=6, published_at=seed.LAUNCH.launched_at,
        deadline=later), META)
    send_planned(container, PLANNER)

    update = received(container, "action_updated")
    assert_in("ru", update[OLGA])
    assert_in("en", update[SAM])
    assert_in("en", update[AIGERIM])


def test_an_update_that_changes_the_text_goes_out_in_the_actions_language_until_retranslated(
    container: Container,
) -> None:
    draft_with_readers(container)
    container.commands.handle(IN_RUSSIAN, META)
    container.commands.handle(seed.LAUNCH, META)
    container.commands.handle(action.PublishUpdate(
        action_id=seed.ACTION_ID, number=6, published_at=seed.LAUNCH.launched_at,
        title="HUMAN RIGHTS DEFENDER STILL JAILED"), META)

    send_planned(container, PLANNER)

    update = received(container, "action_updated")[OLGA]
    assert "HUMAN RIGHTS DEFENDER STILL JAILED" in update.subject and 'lang="en"' in update.html
    assert ru.ASKS[0][:40] not in update.text  # not the outdated Russian asks either


def test_a_batch_planned_in_russian_whose_translation_was_outdated_since_is_sent_in_english(
    container: Container,
) -> None:
    draft_with_readers(container)
    container.commands.handle(IN_RUSSIAN, META)
    container.commands.handle(seed.LAUNCH, META)
    plan(container)
    container.commands.handle(action.PublishUpdate(  # before the launch's batches are sent
        action_id=seed.ACTION_ID, number=6, published_at=seed.LAUNCH.launched_at,
        title="HUMAN RIGHTS DEFENDER STILL JAILED"), META)

    send_planned(container, ())  # the launch's batches, composed now

    assert batch_languages(container, "action_launched") == ["en", "ru"]
    launch = received(container, "action_launched")[OLGA]
    assert "HUMAN RIGHTS DEFENDER STILL JAILED" in launch.subject and 'lang="en"' in launch.html


def test_pledge_reminders_remind_each_pledger_in_the_language_they_receive_the_action_in(
    container: Container,
) -> None:
    load_demo(container)  # UA 135/10 in English and Russian; Olga (ru) and Lucía (es) pledged
    SubscriptionRunner(container.store, container.subscriptions["reminder_schedule"]).run()

    scan = run_deadline_scans(container.commands, container.reminder_sender,
                              datetime(2010, 10, 20, 14, tzinfo=UTC))
    send_planned(container, ())

    reminders = received(container, "pledge_reminder")
    assert scan.reminders_sent == 2 and set(reminders) == {OLGA, "lucia@example.org"}
    assert batch_languages(container, "pledge_reminder") == ["en", "ru"]
    assert_in("ru", reminders[OLGA], titled=False)  # a reminder's subject has no title
    assert_in("en", reminders["lucia@example.org"], titled=False)  # no Spanish translation


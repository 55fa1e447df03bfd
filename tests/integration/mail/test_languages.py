"""Every e-mail a supporter receives is in one language, says which, and reads as that
language writes: sent the way every e-mail goes (log → planners → composing → the
transport), on both transports (`.eml` files parsed back, and what SendGrid would render
from the request the real client sent to the fake SendGrid).

One history produces every kind: the seed UA 135/10 is launched and updated, readers in
every shipped locale (and one in German, which is not shipped) receive it and pledge, the
Supreme Court hearing is approved, reminders go out a week before the deadline, the action
is stopped; newcomers are asked to confirm, and readers ask for their manage link.

Which language an action reaches a reader in is planning's to say (the reader's when the
action exists in it, else the action's own); these tests hold whatever it says: each
e-mail's words, `lang` and `dir` agree, and mail about no action is in the reader's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from campaign.application.commands import Meta
from campaign.application.deadlines import run_deadline_scans
from campaign.application.pledges import make_pledge
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import SUPPORTERS, load_demo
from campaign.domain import action, case, supporter
from campaign.infra import i18n
from campaign.mail.rendering import SUBJECTS
from tests.fakes.sendgrid_server import Mail
from tests.integration.mail.test_output_encoding import (  # noqa: F401 (mailbox: a fixture)
    Mailbox,
    failures,
    mailbox,
    send_planned,
)
from tests.mail_reading import html_language, html_text

META = Meta(actor="test", correlation_id="mail-languages")
SIGNED_UP = datetime(2010, 9, 16, 12, tzinfo=UTC)
READERS = {  # address: name, locale, timezone; they pledge to write
    "claire@example.org": ("Claire Martin", "fr", "Europe/Paris"),
    "amal@example.org": ("Amal Haddad", "ar", "Africa/Cairo"),
    "bakyt@example.org": ("Bakyt Asanov", "ky", "Asia/Bishkek"),
    "tala@example.org": ("Tala Faleolo", "en", "Pacific/Pago_Pago"),  # UTC-11
    "jonas@example.org": ("Jonas Weber", "de", "Pacific/Kiritimati"),  # UTC+14, not shipped
    "nameless@example.org": ("", "ru", "Europe/Moscow"),
}
NEWCOMERS = {f"new.{locale}@example.org": locale for locale in (*i18n.LOCALES, "de")}
LOCALE_OF = {**{s.registration.email: s.registration.locale for s in SUPPORTERS},
             **{address: locale for address, (_, locale, _) in READERS.items()},
             **NEWCOMERS}
ABOUT_NO_ACTION = ("signup_confirmation", "manage_link")


@dataclass(frozen=True)
class Received:
    """Every e-mail of the history, by kind and address."""

    mails: list[Mail]

    def of(self, kind: str) -> list[Mail]:
        return [mail for mail in self.mails if kind in mail.categories]

    def to(self, kind: str, address: str) -> Mail:
        [mail] = [mail for mail in self.of(kind) if mail.to["email"] == address]
        return mail


@pytest.fixture
def received(mailbox: Mailbox) -> Iterator[Received]:  # noqa: F811
    """The whole history's e-mails, once every recipient was mailed."""
    container = mailbox.container
    load_demo(container)
    for address, person in READERS.items():
        join(container, address, *person)
    for address, locale in NEWCOMERS.items():
        join(container, address, f"Newcomer {locale}", locale, "Europe/London", confirm=False)
    send_planned(container, ("mailing_planner", "confirmation_mailer"))
    for supporter_id in every_supporter(container):
        container.commands.handle(supporter.RequestManageLink(supporter_id, SIGNED_UP), META)
    container.commands.handle(case.ApproveDevelopment(
        seed.CASE_ID, seed.SUPREME_COURT_HEARING.development_id,
        approved_at=datetime(2010, 10, 1, tzinfo=UTC)), META)
    send_planned(container, ("mailing_planner", "manage_link_mailer", "reminder_schedule"))
    run_deadline_scans(container.commands, container.reminder_sender,
                       datetime(2010, 10, 21, tzinfo=UTC))  # a week before, everywhere
    send_planned(container, ())  # the reminders go out before the stop, which cancels them
    container.commands.handle(action.CloseAction(
        seed.ACTION_ID, "released", "", closed_at=datetime(2010, 10, 30, tzinfo=UTC)), META)
    send_planned(container, ("mailing_planner",))
    assert failures(container) == {}  # nobody left out
    yield Received(mailbox.read())


def join(container: Container, address: str, name: str, locale: str, timezone: str,
         confirm: bool = True) -> str:
    """A supporter who signed up (and confirmed and pledged, unless told otherwise)."""
    supporter_id = register_supporter(container.commands, container.blind_index,
                                      Registration(address, name, locale, "GB", timezone),
                                      META, SIGNED_UP)
    if confirm:
        container.commands.handle(supporter.ConfirmConsent(supporter_id, SIGNED_UP), META)
        make_pledge(container.commands, seed.ACTION_ID, supporter_id, (), len(seed.TARGETS),
                    META, SIGNED_UP)
    return supporter_id


def every_supporter(container: Container) -> list[str]:
    streams = {e.stream_id for e in container.store.read_all(limit=100_000)}
    return sorted(s.removeprefix("supporter-") for s in streams if s.startswith("supporter-"))


def kind_of(mail: Mail) -> str:
    [kind] = [kind for kind in SUBJECTS if kind in mail.categories]
    return kind


def subject_words(kind: str, locale: str) -> str:
    """The longest run of the subject's own words in `locale`, between its placeholders."""
    subject = i18n.translations(locale, "mail").gettext(SUBJECTS[kind])  # type: ignore[index]
    return max(re.split(r"%\(\w+\)s", subject), key=len).strip()


def personal(mail: Mail) -> str:
    """The text with what differs per reader (name, links) taken out."""
    text = re.sub(r"https://ua\.example\.org/\S+", "LINK", mail.text)
    return text.replace(mail.to["name"], "NAME") if mail.to["name"] else text


def test_every_email_says_which_language_it_is_in_and_its_two_parts_agree(
    received: Received,
) -> None:
    assert {kind_of(mail) for mail in received.mails} == set(SUBJECTS)
    for mail in received.mails:
        lang, direction = html_language(mail.html)
        assert lang in i18n.LOCALES and direction == i18n.direction(lang), mail.subject
        assert subject_words(kind_of(mail), lang) in mail.subject, (lang, mail.subject)
        assert html_text(mail.html) == mail.text, (lang, kind_of(mail))


def test_mail_about_no_action_is_in_each_readers_own_language(received: Received) -> None:
    for kind in ABOUT_NO_ACTION:
        for mail in received.of(kind):
            locale = i18n.negotiate(LOCALE_OF[mail.to["email"]])
            assert html_language(mail.html) == (locale, i18n.direction(locale))
            assert subject_words(kind, locale) in mail.subject
    assert {mail.to["email"] for mail in received.of("signup_confirmation")} == set(NEWCOMERS)
    arabic = received.to("signup_confirmation", "new.ar@example.org")
    assert html_language(arabic.html) == ("ar", "rtl")
    assert arabic.text.startswith("مرحبًا Newcomer ar،")
    assert received.to("manage_link", "olga@example.org").subject == (
        "Ваша ссылка для управления данными участника срочных акций")
    assert received.to("manage_link", "nameless@example.org").text.startswith(
        "Здравствуйте, друг!")  # no name given: greeted in her language


def test_a_reader_whose_language_is_not_shipped_reads_wholly_english(
    received: Received,
) -> None:
    german = received.to("signup_confirmation", "new.de@example.org")
    english = received.to("signup_confirmation", "new.en@example.org")
    assert html_language(german.html) == ("en", "ltr")
    assert personal(german) == personal(english) and german.subject == english.subject

    jonas, sam = (received.to("action_launched", who)
                  for who in ("jonas@example.org", "sam@example.org"))
    assert html_language(jonas.html) == ("en", "ltr")
    assert personal(jonas) == personal(sam) and jonas.subject == sam.subject


def test_dates_and_deadlines_read_as_the_reader_writes_them(received: Received) -> None:
    olga = {kind: received.to(kind, "olga@example.org")
            for kind in ("action_launched", "case_development", "pledge_reminder")}
    assert "не позднее 27 октября 2010\u202fг." in olga["action_launched"].text.lower()
    assert "Когда: 13 мая 2020\u202fг., 14:00" in olga["case_development"].text
    assert "не позднее 27 октября 2010\u202fг." in olga["pledge_reminder"].text
    assert not any("October" in mail.text for mail in olga.values())

    for far_apart in ("tala@example.org", "jonas@example.org"):  # either side of the date line
        launch = received.to("action_launched", far_apart).text
        reminder = received.to("pledge_reminder", far_apart).text
        assert "PLEASE SEND APPEALS BY 27 October 2010 TO:" in launch
        assert "Please send your appeals by 27 October 2010, in" in reminder
        assert "28 October" not in launch + reminder and "00:00" not in launch + reminder

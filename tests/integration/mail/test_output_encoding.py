"""What supporters and campaigners write lands in e-mail encoded for where it goes, and one
recipient whose e-mail cannot be made never holds up the others.

Each test runs on both transports: `.eml` files parsed back, and what SendGrid would render
from the request the real client sent to the fake SendGrid. Batches are sent the way the
worker sends them (`BatchSender.send`), so an error that would make the worker retry fails
the test at once.

Some values below are written into the read models directly (`stored_name`,
`stored_action`): a title or a name with a line break, a deadline at the end of time. The
API refuses such values, but events stored before it did still reach the mailer, and the
mailer must contain them on its own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine, select, update

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from campaign.domain import action, mailing, supporter
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions, mail_batches, mail_recipient_failures, supporters
from campaign.mail.composing import Composer
from campaign.mail.message import MailConfig
from campaign.mail.sending import BatchSender
from campaign.settings import Settings
from events import SubscriptionRunner, rebuild
from tests.fakes.fixtures import sendgrid_server  # noqa: F401 (a fixture)
from tests.fakes.sendgrid_server import FakeSendGrid, Mail

META = Meta(actor="test", correlation_id="output-encoding")
CONFIRMATION = ("confirmation_mailer",)
ACTIONS = ("mailing_planner",)
PHISHING = ('friend</pre><h1>Action needed</h1><a href="https://evil.example/login">'
            'Confirm here</a><pre hidden>')
SCRIPT = "<script>alert(document.cookie)</script>"
IMAGE = '<img src=x onerror="alert(1)">'
EVERY_PLACEHOLDER = ("Free -name- now -unsubscribe_url- -confirm_url- -pledge_url- "
                     "-deadline_local- %name% {{name}}")
CRLF_NAME = "Eve Example\r\nBcc: everyone@evil.example"
CRLF_TITLE = "HUMAN RIGHTS DEFENDER JAILED\r\nBcc: everyone@evil.example"
# 16:30 in Bishkek is 10:30 UTC: 23:30 in Auckland (UTC+13), 10000-01-01 00:30 at UTC+14.
END_OF_TIME = {"on": "9999-12-31", "timezone": "Asia/Bishkek", "time": "16:30:00"}


@dataclass(frozen=True)
class Mailbox:
    """A container whose mail goes to one transport, and every e-mail it sent, as read."""

    container: Container
    read: Callable[[], list[Mail]]

    def of(self, kind: str) -> list[Mail]:
        return [mail for mail in self.read() if kind in mail.categories]

    def to(self, kind: str, email: str) -> Mail:
        [mail] = [mail for mail in self.of(kind) if mail.to["email"] == email]
        return mail


@pytest.fixture(params=["eml", "sendgrid"])
def mailbox(request: pytest.FixtureRequest, tmp_path: Path, database_url: str, engine: Engine,
            broker: StubBroker) -> Mailbox:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "encoding-test-secret-" + "e" * 32,
           "VAR_DIR": str(tmp_path / "var"), "MAIL_FROM": "Urgent Actions <ua@example.org>",
           "PUBLIC_BASE_URL": "https://ua.example.org"}
    if request.param == "sendgrid":
        server: FakeSendGrid = request.getfixturevalue("sendgrid_server")
        env |= {"SENDGRID_API_KEY": server.api_key, "SENDGRID_API_HOST": server.url}
        return Mailbox(build(Settings.from_env(env), engine=engine, broker=broker), server.mails)
    outbox = tmp_path / "var" / "outbox"
    return Mailbox(build(Settings.from_env(env), engine=engine, broker=broker),
                   lambda: read_outbox(outbox))


def read_outbox(outbox: Path) -> list[Mail]:
    """Every `.eml` file, parsed back as a mail client would."""
    return [_as_mail(path) for path in sorted(outbox.glob("*.eml"))]


def _as_mail(path: Path) -> Mail:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    [to] = message["To"].addresses
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert isinstance(to, Address) and text is not None and html is not None
    return Mail(to={"email": to.addr_spec, "name": to.display_name},
                subject=str(message["Subject"]), text=text.get_content(),
                html=html.get_content(), headers={},
                categories=str(message["X-Campaign-Categories"]).split(", "))


def join(container: Container, email: str, name: str, timezone: str = "Europe/London",
         locale: str = "en", confirm: bool = True) -> str:
    """A supporter who signed up (and confirmed, unless told otherwise)."""
    supporter_id = register_supporter(container.commands, container.blind_index,
                                      Registration(email, name, locale, "GB", timezone),
                                      META, utc_now())
    if confirm:
        container.commands.handle(supporter.ConfirmConsent(supporter_id, utc_now()), META)
    return supporter_id


def stored_name(container: Container, supporter_id: str, name: str) -> None:
    """The supporter's name as the read model holds it, sealed as the projection seals it."""
    with container.engine.begin() as conn:
        sealed = container.vault.seal(conn, f"supporter-{supporter_id}", "name", name)
        conn.execute(update(supporters).where(supporters.c.supporter_id == supporter_id)
                     .values(name_sealed=sealed))


def stored_action(container: Container, action_id: str, title: str | None = None,
                  deadline: dict[str, str] | None = None) -> None:
    """The action as the read model holds it, with this title or deadline."""
    with container.engine.begin() as conn:
        row = conn.execute(select(actions).where(actions.c.action_id == action_id)).one()
        document = dict(row.document)
        if title is not None:
            document["title"] = title
        if deadline is not None:
            document["deadline"] = deadline
        conn.execute(update(actions).where(actions.c.action_id == action_id)
                     .values(title=document["title"], document=document))


def send_planned(container: Container, planners: tuple[str, ...],
                 batches: BatchSender | None = None) -> None:
    """What the clock and a worker do: plan, then send every batch without an outcome."""
    for name in planners:
        SubscriptionRunner(container.store, container.subscriptions[name]).run()
    with container.engine.connect() as conn:
        waiting = conn.execute(select(mail_batches.c.batch_id)
                               .where(mail_batches.c.outcome.is_(None))).scalars().all()
    for batch_id in waiting:
        (batches or container.batches).send(batch_id, utc_now())


def failures(container: Container) -> dict[str, str]:
    """The operators' view: each failed supporter and why."""
    with container.engine.connect() as conn:
        rows = conn.execute(select(mail_recipient_failures)).all()
    return {row.supporter_id: row.reason for row in rows}


def outcome_events(container: Container) -> list[Any]:
    return [e for e in container.store.read_all(limit=100_000)
            if e.type in (mailing.BatchAccepted.type_name, mailing.BatchFailed.type_name)]


# Encoding by context


def test_a_sign_up_name_full_of_html_is_shown_escaped_in_the_confirmation(
    mailbox: Mailbox,
) -> None:
    join(mailbox.container, "mallory@example.org", PHISHING, confirm=False)

    send_planned(mailbox.container, CONFIRMATION)

    mail = mailbox.to("signup_confirmation", "mallory@example.org")
    assert "<h1>" not in mail.html and "<a " not in mail.html
    assert 'href="https://evil.example' not in mail.html
    assert "Dear friend&lt;/pre&gt;&lt;h1&gt;Action needed&lt;/h1&gt;&lt;a href=" in mail.html
    assert mail.html.count("<pre") == 1 and mail.html.count("</pre>") == 1
    assert f"Dear {PHISHING}," in mail.text  # the text part shows the name as it is
    assert mail.to == {"email": "mallory@example.org", "name": PHISHING}


@pytest.mark.parametrize("name", [SCRIPT, IMAGE])
def test_script_and_image_names_are_escaped_in_an_action_email(
    mailbox: Mailbox, name: str,
) -> None:
    load_demo(mailbox.container)
    join(mailbox.container, "mallory@example.org", name)

    send_planned(mailbox.container, ACTIONS)

    mail = mailbox.to("action_launched", "mallory@example.org")
    assert "<script" not in mail.html and "<img" not in mail.html
    assert "&lt;script&gt;" in mail.html or "&lt;img src=x onerror=" in mail.html
    assert f"Dear {name}," in mail.text
    others = [m for m in mailbox.of("action_launched") if m.to["email"] != "mallory@example.org"]
    assert others and all(name not in m.text and "&lt;" not in m.html for m in others)


def test_a_title_spelling_every_placeholder_arrives_literally(mailbox: Mailbox) -> None:
    load_demo(mailbox.container)
    content = dataclasses.replace(seed.CONTENT, title=EVERY_PLACEHOLDER)
    mailbox.container.commands.handle(action.DraftAction(
        **vars(content), action_id="ua-spelled", drafted_at=datetime(2010, 9, 15, 6,
                                                                     tzinfo=UTC)), META)
    mailbox.container.commands.handle(
        action.LaunchAction("ua-spelled", launched_at=datetime(2010, 9, 15, 9, tzinfo=UTC)), META)

    send_planned(mailbox.container, ACTIONS)

    spelled = [m for m in mailbox.of("action_launched") if EVERY_PLACEHOLDER in m.subject]
    assert len(spelled) == 4  # the demo's four supporters
    for mail in spelled:
        assert "135/10" in mail.subject  # in each reader's language, the title as written
        assert mail.subject.endswith(f": {EVERY_PLACEHOLDER}")
        assert f"\n{EVERY_PLACEHOLDER}\n" in mail.text
        assert f"\n{EVERY_PLACEHOLDER}\n" in mail.html
        assert mail.to["name"] not in mail.subject


def test_a_title_with_a_line_break_gives_a_one_line_subject_and_the_mail_is_sent(
    mailbox: Mailbox,
) -> None:
    load_demo(mailbox.container)
    stored_action(mailbox.container, seed.ACTION_ID, title=CRLF_TITLE)

    send_planned(mailbox.container, ACTIONS)

    launched = mailbox.of("action_launched")
    assert {m.to["email"] for m in launched} == {
        "aigerim@example.org", "olga@example.org", "sam@example.org", "lucia@example.org"}
    for mail in launched:  # each in its reader's language, on one line
        assert "135/10" in mail.subject
        assert mail.subject.endswith(": HUMAN RIGHTS DEFENDER JAILED Bcc: everyone@evil.example")
    assert all(e.type == "BatchAccepted" and e.data["failed"] == []
               for e in outcome_events(mailbox.container))


# One recipient never blocks a batch


def test_a_deadline_a_readers_timezone_cannot_show_fails_only_that_reader(
    mailbox: Mailbox,
) -> None:
    load_demo(mailbox.container)
    others = {f"reader.{n}@example.org": join(mailbox.container, f"reader.{n}@example.org",
                                              f"Reader {n}", timezone)
              for n, timezone in enumerate(["Europe/London", "Pacific/Auckland",
                                            "Pacific/Honolulu", "Asia/Tokyo"] * 10)}
    far = join(mailbox.container, "kiri@example.org", "Teuea Toatu", "Pacific/Kiritimati")
    stored_action(mailbox.container, seed.ACTION_ID, deadline=END_OF_TIME)

    send_planned(mailbox.container, ACTIONS)

    launched = {m.to["email"]: m for m in mailbox.of("action_launched")}
    assert set(others) | {"sam@example.org", "olga@example.org"} <= set(launched)
    assert "kiri@example.org" not in launched
    assert "BEFORE 31 December 9999, 23:30 (New Zealand Daylight Time) TO:" in \
        launched["reader.1@example.org"].text
    reason = "the deadline cannot be shown in the recipient's timezone"
    assert failures(mailbox.container) == {far: reason}
    failed = [e for e in outcome_events(mailbox.container) if e.data["failed"]]
    assert [e.type for e in failed] == ["BatchAccepted"] * 2  # the launch, then the update
    assert all(e.data["failed"][0]["supporter_id"] == far for e in failed)


def test_a_name_with_a_line_break_fails_only_her_and_the_others_in_her_batch_are_sent(
    mailbox: Mailbox,
) -> None:
    load_demo(mailbox.container)
    others = [join(mailbox.container, f"reader.{n}@example.org", f"Reader {n}")
              for n in range(20)]
    eve = join(mailbox.container, "eve@example.org", "Eve Example")
    stored_name(mailbox.container, eve, CRLF_NAME)

    send_planned(mailbox.container, ACTIONS)

    launched = {m.to["email"] for m in mailbox.of("action_launched")}
    assert {f"reader.{n}@example.org" for n in range(len(others))} <= launched
    assert "eve@example.org" not in launched
    assert failures(mailbox.container) == {
        eve: "the name contains a line break or control character"}
    stored = str([e.data for e in outcome_events(mailbox.container)])
    assert "Eve" not in stored and "eve@" not in stored


def test_a_name_with_a_line_break_does_not_stall_her_confirmation(mailbox: Mailbox) -> None:
    eve = join(mailbox.container, "eve@example.org", "Eve Example", confirm=False)
    ada = join(mailbox.container, "ada@example.org", "Ada", confirm=False)
    stored_name(mailbox.container, eve, CRLF_NAME)

    send_planned(mailbox.container, CONFIRMATION)
    send_planned(mailbox.container, ())  # the next try finds every outcome recorded

    assert [m.to["email"] for m in mailbox.of("signup_confirmation")] == ["ada@example.org"]
    assert failures(mailbox.container) == {
        eve: "the name contains a line break or control character"}
    assert ada not in failures(mailbox.container)
    assert len(outcome_events(mailbox.container)) == 2
    before = failures(mailbox.container)
    rebuild(mailbox.container.store, mailbox.container.projections["mail_recipient_failures"])
    assert failures(mailbox.container) == before  # the read model is the log's, replayed


def test_a_batch_refused_as_a_whole_is_recorded_as_failed_and_not_tried_again(
    mailbox: Mailbox,
) -> None:
    join(mailbox.container, "ada@example.org", "Ada", confirm=False)
    container = mailbox.container
    broken = MailConfig(sender_name="Urgent Actions\r\nBcc: everyone@evil.example",
                        sender_email="ua@example.org",
                        public_base_url="https://ua.example.org", alert_to="ua@example.org")
    batches = BatchSender(container.commands, Composer(
        container.store, container.vault, container.batches.composer.links, broken),
        container.transport)

    send_planned(container, CONFIRMATION, batches)
    send_planned(container, (), batches)

    assert mailbox.read() == []
    [failed] = outcome_events(container)
    assert failed.type == "BatchFailed" and failed.data["status"] == 0
    assert "from_name contains a line break" in failed.data["reason"]

"""The embedded default: `.eml` files a mail client opens, one per recipient, written once."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from campaign.bootstrap import transport_from_settings
from campaign.mail.file_transport import FileTransport
from campaign.mail.sendgrid import SendGridTransport
from campaign.settings import Settings
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.mail.conftest import MAILING_ID, make_batch


def read(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    return message


def test_each_recipient_gets_a_file_with_their_own_headers(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path / "outbox")

    accepted = transport.send(make_batch(3))

    assert accepted.message_id == "file-batch-1"
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [
        "batch-1-0000.eml", "batch-1-0001.eml", "batch-1-0002.eml"]
    message = read(transport.path_for("batch-1", 1))
    assert message["To"] == "Supporter Nº1 <supporter.1@example.org>"
    assert message["From"] == "Urgent Actions <urgent-actions@campaign.example.org>"
    assert message["List-Unsubscribe"] == ("<https://campaign.example.org/u/token-1>, "
                                           "<mailto:unsubscribe+1@campaign.example.org>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["X-Campaign-Delivery"] == \
        f"mailing_id={MAILING_ID}; batch_id=batch-1; delivery_id=delivery-1"
    assert message["Message-ID"] == "<batch-1.1@campaign.example.org>"
    assert message["Date"] is not None


def test_substitutions_are_applied_to_subject_text_and_html(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path)

    transport.send(make_batch(2))

    message = read(transport.path_for("batch-1", 0))
    assert message["Subject"] == ("UA 135/10: write before 27 October 2010, 23:59 "
                                  "(Asia/Bishkek), Supporter Nº0")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    assert "Dear Supporter Nº0," in text.get_content()
    assert "Unsubscribe: https://campaign.example.org/u/token-0" in text.get_content()
    assert '<a href="https://campaign.example.org/u/token-0">' in html.get_content()
    assert "-name-" not in text.get_content() + html.get_content()


def test_sending_a_batch_again_rewrites_its_files_instead_of_adding_copies(
    tmp_path: Path,
) -> None:
    transport = FileTransport(tmp_path)
    transport.send(make_batch(3))
    first = transport.path_for("batch-1", 2).read_bytes()

    transport.send(make_batch(3))

    assert len(list(tmp_path.iterdir())) == 3  # no duplicates, no temporary files left
    assert read(transport.path_for("batch-1", 2))["Message-ID"] == \
        BytesParser(policy=policy.default).parsebytes(first)["Message-ID"]


def test_batch_ids_unfit_for_file_names_still_get_distinct_files(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path)

    transport.send(make_batch(1, batch_id="a/b"))
    transport.send(make_batch(1, batch_id="a_b"))

    assert len(list(tmp_path.iterdir())) == 2


def test_without_a_sendgrid_key_mail_goes_to_the_outbox_under_var(tmp_path: Path) -> None:
    settings = Settings.from_env({"VAR_DIR": str(tmp_path / "var")})

    transport = transport_from_settings(settings)

    assert isinstance(transport, FileTransport)
    assert transport.outbox_dir == tmp_path / "var" / "outbox"
    transport.send(make_batch(1))
    assert transport.path_for("batch-1", 0).exists()


def test_with_a_sendgrid_key_mail_goes_to_sendgrid_at_the_configured_host(
    tmp_path: Path, sendgrid_server: FakeSendGrid,
) -> None:
    settings = Settings.from_env({
        "VAR_DIR": str(tmp_path / "var"), "SECRET_KEY": "k" * 40,
        "SENDGRID_API_KEY": sendgrid_server.api_key, "SENDGRID_API_HOST": sendgrid_server.url,
        "SENDGRID_TIMEOUT": "2.5",
    })

    transport = transport_from_settings(settings)

    assert isinstance(transport, SendGridTransport)
    transport.send(make_batch(2))
    assert sendgrid_server.deliveries() == {"supporter.0@example.org": 1,
                                            "supporter.1@example.org": 1}

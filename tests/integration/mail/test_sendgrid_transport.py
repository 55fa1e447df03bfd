"""The real `sendgrid` client against the fake SendGrid: request shape, answers, failures."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sendgrid

from campaign.mail.errors import InvalidBatch, PermanentSendError, TransientSendError
from campaign.mail.sendgrid import SendGridTransport, build_mail, request_body
from campaign.mail.transport import Accepted
from tests.fakes.sendgrid_server import FakeSendGrid
from tests.integration.mail.conftest import MAILING_ID, make_batch, person


def transport_for(server: FakeSendGrid, **options: object) -> SendGridTransport:
    return SendGridTransport(server.api_key, host=server.url, **options)  # type: ignore[arg-type]


def test_an_accepted_batch_returns_sendgrids_message_id(sendgrid_server: FakeSendGrid) -> None:
    accepted = transport_for(sendgrid_server).send(make_batch(3))

    (request,) = sendgrid_server.accepted
    assert sendgrid_server.statuses == [202]
    assert accepted == Accepted(request.message_id)
    assert accepted.message_id


def test_personalization_i_in_the_request_is_recipient_i(sendgrid_server: FakeSendGrid) -> None:
    batch = make_batch(250)

    transport_for(sendgrid_server).send(batch)

    personalizations = sendgrid_server.accepted[0].body["personalizations"]
    assert sendgrid_server.accepted[0].recipients == [p.to_email for p in batch.personalizations]
    for index, sent in enumerate(personalizations):
        assert sent["to"] == [{"email": f"supporter.{index}@example.org",
                               "name": f"Supporter Nº{index}"}]
        assert sent["custom_args"] == {"delivery_id": f"delivery-{index}"}
        assert sent["substitutions"]["-name-"] == f"Supporter Nº{index}"


def test_each_recipient_gets_their_own_one_click_unsubscribe_headers(
    sendgrid_server: FakeSendGrid,
) -> None:
    transport_for(sendgrid_server).send(make_batch(2))

    first, second = (p["headers"] for p in sendgrid_server.accepted[0].body["personalizations"])
    assert first["List-Unsubscribe"].startswith("<https://campaign.example.org/u/token-0>")
    assert second["List-Unsubscribe"].startswith("<https://campaign.example.org/u/token-1>")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "headers" not in sendgrid_server.accepted[0].body  # nothing shared by all


def test_custom_args_carry_only_opaque_ids(sendgrid_server: FakeSendGrid) -> None:
    transport_for(sendgrid_server).send(make_batch(3, batch_id="batch-9"))

    body = sendgrid_server.accepted[0].body
    assert body["custom_args"] == {"mailing_id": MAILING_ID, "batch_id": "batch-9"}
    assert {tuple(p["custom_args"]) for p in body["personalizations"]} == {("delivery_id",)}
    # SendGrid's own `batch_id` schedules sends; ours must never end up there.
    assert "batch_id" not in body
    assert body["categories"] == ["action_launched", "en"]
    assert body["content"][0]["type"] == "text/plain"


def test_nothing_about_recipients_reaches_the_logs_even_at_debug_level(
    sendgrid_server: FakeSendGrid, caplog: pytest.LogCaptureFixture,
) -> None:
    transport = transport_for(sendgrid_server)
    caplog.set_level(logging.DEBUG)

    transport.send(make_batch(2))

    assert "batch-1" in caplog.text
    assert "example.org" not in caplog.text


def test_sandbox_mode_is_requested_when_configured(sendgrid_server: FakeSendGrid) -> None:
    transport_for(sendgrid_server, sandbox=True).send(make_batch(2))
    transport_for(sendgrid_server).send(make_batch(2, batch_id="batch-2"))

    sandboxed, real = sendgrid_server.accepted
    assert sandboxed.body["mail_settings"] == {"sandbox_mode": {"enable": True}}
    assert "mail_settings" not in real.body
    assert sendgrid_server.deliveries() == {"supporter.0@example.org": 1,
                                            "supporter.1@example.org": 1}


def test_a_429_is_transient_with_the_wait_from_x_ratelimit_reset(
    sendgrid_server: FakeSendGrid,
) -> None:
    sendgrid_server.rate_limit_next(reset_in=30)
    transport = transport_for(sendgrid_server)

    with pytest.raises(TransientSendError) as failed:
        transport.send(make_batch(2))

    assert failed.value.status == 429
    assert failed.value.retry_after_seconds is not None
    assert 27 <= failed.value.retry_after_seconds <= 30
    transport.send(make_batch(2))  # the limit lifted: the same batch goes through, once
    assert sendgrid_server.deliveries() == {"supporter.0@example.org": 1,
                                            "supporter.1@example.org": 1}


def test_a_429_with_retry_after_waits_that_many_seconds(sendgrid_server: FakeSendGrid) -> None:
    sendgrid_server.rate_limit_next(reset_in=None, retry_after=7)

    with pytest.raises(TransientSendError) as failed:
        transport_for(sendgrid_server).send(make_batch(1))

    assert failed.value.retry_after_seconds == 7


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_transient(sendgrid_server: FakeSendGrid, status: int) -> None:
    sendgrid_server.fail_next(status=status)

    with pytest.raises(TransientSendError) as failed:
        transport_for(sendgrid_server).send(make_batch(1))

    assert failed.value.status == status
    assert sendgrid_server.accepted == []


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_a_client_error_is_permanent(sendgrid_server: FakeSendGrid, status: int) -> None:
    sendgrid_server.reject_next(status, message="The from address does not match a verified "
                                                "Sender Identity.")

    with pytest.raises(PermanentSendError) as failed:
        transport_for(sendgrid_server).send(make_batch(1))

    assert failed.value.status == status
    assert "verified Sender Identity" in failed.value.reason


def test_a_wrong_api_key_is_a_permanent_401(sendgrid_server: FakeSendGrid) -> None:
    transport = SendGridTransport("SG.wrong.key", host=sendgrid_server.url)

    with pytest.raises(PermanentSendError) as failed:
        transport.send(make_batch(1))

    assert failed.value.status == 401


def test_a_body_over_the_size_limit_is_a_permanent_413() -> None:
    with FakeSendGrid(max_body_bytes=2_000) as small:
        with pytest.raises(PermanentSendError) as failed:
            transport_for(small).send(make_batch(20))

    assert failed.value.status == 413
    assert "Too Large" in failed.value.reason


def test_addresses_quoted_in_an_error_are_masked(sendgrid_server: FakeSendGrid) -> None:
    sendgrid_server.reject_next(400, message="duplicate instance of [supporter.1@example.org]")

    with pytest.raises(PermanentSendError) as failed:
        transport_for(sendgrid_server).send(make_batch(2))

    assert "example.org" not in str(failed.value)
    assert "[address]" in failed.value.reason


def test_a_provider_slower_than_the_timeout_is_transient(sendgrid_server: FakeSendGrid) -> None:
    sendgrid_server.stall_next(20)
    started = time.monotonic()

    with pytest.raises(TransientSendError) as failed:
        transport_for(sendgrid_server, timeout_seconds=0.5).send(make_batch(1))

    assert time.monotonic() - started < 19  # the timeout ended the wait, not the provider
    assert failed.value.status is None


def test_a_refused_connection_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    transport = SendGridTransport("SG.key.x", host=f"http://127.0.0.1:{port}")

    with pytest.raises(TransientSendError):
        transport.send(make_batch(1))


def test_an_invalid_batch_is_refused_before_any_request(sendgrid_server: FakeSendGrid) -> None:
    twice = make_batch(people=(person(0), person(1, "SUPPORTER.0@example.org")))

    with pytest.raises(InvalidBatch):
        transport_for(sendgrid_server).send(twice)

    assert sendgrid_server.statuses == []


# The fake must refuse what SendGrid refuses, or the tests above prove nothing.


def raw_send(server: FakeSendGrid, body: dict[str, object]) -> int:
    client = sendgrid.SendGridAPIClient(api_key=server.api_key, host=server.url)
    try:
        return int(client.client.mail.send.post(request_body=body).status_code)
    except Exception as exc:  # python_http_client's HTTPError carries the status
        return int(getattr(exc, "status_code", 0))


def minimal(personalizations: list[dict[str, object]]) -> dict[str, object]:
    return {"personalizations": personalizations, "from": {"email": "a@campaign.example.org"},
            "subject": "s", "content": [{"type": "text/plain", "value": "v"}]}


def test_the_fake_refuses_a_duplicate_address_in_one_request(
    sendgrid_server: FakeSendGrid,
) -> None:
    body = minimal([{"to": [{"email": "x@example.org"}]}, {"to": [{"email": "X@example.org"}]}])

    assert raw_send(sendgrid_server, body) == 400


def test_the_fake_refuses_more_than_a_thousand_personalizations(
    sendgrid_server: FakeSendGrid,
) -> None:
    body = minimal([{"to": [{"email": f"r{i}@example.org"}]} for i in range(1001)])

    assert raw_send(sendgrid_server, body) == 400


def test_the_fake_refuses_more_than_a_thousand_recipients(sendgrid_server: FakeSendGrid) -> None:
    body = minimal([{"to": [{"email": f"r{i}.{j}@example.org"} for j in range(2)]}
                    for i in range(501)])

    assert raw_send(sendgrid_server, body) == 400


@pytest.mark.parametrize("missing", ["from", "subject", "content", "personalizations"])
def test_the_fake_refuses_a_request_without_a_required_field(
    sendgrid_server: FakeSendGrid, missing: str,
) -> None:
    body = minimal([{"to": [{"email": "x@example.org"}]}])
    del body[missing]

    assert raw_send(sendgrid_server, body) == 400
    assert sendgrid_server.accepted == []


@pytest.mark.parametrize("sandbox", [False, True])
def test_the_request_body_is_the_one_the_client_libraries_helpers_build(sandbox: bool) -> None:
    people = (person(0), replace(person(1), to_name=""), replace(person(2), headers={}),
              replace(person(3), to_name='Smith, "Jo" <ü>', substitutions={}),
              replace(person(4), custom_args={}))
    for batch in (make_batch(people=people), replace(make_batch(1), reply_to="r@example.org",
                                                     text="", categories=())):
        body = request_body(batch, sandbox)
        assert body == build_mail(batch, sandbox).get()
        assert list(body) == list(build_mail(batch, sandbox).get())  # same order on the wire


def test_the_transport_sends_the_request_the_client_library_sends_byte_for_byte() -> None:
    """The transport posts through the client's own request path, not its generic method:
    the method, path, headers and body on the wire are the same all the same."""
    seen: list[tuple[str, str, list[tuple[str, str]], bytes]] = []

    class Capture(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.command, self.path, sorted(self.headers.items()), body))
            self.send_response(202)
            self.send_header("X-Message-Id", "captured")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"http://127.0.0.1:{server.server_address[1]}"
        batch = make_batch(people=(person(0), replace(person(1), to_name='Smith, "Jo" <ü>')))
        library = sendgrid.SendGridAPIClient(api_key="SG.capture", host=host)
        library.send(request_body(batch))
        assert SendGridTransport("SG.capture", host=host).send(batch) == Accepted("captured")
    finally:
        server.shutdown()
        server.server_close()

    assert len(seen) == 2 and seen[0] == seen[1]
    assert json.loads(seen[1][3]) == request_body(batch)

"""How deliveries travel: pinned addresses, TLS names, rotation overlap, one slow partner."""

from __future__ import annotations

import datetime as dt
import queue
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Connection

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.partners.admin import rotate_secret
from campaign.partners.webhooks.delivery import Deliverer
from campaign.partners.webhooks.http import PinnedSender
from campaign.partners.webhooks.slots import SLOTS, partner_slot
from tests.fakes.partner_receiver import Answer, PartnerReceiver
from tests.integration.webhooks.conftest import (
    Clock,
    Pipeline,
    attempts,
    deliveries,
    launch_seed_action,
    register,
)

LAUNCH_ONLY = ("action.launched",)


def test_the_sender_connects_to_the_given_address_and_names_the_host_in_the_request(
    receiver: PartnerReceiver,
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    sender = PinnedSender()
    # ".invalid" never resolves: the request can only arrive through the pinned address.
    answer = sender.post(f"http://partner.invalid:{port}/hooks", ["127.0.0.1"],
                         {"Content-Type": "application/json"}, b"{}")
    sender.close()

    assert answer.status == 401  # it arrived (unsigned, so the partner refused it)
    (request,) = receiver.requests()
    assert request.headers["host"] == f"partner.invalid:{port}"


def test_an_address_that_refuses_is_skipped_for_the_next(receiver: PartnerReceiver) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    sender = PinnedSender()
    answer = sender.post(f"http://localhost:{port}/hooks", ["127.0.0.2", "127.0.0.1"], {}, b"{}")
    refused = sender.post(f"http://localhost:{port}/hooks", ["127.0.0.2"], {}, b"{}")
    sender.close()

    assert answer.status == 401 and len(receiver.requests()) == 1
    assert (refused.status, refused.error) == (None, "connection refused")


@pytest.fixture
def certificate_for(tmp_path: Path) -> Iterator[object]:
    def make(name: str) -> tuple[ssl.SSLContext, str]:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                .sign(key, hashes.SHA256()))
        cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        return context, str(cert_path)

    yield make


def test_https_uses_the_urls_name_for_sni_and_the_certificate_check(
    container: Container, clock: Clock, certificate_for: object,
) -> None:
    context, ca = certificate_for("localhost")  # type: ignore[operator]
    wrong_context, wrong_ca = certificate_for("partner.example.org")  # type: ignore[operator]
    with PartnerReceiver(tls=context, host="localhost") as good, \
            PartnerReceiver(tls=wrong_context, host="localhost") as impostor:
        register(container, good, clock(), event_types=LAUNCH_ONLY)
        bad = register(container, impostor, clock(), event_types=LAUNCH_ONLY)
        launch_seed_action(container)
        pipeline = Pipeline(container, clock)
        for trusted in (ca, wrong_ca):  # both certificates are trusted: only names differ
            pipeline.sender = PinnedSender(ca_certs=trusted)
            pipeline.deliverer = Deliverer(
                container.commands, container.vault, pipeline.sender,
                allow_private=container.settings.webhook_allow_private,
                wake=pipeline.queued.append, clock=clock)
            pipeline.run()
            pipeline.close()

        assert [d.payload["type"] for d in good.deliveries()] == ["action.launched"]
        assert impostor.requests() == []
        (row,) = deliveries(container, bad.partner_id)
        assert "certificate" in (attempts(container, row.delivery_id)[-1].error or "").lower()


def test_during_a_rotation_both_secrets_sign_and_afterwards_only_the_new_one(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    issued = register(container, receiver, clock(), event_types=(
        "action.launched", "action.updated"))
    old = issued.signing_secret
    rotated = rotate_secret(container.commands, container.vault, issued.partner_id,
                            timedelta(hours=1), Meta(actor="test", correlation_id="rotate"),
                            clock())
    receiver.secrets = [old, rotated.signing_secret]
    receiver.fail_next(1)  # the launch is delivered on its retry, after the overlap
    launch_seed_action(container)

    pipeline.run()
    clock.advance(timedelta(hours=2))
    pipeline.run()

    failed, during, after = receiver.requests()
    assert [r.payload["type"] for r in (failed, during, after)] == [
        "action.launched", "action.updated", "action.launched"]
    assert len(during.signature.split(" ")) == 2
    assert during.verified_by == (0, 1)  # a partner holding either secret accepts it
    assert len(after.signature.split(" ")) == 1
    assert after.verified_by == (1,)


def test_a_partner_with_every_slot_taken_holds_up_no_one_else(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver,
    other_receiver: PartnerReceiver, clock: Clock,
) -> None:
    busy = register(container, receiver, clock(), event_types=LAUNCH_ONLY)
    free = register(container, other_receiver, clock(), event_types=LAUNCH_ONLY)
    launch_seed_action(container)
    pipeline.outbox()
    (busy_row,) = deliveries(container, busy.partner_id)
    (free_row,) = deliveries(container, free.partner_id)

    with holder(container) as c1, holder(container) as c2, holder(container) as c3, \
            partner_slot(c1, busy.partner_id) as first, \
            partner_slot(c2, busy.partner_id) as second, \
            partner_slot(c3, busy.partner_id) as third:
        assert (first, second, third) == (True, True, False)  # SLOTS == 2
        dropped = pipeline.deliverer.turn(busy_row.delivery_id)
        served = pipeline.deliverer.turn(free_row.delivery_id)

    assert dropped.busy and dropped.attempts == []
    assert [a.outcome for a in served.attempts] == ["succeeded"]
    assert receiver.requests() == [] and len(other_receiver.requests()) == 1
    assert SLOTS == 2


def test_a_slow_partner_takes_at_most_its_slots_and_the_others_go_on(
    container: Container, receiver: PartnerReceiver, other_receiver: PartnerReceiver,
    clock: Clock,
) -> None:
    slow = register(container, receiver, clock())
    register(container, other_receiver, clock())
    receiver.answer_always(Answer(200, delay=1.5))
    launch_seed_action(container)
    messages: queue.Queue[str] = queue.Queue()
    sender = PinnedSender()
    deliverer = Deliverer(container.commands, container.vault, sender,
                          allow_private=container.settings.webhook_allow_private,
                          wake=messages.put, clock=clock)
    from campaign.partners.webhooks.outbox import Outbox

    Outbox(container.store, messages.put, clock).run_once()
    # Every delivery gets its own message too, as after a scan that found all of them due.
    for row in deliveries(container):
        messages.put(row.delivery_id)
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                delivery_id = messages.get(timeout=0.05)
            except queue.Empty:
                continue
            deliverer.turn(delivery_id)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        wait_for(lambda: len(other_receiver.deliveries()) == 7, 60)
        slow_when_others_done = len(receiver.deliveries())
        wait_for(lambda: len(receiver.deliveries()) == 7, 120)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        sender.close()

    assert slow_when_others_done < 7
    assert receiver.max_in_flight <= SLOTS
    assert {r.status for r in deliveries(container, slow.partner_id)} == {"succeeded"}
    assert len(receiver.requests()) == 7  # none sent twice


@contextmanager
def holder(container: Container) -> Iterator[Connection]:
    """A connection holding slots as another worker's turn would (autocommit)."""
    with container.engine.connect() as conn:
        yield conn.execution_options(isolation_level="AUTOCOMMIT")


def wait_for(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.02)

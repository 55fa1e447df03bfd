"""Actor names, queue names and message shapes are wire format: Redis holds messages that name
them across deploys, so a worker must always know every name an older process may have sent."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

from dramatiq.brokers.stub import StubBroker

from campaign.bootstrap import build
from campaign.mail.sending import SEND_BATCH
from campaign.partners.webhooks.delivery import DELIVER_WEBHOOK
from campaign.partners.webhooks.outbox import FOLLOW_OUTBOX
from campaign.settings import Settings
from workers.actors import ACTORS, declare_actors

# actor name -> (queue, the arguments its messages carry)
WIRE = {
    "run_subscription": ("subscriptions", ["name"]),
    "scan_deadlines": ("deadlines", []),
    "send_batch": ("mail", ["batch_id"]),
    "resend_lost_batches": ("mail", []),
    "deliver_webhook": ("webhooks", ["delivery_id"]),
    "follow_webhook_outbox": ("partner_jobs", []),
    "scan_webhooks": ("partner_jobs", []),
    "report_letter_counts": ("partner_jobs", []),
    "purge_unconfirmed_sign_ups": ("retention", []),
}


def test_every_actor_keeps_its_name_queue_and_arguments() -> None:
    found = {spec.name: (spec.queue, list(inspect.signature(spec.fn).parameters)[1:])
             for spec in ACTORS}

    assert found == WIRE


def test_the_names_features_send_to_are_actors() -> None:
    assert {SEND_BATCH, DELIVER_WEBHOOK, FOLLOW_OUTBOX} <= set(WIRE)


def test_a_message_the_product_sends_carries_ids_only(tmp_path: Path) -> None:
    broker = StubBroker()
    container = build(Settings.from_env({"VAR_DIR": str(tmp_path)}), broker=broker)
    declare_actors(container)

    container.queue.send(SEND_BATCH, "mailing-1-3")
    container.queue.send(DELIVER_WEBHOOK, "msg_abc", delay_ms=1_000)

    (sent,) = [json.loads(m) for m in _bodies(broker, "mail")]
    assert (sent["actor_name"], sent["queue_name"], sent["args"], sent["kwargs"]) == (
        "send_batch", "mail", ["mailing-1-3"], {})
    (delayed,) = [json.loads(m) for m in _bodies(broker, "webhooks.DQ")]
    assert (delayed["actor_name"], delayed["args"]) == ("deliver_webhook", ["msg_abc"])
    container.engine.dispose()
    broker.close()


def _bodies(broker: StubBroker, queue: str) -> list[bytes]:
    pending = broker.queues[queue]
    bodies = []
    while not pending.empty():
        bodies.append(pending.get_nowait())
    return bodies

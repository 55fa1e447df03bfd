"""A stuck subscription, as operators meet it: `campaign status` shows where, since when and
why; `campaign subscriptions retry` runs it again; `skip` sets the event aside with who and
why, recorded for the audit; `/readyz` names it without taking the site down."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from campaign.bootstrap import Container
from campaign.domain.operations import SubscriptionEventSkipped, operations_stream
from campaign.infra.database import head_revision
from campaign.mail.sending import DISPATCHER
from campaign.read_models.audit import audit_page
from campaign.web.app import create_app
from events import SubscriptionRunner
from events.schema import parked_events
from events.status import SubscriptionState, parked, subscription_states
from tests.commands import SECRET_KEY, campaign, command_env, describe
from tests.stuck import EMAIL, NAME, closed_port, stick_the_mail_dispatcher
from workers.embedded import probes


def env_for(container: Container, **extra: str) -> dict[str, str]:
    """The command's environment for the test's database (no Redis: its broker answers)."""
    return command_env(DATABASE_URL=container.settings.database_url, SECRET_KEY=SECRET_KEY,
                       VAR_DIR=str(container.settings.var_dir), **extra)


def state_of(container: Container, name: str) -> SubscriptionState:
    with container.engine.connect() as conn:
        return next(s for s in subscription_states(conn) if s.name == name)


def test_campaign_status_shows_a_stuck_subscription_where_since_when_and_why(
    container: Container,
) -> None:
    position = stick_the_mail_dispatcher(container)
    stuck = state_of(container, DISPATCHER)

    text = campaign("status", env=env_for(container))
    document = campaign("status", "--json", env=env_for(container))

    assert text.returncode == 0 and document.returncode == 0, describe(text) + describe(document)
    found = json.loads(document.stdout)
    assert found["stuck"] == [DISPATCHER]
    assert found["log_head"] == container.store.head()
    assert found["schema"] == {"revision": head_revision(), "head": head_revision(),
                               "current": True}
    rows: dict[str, dict[str, Any]] = {row["name"]: row for row in found["subscriptions"]}
    assert set(container.subscriptions) | {"webhook_outbox"} <= set(rows)
    assert stuck.stuck_since is not None
    assert rows[DISPATCHER] | {"lag_seconds": None, "stuck_seconds": None, "updated_at": None} \
        == {"name": DISPATCHER, "position": position - 1, "lag_events": stuck.lag_events,
            "lag_seconds": None, "stuck": True, "failed_position": position,
            "last_error": stuck.last_error, "stuck_since": stuck.stuck_since.isoformat(),
            "stuck_seconds": None, "parked": 0, "updated_at": None}
    assert stuck.last_error and stuck.last_error.startswith("TemporaryFailure at event ")
    assert rows[DISPATCHER]["stuck_seconds"] >= 0 and rows[DISPATCHER]["lag_seconds"] >= 0
    assert not rows["audit"]["stuck"]
    assert f"{DISPATCHER} is STUCK at position {position} since " in text.stdout
    assert f"error: {stuck.last_error}" in text.stdout
    assert f"campaign subscriptions retry {DISPATCHER}" in text.stdout
    for output in (text.stdout, document.stdout):
        assert EMAIL not in output and NAME not in output


def test_a_retry_once_the_cause_is_gone_gets_past_the_failed_position(
    container: Container,
) -> None:
    position = stick_the_mail_dispatcher(container)

    result = campaign("subscriptions", "retry", DISPATCHER, env=env_for(container))

    assert result.returncode == 0, describe(result)
    assert f"{DISPATCHER} got past position {position}" in result.stdout
    after = state_of(container, DISPATCHER)
    assert (after.stuck, after.stuck_since, after.last_error, after.parked) == (
        False, None, None, 0)  # handled, not set aside
    assert after.position is not None and after.position >= position


def test_a_retry_while_the_cause_remains_keeps_it_stuck_since_the_first_failure(
    container: Container,
) -> None:
    position = stick_the_mail_dispatcher(container)
    before = state_of(container, DISPATCHER)

    result = campaign("subscriptions", "retry", DISPATCHER, env=env_for(
        container, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"))

    assert result.returncode == 1, describe(result)
    assert f"{DISPATCHER} is still stuck at position {position}" in result.stderr
    after = state_of(container, DISPATCHER)
    assert (after.failed_position, after.stuck_since) == (position, before.stuck_since)


def test_a_skip_parks_the_event_with_who_and_why_moves_past_it_and_the_audit_says_so(
    container: Container,
) -> None:
    position = stick_the_mail_dispatcher(container)
    reason = "confirmation planned for an address we were asked to forget"

    result = campaign("subscriptions", "skip", DISPATCHER, "--position", str(position),
                      "--reason", reason, "--by", "Ana (on call)", env=env_for(container))

    assert result.returncode == 0, describe(result)
    after = state_of(container, DISPATCHER)
    assert (after.position, after.stuck, after.parked) == (position, False, 1)
    with container.engine.connect() as conn:
        [set_aside] = parked(conn, DISPATCHER)
    assert (set_aside.position, set_aside.event_type, set_aside.error) == (
        position, "MailingPlanned", f"skipped by Ana (on call): {reason}")
    [recorded] = container.store.read_stream(operations_stream(DISPATCHER))
    assert recorded.type == SubscriptionEventSkipped.type_name
    assert recorded.metadata["actor"] == "cli"
    assert recorded.data | {"skipped_at": None} == {
        "subscription": DISPATCHER, "position": position, "event_id": str(set_aside.event_id),
        "event_type": "MailingPlanned", "skipped_by": "Ana (on call)", "reason": reason,
        "skipped_at": None}
    SubscriptionRunner(container.store, container.subscriptions["audit"]).run()
    with container.engine.connect() as conn:
        [entry] = audit_page(conn, 10, event_type=SubscriptionEventSkipped.type_name).entries
    assert (entry.actor, entry.stream_id) == ("cli", operations_stream(DISPATCHER))
    assert entry.note == (f"{DISPATCHER} skipped position {position} (MailingPlanned "
                          f"{set_aside.event_id}), by Ana (on call): {reason}")
    assert not SubscriptionRunner(container.store, container.subscriptions[DISPATCHER]).run() \
        .failed  # it goes on from there


def test_a_skip_of_a_position_it_is_not_stuck_at_or_without_a_reason_moves_nothing(
    container: Container,
) -> None:
    position = stick_the_mail_dispatcher(container)
    head = container.store.head()

    elsewhere = campaign("subscriptions", "skip", DISPATCHER, "--position", str(position + 1),
                         "--reason", "wrong one", env=env_for(container))
    no_reason = campaign("subscriptions", "skip", DISPATCHER, "--position", str(position),
                         "--reason", "  ", env=env_for(container))
    running = campaign("subscriptions", "skip", "confirmation_mailer", "--position", str(position),
                       "--reason", "not stuck", env=env_for(container))

    assert elsewhere.returncode == 1, describe(elsewhere)
    assert f"{DISPATCHER} is stopped at {position}, not at position {position + 1}" \
        in elsewhere.stderr
    assert no_reason.returncode == 1 and "say why" in no_reason.stderr, describe(no_reason)
    assert running.returncode == 1 and "confirmation_mailer is not stopped" in running.stderr, \
        describe(running)
    assert "Traceback" not in elsewhere.stderr + no_reason.stderr + running.stderr
    after = state_of(container, DISPATCHER)
    assert (after.position, after.failed_position) == (position - 1, position)
    with container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(parked_events)).scalar_one() == 0
    assert container.store.head() == head


def test_readyz_stays_ready_and_names_the_stuck_subscriptions(container: Container) -> None:
    position = stick_the_mail_dispatcher(container)
    stuck = state_of(container, DISPATCHER)
    assert stuck.stuck_since is not None

    response = create_app(container, probes(container, None)).test_client().get("/readyz")

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "ready"
    [named] = body["stuck_subscriptions"]
    assert named["stuck_seconds"] >= 0
    assert named | {"stuck_seconds": None} == {
        "name": DISPATCHER, "failed_position": position, "last_error": stuck.last_error,
        "stuck_since": stuck.stuck_since.isoformat(), "stuck_seconds": None}

"""Migration 0020 on data written before it: attempts learn their partner, endpoints their
last success and failure status, and stored webhook bodies the id of their event."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from campaign.infra.database import upgrade
from tests.databases import PostgresDatabases, engine_for

BEFORE = "0019"
OLD_BODY = '{"type":"action.launched","timestamp":"2020-05-12T10:00:00+00:00","data":{"t":"Ä"}}'
ROWS = [
    ("INSERT INTO webhook_messages (event_id, position, type, occurred_at, body) "
     "VALUES ('ev-1', 7, 'action.launched', '2020-05-12 10:00:00', :body)"),
    ("INSERT INTO webhook_deliveries (delivery_id, partner_id, event_id, position, type, status, "
     "failures, attempts, created_at, updated_at) VALUES ('msg_1', 'bir-duino', 'ev-1', 7, "
     "'action.launched', 'succeeded', 0, 2, '2020-05-12 10:00:00', '2020-05-12 10:00:06')"),
    ("INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, outcome, status_code, "
     "latency_ms) VALUES ('msg_1', 1, '2020-05-12 10:00:01', 'failed', 503, 40)"),
    ("INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, outcome, status_code, "
     "latency_ms) VALUES ('msg_1', 2, '2020-05-12 10:00:06', 'succeeded', 200, 30)"),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'campaign.sqlite3'}"
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    with databases.empty() as url:
        yield url


def test_data_from_before_the_migration_is_carried_into_the_health_columns_and_bodies(
    empty_database: str,
) -> None:
    upgrade(empty_database, BEFORE)
    with engine_for(empty_database) as engine:
        with engine.begin() as conn:
            for statement in ROWS:
                conn.execute(text(statement), {"body": OLD_BODY})

    upgrade(empty_database, "head")

    with engine_for(empty_database) as engine, engine.connect() as conn:
        body = conn.execute(text("SELECT body FROM webhook_messages")).scalar_one()
        partners = conn.execute(text("SELECT DISTINCT partner_id FROM webhook_attempts")
                                ).scalars().all()
        endpoint = conn.execute(text(
            "SELECT partner_id, last_failure_status, last_success_at FROM webhook_endpoints"
        )).one()
    assert body == ('{"event_id":"ev-1","type":"action.launched",'
                    '"timestamp":"2020-05-12T10:00:00+00:00","data":{"t":"Ä"}}')
    assert json.loads(body)["data"] == json.loads(OLD_BODY)["data"]
    assert partners == ["bir-duino"]
    assert endpoint.partner_id == "bir-duino" and endpoint.last_failure_status == 503
    assert str(endpoint.last_success_at).startswith("2020-05-12 10:00:06")

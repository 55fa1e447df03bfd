"""Sign-ups never confirmed are erased after UNCONFIRMED_RETENTION_DAYS, by a periodic job.

Erased as erasure does it: the data key is deleted, so what the person typed can never be
read again, and `SupporterErased` says why (`requested_by: retention`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from dramatiq.brokers.stub import StubBroker
from sqlalchemy import Engine, func, select

from campaign.application.commands import Meta
from campaign.application.supporters import (
    Registration,
    export_supporter,
    purge_unconfirmed,
    register_supporter,
)
from campaign.bootstrap import Container, build
from campaign.domain import supporter
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from campaign.settings import Settings
from events.personal_data import MASK
from events.schema import personal_data_keys
from tests.wiring import with_actors
from workers.actors import RETENTION_QUEUE, purge_unconfirmed_sign_ups
from workers.clock import Cadences, Every, tick

META = Meta(actor="test", correlation_id="retention-tests")
THIRTY_DAYS = timedelta(days=30)


def registered(container: Container, email: str, at: datetime, confirmed: bool = False) -> str:
    form = Registration(email, "Someone Waiting", "en", "GB", "Europe/London")
    supporter_id = register_supporter(container.commands, container.blind_index, form, META, at)
    if confirmed:
        container.commands.handle(supporter.ConfirmConsent(supporter_id, at), META)
    return supporter_id


def has_key(container: Container, supporter_id: str) -> bool:
    with container.engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(personal_data_keys).where(
            personal_data_keys.c.subject_id == supporter.supporter_stream(supporter_id))
        ).scalar_one())


def erased(container: Container, supporter_id: str) -> bool:
    with container.engine.connect() as conn:
        return bool(conn.execute(select(supporters.c.erased).where(
            supporters.c.supporter_id == supporter_id)).scalar_one())


def test_an_unconfirmed_sign_up_is_erased_after_thirty_days_and_the_others_are_kept(
    container: Container,
) -> None:
    now = utc_now()
    stale = registered(container, "never.clicked@example.org", now - timedelta(days=31))
    confirmed = registered(container, "clicked@example.org", now - timedelta(days=31),
                           confirmed=True)
    recent = registered(container, "just.joined@example.org", now - timedelta(days=5))
    asked_again = registered(container, "asked.again@example.org", now - timedelta(days=40))
    registered(container, "asked.again@example.org", now - timedelta(days=2))  # mailed anew

    purged = purge_unconfirmed(container.commands, container.vault, THIRTY_DAYS, now)

    assert purged == 1
    assert erased(container, stale) and not has_key(container, stale)
    export = export_supporter(container.commands, stale)
    assert (export["profile"]["email"], export["profile"]["name"]) == (MASK, MASK)
    assert export["events"][-1]["type"] == "SupporterErased"
    assert export["events"][-1]["data"]["requested_by"] == "retention"
    for kept in (confirmed, recent, asked_again):
        assert not erased(container, kept) and has_key(container, kept)
    assert purge_unconfirmed(container.commands, container.vault, THIRTY_DAYS, now) == 0


def test_the_clock_asks_for_the_purge_every_hour_and_the_actor_uses_the_setting(
    tmp_path: Path, database_url: str, engine: Engine, broker: StubBroker,
) -> None:
    settings = Settings.from_env({
        "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "VAR_DIR": str(tmp_path / "var"), "UNCONFIRMED_RETENTION_DAYS": "7",
    })
    container = with_actors(build(settings, engine=engine, broker=broker))
    week_old = registered(container, "a.week.ago@example.org", utc_now() - timedelta(days=8))
    hourly = Cadences(retention_purges=Every(3600))

    for _ in range(3):
        tick(container, hourly)
    assert broker.queues[RETENTION_QUEUE].qsize() == 1

    purge_unconfirmed_sign_ups(container)

    assert erased(container, week_old) and not has_key(container, week_old)

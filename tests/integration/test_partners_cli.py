"""`campaign partners add|list|rotate-secret`, run as a real subprocess on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaign.application.commands import Meta
from campaign.bootstrap import Container, build
from campaign.demo import ua_135_10 as seed
from campaign.partners.registry import get_partner, partner_for_api_key, signing_secrets
from campaign.settings import Settings
from tests.commands import SECRET_KEY, campaign, command_env, describe
from tests.databases import SqliteDatabases, engine_for


@pytest.fixture
def sqlite_url(sqlite_databases: SqliteDatabases) -> Iterator[str]:
    with sqlite_databases.fresh() as url:
        yield url


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return command_env(DATABASE_URL=sqlite_url, SECRET_KEY=SECRET_KEY)


@pytest.fixture
def container(sqlite_url: str, tmp_path: Path) -> Iterator[Container]:
    settings = Settings.from_env({"DATABASE_URL": sqlite_url, "SECRET_KEY": SECRET_KEY,
                                  "VAR_DIR": str(tmp_path / "var")})
    with engine_for(sqlite_url) as engine:
        container = build(settings, engine=engine)
        container.commands.handle(seed.OPEN_CASE, Meta(actor="test", correlation_id="cli"))
        yield container


def printed(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines())


def test_partners_add_prints_the_secret_and_key_once_and_registers_the_partner(
    container: Container, env: dict[str, str]
) -> None:
    result = campaign("partners", "add", "--id", seed.PARTNER_ID, "--name", "Bir Duino",
                      "--contact-email", "info@birduino.example.org",
                      "--webhook-url", "https://1.1.1.1/hooks", "--case", seed.CASE_ID,
                      "--country", "KG", "--event-type", "case.development_recorded", env=env)

    assert result.returncode == 0, describe(result)
    shown = printed(result.stdout)
    assert shown["signing_secret"].startswith("whsec_")
    assert shown["api_key"].startswith("uap_")
    assert "shown once" in result.stderr
    with container.engine.connect() as conn:
        partner = get_partner(conn, seed.PARTNER_ID)
        assert partner is not None
        follows = partner.follows
        assert (follows.case_ids, follows.countries, follows.event_types) == (
            (seed.CASE_ID,), ("KG",), ("case.development_recorded",))
        assert partner_for_api_key(conn, shown["api_key"]) == partner
        now = datetime.now(UTC)
        assert signing_secrets(conn, container.vault, seed.PARTNER_ID, now) == [
            shown["signing_secret"]]

    listed = campaign("partners", "list", env=env)

    assert listed.stdout.split("\t")[:3] == [seed.PARTNER_ID, "enabled", "https://1.1.1.1/hooks"]
    assert shown["signing_secret"] not in listed.stdout


def test_partners_rotate_secret_prints_a_new_secret_and_keeps_the_old_one_for_the_overlap(
    container: Container, env: dict[str, str]
) -> None:
    added = printed(campaign("partners", "add", "--id", "p1", "--name", "P",
                             "--contact-email", "p@example.org",
                             "--webhook-url", "https://1.1.1.1/hooks", env=env).stdout)

    result = campaign("partners", "rotate-secret", "p1", "--overlap-hours", "2", env=env)

    assert result.returncode == 0, describe(result)
    new = printed(result.stdout)["signing_secret"]
    with container.engine.connect() as conn:
        now = datetime.now(UTC)
        assert signing_secrets(conn, container.vault, "p1", now) == [new, added["signing_secret"]]
        later = now + timedelta(hours=2, minutes=1)
        assert signing_secrets(conn, container.vault, "p1", later) == [new]


def test_partners_add_refuses_a_private_webhook_url_naming_the_fault(
    container: Container, env: dict[str, str]
) -> None:
    result = campaign("partners", "add", "--name", "P", "--contact-email", "p@example.org",
                      "--webhook-url", "https://10.1.2.3/hooks", env=env)

    assert result.returncode != 0
    assert "private address" in result.stderr
    assert result.stdout == ""
    unknown = campaign("partners", "rotate-secret", "nosuch", env=env)
    assert unknown.returncode != 0 and "no such partner" in unknown.stderr

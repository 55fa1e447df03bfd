"""The key ring over a real database: what an older secret stored stays readable and
findable until `campaign keys rotate` moves it, and a missing secret stops the rotation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select, update

from campaign.application.commands import Meta
from campaign.application.key_rotation import rotate_keys
from campaign.application.supporters import (
    Registration,
    find_supporter_by_email,
    register_supporter,
)
from campaign.bootstrap import Container
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from events.keyring import KeyRing, key_id
from events.personal_data import Vault
from events.schema import personal_data_keys
from tests.commands import campaign, command_env, describe
from tests.key_rings import FIRST, SECOND, THIRD, with_key_ring

META = Meta(actor="test", correlation_id="key-ring")
FORM = Registration("Grace.Hopper@example.org", "Grace", "en", "US", "America/New_York")


def wrapping(container: Container, subject: str) -> tuple[bytes, str | None]:
    with container.engine.connect() as conn:
        row = conn.execute(select(personal_data_keys.c.wrapped_key, personal_data_keys.c.key_id)
                           .where(personal_data_keys.c.subject_id == subject)).one()
    return row.wrapped_key, row.key_id


def test_a_supporter_filed_under_an_older_secret_is_found_and_not_registered_twice(
    container: Container, tmp_path: Path,
) -> None:
    first = register_supporter(container.commands, container.blind_index, FORM, META,
                               utc_now())
    rotated = with_key_ring(container, tmp_path / "var", SECOND, FIRST)

    with rotated.engine.connect() as conn:
        found = find_supporter_by_email(conn, rotated.blind_index, "grace.hopper@example.org")
    again = register_supporter(rotated.commands, rotated.blind_index, FORM, META, utc_now())

    assert found == again == first
    with container.engine.connect() as conn:
        assert len(conn.execute(select(supporters.c.supporter_id)).all()) == 1


def test_a_data_key_wrapped_before_key_ids_opens_and_is_rewrapped_under_the_newest_secret(
    container: Container,
) -> None:
    with container.engine.begin() as conn:
        sealed = Vault(FIRST).seal(conn, "supporter-old", "email", "old@example.org")
        conn.execute(update(personal_data_keys).values(key_id=None))  # as before 0024
    ring = Vault(KeyRing([SECOND, FIRST]))

    with container.engine.connect() as conn:
        assert ring.open(conn, "supporter-old", "email", sealed) == "old@example.org"
    page = ring.rewrap(container.engine)

    assert (page.rewrapped, page.gone, page.last_subject) == (1, 0, "supporter-old")
    assert wrapping(container, "supporter-old")[1] == key_id(SECOND)
    with container.engine.connect() as conn:
        assert Vault(SECOND).open(conn, "supporter-old", "email", sealed) == "old@example.org"
    assert ring.rewrap(container.engine).last_subject is None  # nothing left: it resumes


def test_a_data_key_under_a_secret_missing_from_the_ring_stops_the_rotation_unchanged(
    container: Container,
) -> None:
    with container.engine.begin() as conn:
        Vault(FIRST).seal(conn, "supporter-kept", "email", "kept@example.org")
    before = wrapping(container, "supporter-kept")
    env = command_env(DATABASE_URL=container.settings.database_url, SECRET_KEY=THIRD,
                      SECRET_KEY_PREVIOUS=SECOND)

    result = campaign("keys", "rotate", env=env)

    assert result.returncode == 1, describe(result)
    assert f"key id {key_id(FIRST)}, which is not in the key ring" in result.stderr
    assert "supporter-kept" not in result.stdout + result.stderr
    assert FIRST not in result.stdout + result.stderr
    assert wrapping(container, "supporter-kept") == before


def test_keys_status_counts_the_data_keys_each_secret_wraps(container: Container) -> None:
    with container.engine.begin() as conn:
        for n in range(3):
            Vault(FIRST).seal(conn, f"supporter-{n}", "email", f"{n}@example.org")
        Vault(SECOND).seal(conn, "supporter-new", "email", "new@example.org")
    env = command_env(DATABASE_URL=container.settings.database_url, SECRET_KEY=SECOND,
                      SECRET_KEY_PREVIOUS=FIRST)

    result = campaign("keys", "status", env=env)

    assert result.returncode == 0, describe(result)
    assert result.stdout.splitlines()[:2] == [
        f"SECRET_KEY\t{key_id(SECOND)}\t1 data keys",
        f"SECRET_KEY_PREVIOUS 1\t{key_id(FIRST)}\t3 data keys",
    ]


def test_a_rotation_that_sees_data_still_written_under_the_old_key_is_not_finished(
    container: Container, tmp_path: Path,
) -> None:
    register_supporter(container.commands, container.blind_index, FORM, META, utc_now())
    rotated = with_key_ring(container, tmp_path / "var", SECOND, FIRST)
    not_restarted = Vault(FIRST)  # a process still running with the old SECRET_KEY
    late: list[str] = []

    def meanwhile(progress: str) -> None:
        if progress.startswith("blind index") and not late:
            with container.engine.begin() as conn:
                late.append(not_restarted.seal(conn, "supporter-late", "email", "l@example.org"))

    first = rotate_keys(rotated.engine, rotated.vault, rotated.blind_index, meanwhile)
    second = rotate_keys(rotated.engine, rotated.vault, rotated.blind_index)

    assert (first.keys_rewrapped, first.keys_left, first.complete) == (1, 1, False)
    assert (second.keys_rewrapped, second.keys_left, second.complete) == (1, 0, True)
    with container.engine.connect() as conn:
        assert Vault(SECOND).open(conn, "supporter-late", "email", late[0]) == "l@example.org"

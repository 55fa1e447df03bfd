"""The vault: sealed values open only with their subject's key, one by one or many at once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from events.personal_data import KEYS_PER_QUERY, MASK, Vault, seal_with
from events.schema import personal_data_keys

SECRET = "vault-test-secret-" + "v" * 32


def test_many_subjects_open_with_keys_read_up_front_and_a_forgotten_one_is_masked(
    engine: Engine,
) -> None:
    vault = Vault(SECRET)
    subjects = [f"supporter-{n}" for n in range(KEYS_PER_QUERY + 5)]  # more than one query
    with engine.begin() as conn:
        sealed = {s: vault.seal(conn, s, "email", f"{s}@example.org") for s in subjects}
        vault.forget(conn, subjects[3])

    with engine.connect() as conn:
        opener = vault.opener(conn, [*subjects, "supporter-never-sealed"])
        one_by_one = {s: vault.open(conn, s, "email", sealed[s]) for s in subjects}

    opened = {s: opener.open(s, "email", sealed[s]) for s in subjects}
    assert opened == one_by_one
    assert opened[subjects[3]] == MASK
    assert opened[subjects[4]] == "supporter-4@example.org"
    assert opener.open(subjects[5], "name", sealed[subjects[5]]) == MASK  # another field's value
    assert opener.open(subjects[6], "email", sealed[subjects[5]]) == MASK  # another's value
    assert opener.open("supporter-never-sealed", "email", "pd1:AAAA") == MASK


def test_a_key_made_for_loading_in_bulk_opens_what_was_sealed_with_it_once_its_row_is_stored(
    engine: Engine,
) -> None:
    vault = Vault(SECRET)
    key, row = vault.new_key_row("supporter-bulk")
    sealed = seal_with(key, "supporter-bulk", "email", "bulk@example.org")
    with engine.begin() as conn:
        assert vault.open(conn, "supporter-bulk", "email", sealed) == MASK  # no row yet
        conn.execute(personal_data_keys.insert().values(**row, created_at=datetime.now(UTC)))

    with engine.connect() as conn:
        assert vault.open(conn, "supporter-bulk", "email", sealed) == "bulk@example.org"
        assert vault.opener(conn, ["supporter-bulk"]).open(
            "supporter-bulk", "email", sealed) == "bulk@example.org"
        assert vault.open(conn, "supporter-bulk", "name", sealed) == MASK  # bound to its field

"""The vault: sealed values open only with their subject's key, one by one or many at once."""

from __future__ import annotations

from sqlalchemy import Engine

from events.personal_data import KEYS_PER_QUERY, MASK, Vault

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

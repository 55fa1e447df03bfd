"""Every migration says whether the code before it runs on its schema (rolling deploys)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from campaign.infra.database import MIGRATIONS_DIR, alembic_config

FIRST_DECLARED = 17
"""Migrations before 0017 came before rolling deploys: without the flag they count as not
compatible, which is always safe (the old processes are stopped before the release)."""


def test_every_migration_since_rolling_deploys_declares_whether_it_is_compatible() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()
    undeclared = [script.revision for script in scripts
                  if int(script.revision) >= FIRST_DECLARED
                  and not isinstance(getattr(script.module, "compatible_with_previous", None),
                                     bool)]

    assert undeclared == []


def test_a_new_migration_starts_as_not_compatible_until_its_author_says_otherwise() -> None:
    template = (MIGRATIONS_DIR / "script.py.mako").read_text()

    assert "\ncompatible_with_previous = False\n" in template


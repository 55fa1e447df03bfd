"""The house stays legible: few modules at the root of campaign/, none of them long."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LONGEST = 400
SCHEMA = Path("campaign/infra/tables.py")  # a list of tables: long by nature


def test_the_root_of_campaign_holds_only_the_wiring_the_settings_and_the_entry_points() -> None:
    found = sorted(p.name for p in (ROOT / "campaign").glob("*.py"))

    assert found == ["__init__.py", "bootstrap.py", "gunicorn_config.py", "wsgi.py"]


def test_no_module_is_longer_than_400_lines() -> None:
    long = {str(path.relative_to(ROOT)): lines
            for folder in ("campaign", "events", "workers")
            for path in (ROOT / folder).rglob("*.py")
            if path.relative_to(ROOT) != SCHEMA
            and (lines := len(path.read_text().splitlines())) > LONGEST}

    assert long == {}

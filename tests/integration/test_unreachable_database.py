"""Every process started against a database it cannot reach says so in one line and exits.

No traceback: an operator reading the log of a failed deploy needs the fault, not the stack.
The password in DATABASE_URL is never printed.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.commands import BIN, SECRET_KEY, command_env, describe, run

PASSWORD = "s3cret-pw"

STARTS = {
    "web (gunicorn's app)": [str(BIN / "python"), "-c", "import campaign.wsgi"],
    "worker and clock": [str(BIN / "python"), "-c", "import workers.main"],
    "campaign db current": [str(BIN / "campaign"), "db", "current"],
    "campaign db upgrade": [str(BIN / "campaign"), "db", "upgrade"],
    "campaign demo": [str(BIN / "campaign"), "demo"],
    "campaign tokens create": [str(BIN / "campaign"), "tokens", "create", "--role", "viewer",
                               "--name", "me"],
    "campaign run": [str(BIN / "campaign"), "run", "--port", "0"],
}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unreachable(kind: str, tmp_path: Path) -> str:
    """A PostgreSQL server that refuses connections, or an SQLite file that cannot exist."""
    if kind == "refused port":
        return f"postgresql://campaign:{PASSWORD}@127.0.0.1:{closed_port()}/campaign"
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'campaign.sqlite3'}"


# `db upgrade` creates the SQLite file's directory: a missing one is not unreachable to it.
CASES = [(start, kind) for start in STARTS for kind in ("refused port", "missing directory")
         if (start, kind) != ("campaign db upgrade", "missing directory")]


@pytest.mark.parametrize("start, kind", CASES)
def test_an_unreachable_database_at_start_is_one_line_naming_the_fault(
    tmp_path: Path, start: str, kind: str
) -> None:
    env = command_env(DATABASE_URL=unreachable(kind, tmp_path), SECRET_KEY=SECRET_KEY,
                      VAR_DIR=str(tmp_path / "var"))

    result = run(*STARTS[start], env=env, timeout=45)

    assert result.returncode != 0, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    assert len(result.stderr.strip().splitlines()) == 1, describe(result)
    assert "cannot reach the database" in result.stderr, describe(result)
    assert PASSWORD not in result.stderr + result.stdout

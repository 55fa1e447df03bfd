"""The product as it runs in production, for end-to-end tests: the Procfile's release, web,
worker and clock processes on PostgreSQL and Redis, mail to the fake SendGrid through the
real client, webhooks to a partner verifying them with the reference library.

Tests speak to it over HTTP as strangers do (`http`, from a client address of their own so
that rate limits count each test apart) and read its database as an operator would.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import requests
from dramatiq.brokers.stub import StubBroker
from sqlalchemy import select

from campaign.bootstrap import Container, build
from campaign.infra.tables import mail_recipient_failures
from campaign.settings import Settings
from tests.commands import BIN, SECRET_KEY, command_env, describe, run
from tests.databases import PostgresDatabases
from tests.e2e.processes import (
    Process,
    free_port,
    http_status,
    procfile,
    running,
    start,
    wait_for,
)
from tests.fakes.partner_receiver import PartnerReceiver
from tests.fakes.sendgrid_server import FakeSendGrid, Mail

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_BASE_URL = "https://ua.example.org"
LINK = re.compile(re.escape(PUBLIC_BASE_URL) + r"/[^\s\"'<>]+")
REDIS_DB = 6  # away from the db 0 the other tests use, and from test_processes' 5
_clients = itertools.count(1)


@dataclass
class Production:
    """The running processes, the servers they talk to, and ways to reach both."""

    base: str
    env: dict[str, str]
    processes: list[Process]
    sendgrid: FakeSendGrid
    partner: PartnerReceiver
    container: Container
    """Built on the same database and secret as the processes: for seeding and reading."""
    admin: dict[str, str] = field(default_factory=dict)
    campaigner: dict[str, str] = field(default_factory=dict)

    def client(self) -> requests.Session:
        """A session from a client address of its own (the web trusts one proxy hop)."""
        session = requests.Session()
        session.headers["X-Forwarded-For"] = f"203.0.113.{next(_clients) % 250 + 1}"
        return session

    def url(self, path_or_link: str) -> str:
        """A path, or a link from one of our e-mails, as a URL of the running web process."""
        parts = urlsplit(path_or_link)
        return f"{self.base}{parts.path}" + (f"?{parts.query}" if parts.query else "")

    def wait(self, probe: Any, what: str, timeout: float = 60.0) -> Any:
        """`wait_for`, failing at once when one of the processes has exited."""
        return wait_for(probe, what, timeout=timeout, processes=self.processes)

    def mail_to(self, email: str, category: str, timeout: float = 60.0) -> Mail:
        """The first e-mail of `category` the fake SendGrid rendered for `email`."""
        def found() -> Mail | None:
            mails = [m for m in self.sendgrid.mails(category) if m.to["email"] == email]
            return mails[0] if mails else None
        mail: Mail = self.wait(found, f"a {category} e-mail to {email}", timeout)
        return mail

    def recipient_failures(self) -> dict[str, str]:
        """What operators see: each supporter whose e-mail could not be made, and why."""
        with self.container.engine.connect() as conn:
            rows = conn.execute(select(mail_recipient_failures)).all()
        return {row.supporter_id: row.reason for row in rows}

    def logs(self) -> str:
        return "\n".join(process.output() for process in self.processes)


def links_in(mail: Mail) -> list[str]:
    """Every link to the product in an e-mail's text part, in order."""
    return LINK.findall(mail.text)


@contextmanager
def production(postgres_databases: PostgresDatabases, redis_server_url: str, workdir: Path,
               prepare: Callable[[Container], None] = lambda _: None,
               settings: Mapping[str, str] | None = None) -> Iterator[Production]:
    """Release, `prepare` the database, then run web, worker and clock until the block
    ends; stop them as a deploy would (SIGTERM) and check each exited cleanly.

    `settings` are environment variables to set besides the defaults (`LOG_FORMAT`, …)."""
    redis_url = redis_server_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(redis_url).flushdb()
    port = free_port()
    with FakeSendGrid() as sendgrid, PartnerReceiver() as partner, \
            postgres_databases.empty() as database_url:
        env = command_env(
            DATABASE_URL=database_url, REDIS_URL=redis_url, SECRET_KEY=SECRET_KEY,
            PORT=str(port), WEB_CONCURRENCY="2", WORKER_PROCESSES="1", WORKER_THREADS="4",
            SENDGRID_API_KEY=sendgrid.api_key, SENDGRID_API_HOST=sendgrid.url,
            PUBLIC_BASE_URL=PUBLIC_BASE_URL, MAIL_FROM="Urgent Actions <ua@example.org>",
            WEBHOOK_ALLOW_PRIVATE="1", TRUSTED_PROXY_HOPS="1", VAR_DIR=str(workdir / "var"),
            **(settings or {}),
        )
        commands = procfile(ROOT / "Procfile", env)
        released = run(*commands["release"], env=env, cwd=ROOT)
        assert released.returncode == 0, describe(released)
        container = build(Settings.from_env(env), broker=StubBroker())
        prepare(container)
        with running([start(name, commands[name], env, workdir)
                      for name in ("web", "worker", "clock")]) as processes:
            base = f"http://127.0.0.1:{port}"
            stack = Production(base, env, processes, sendgrid, partner, container)
            stack.wait(lambda: http_status(f"{base}/readyz") == 200 or None, "web /readyz")
            stack.admin = _token(env, "admin")
            stack.campaigner = _token(env, "campaigner")
            try:
                yield stack
            finally:
                container.engine.dispose()
        exits = {p.name: p.popen.returncode for p in processes}
        assert exits == {"web": 0, "worker": 0, "clock": 0}, exits


def _token(env: dict[str, str], role: str) -> dict[str, str]:
    """A campaigner token made as an operator makes one: `campaign tokens create`."""
    made = run(str(BIN / "campaign"), "tokens", "create", "--role", role, "--name",
               f"e2e {role}", env=env, cwd=ROOT)
    assert made.returncode == 0, describe(made)
    return {"Authorization": f"Bearer {made.stdout.strip()}"}

"""The product as a supporter's browser meets it: `campaign run` on a free port.

The embedded default (`make run`): a temporary SQLite database, the worker threads and the
clock inside the web process, and the file transport writing every e-mail as an `.eml`
file into the outbox. Tests reach it as strangers do, over HTTP: the browser for pages,
`Api` for what campaigners and the API's public endpoints do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import uuid4

import requests

from campaign.demo import ua_135_10 as seed
from campaign.domain.codec import to_plain
from campaign.infra.clock import utc_now
from campaign.settings import RateLimits
from tests.browser.outbox import Outbox
from tests.commands import BIN, SECRET_KEY, campaign, command_env, describe
from tests.e2e.processes import Process, free_port, http_status, start, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]
GENEROUS = "10000 per minute"
"""Every rate limit, in tests: one browser signs many people up from one address.
The limits themselves are tested in tests/integration/api."""


class Api(requests.Session):
    """The product's HTTP API: paths are relative to its base URL (`api.get("/readyz")`);
    a whole URL (a link from an e-mail) is taken as it is."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url
        if token is not None:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        path = url.decode() if isinstance(url, bytes) else url
        whole = path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"
        return super().request(method, whole, *args, **kwargs)


@dataclass
class Product:
    """The running product, its outbox, and API clients for each kind of caller."""

    base_url: str
    env: dict[str, str]
    process: Process
    outbox: Outbox
    campaigner: Api
    """A campaigner's token: draft, launch, update and read actions and cases."""
    admin: Api
    """An admin's token: supporters' data, partners, tokens."""
    public: Api
    """No token: what anyone may call (sign up, request a manage link)."""

    def url(self, path: str) -> str:
        """`path` on the product: `product.url("/join")`."""
        return f"{self.base_url}{path}"

    def operator(self, *args: str) -> str:
        """Run `campaign ARGS...` against the product, as its operator; returns stdout."""
        return _succeeds(self.env, *args)

    def log(self) -> str:
        """Everything the product has written to stdout and stderr so far."""
        return self.process.output()

    def sign_up(self, email: str, name: str = "Ada Lovelace", locale: str = "en",
                country: str = "GB", timezone: str = "Europe/London") -> None:
        """Sign `email` up through the public API; the confirmation e-mail follows."""
        body = {"email": email, "name": name, "locale": locale, "country": country,
                "timezone": timezone}
        response = self.public.post("/api/v1/supporters", json=body)
        assert response.status_code == 202, response.text

    def launch_seed_action(self, translations: Mapping[str, Mapping[str, Any]] | None = None,
                           **changes: Any) -> dict[str, Any]:
        """UA 135/10 drafted anew, translated, and launched through the API; returns the
        launched action.

        The seed (`campaign demo`, loaded when the product started) launched its action in
        2010, and its deadline has passed; this is a fresh action (new id) with its text and
        targets, about its case, issued a week ago with a deadline a month away. `changes`
        replace fields of the request body (`language="ar"`: written in Arabic);
        `translations` are added before the launch, by language (`seed_translation("ru")`).
        Confirmed supporters receive it by e-mail, each in their language when it exists in
        it: `outbox.wait_for(to=..., kind="action_launched", action_id=action["action_id"])`.
        """
        return self.launch(self.draft_seed_action(translations, **changes))

    def draft_seed_action(self, translations: Mapping[str, Mapping[str, Any]] | None = None,
                          **changes: Any) -> str:
        """UA 135/10 drafted anew (see `launch_seed_action`) with `translations` added, as a
        campaigner prepares an action before launching it; returns the draft's id."""
        today = utc_now().date()
        body = {**to_plain(seed.CONTENT),
                "issued_on": (today - timedelta(days=7)).isoformat(),
                "deadline": {"on": (today + timedelta(days=30)).isoformat(),
                             "timezone": seed.TIMEZONE},
                **changes}
        drafted = self.campaigner.post("/api/v1/actions", json=body)
        assert drafted.status_code == 201, drafted.text
        action_id: str = drafted.json()["action_id"]
        etag = drafted.headers["ETag"]
        for language, text in (translations or {}).items():
            translated = self.campaigner.put(
                f"/api/v1/actions/{action_id}/translations/{language}", json=dict(text),
                headers={"If-Match": etag})
            assert translated.status_code == 200, translated.text
            etag = translated.headers["ETag"]
        return action_id

    def launch(self, action_id: str) -> dict[str, Any]:
        """Launch the drafted action `action_id` through the API; returns the action."""
        url = f"/api/v1/actions/{action_id}"
        etag = self.campaigner.get(url).headers["ETag"]
        launched = self.campaigner.post(f"{url}/launch", headers={"If-Match": etag})
        assert launched.status_code == 200, launched.text
        action: dict[str, Any] = launched.json()
        return action


def unique_email(who: str = "supporter") -> str:
    """An address no other test of the session uses: the product lives for the session."""
    return f"{who}.{uuid4().hex[:12]}@example.org"


@contextmanager
def running_product(workdir: Path) -> Iterator[Product]:
    """Migrate, then serve with `campaign run` until the block ends; meanwhile load the
    seed and make two tokens, as an operator would with the `campaign` command.

    The seed (`campaign demo`: the case of Azimzhan Askarov, UA 135/10 and four demo
    supporters) is loaded before any test signs anyone up, so its launch e-mail of 2010
    goes to the demo supporters only. The three commands run while the product starts
    (SQLite takes one writer at a time and waits for the others): a few seconds saved.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    var = workdir / "var"
    env = command_env(
        VAR_DIR=str(var), SECRET_KEY=SECRET_KEY, PUBLIC_BASE_URL=base_url,
        MAIL_FROM="Urgent Actions <ua@example.org>",
        **{f"RATE_LIMIT_{name.upper()}": GENEROUS for name in vars(RateLimits())},
    )
    operator = partial(_succeeds, env)
    operator("db", "upgrade")
    argv = [str(BIN / "campaign"), "run", "--host", "127.0.0.1", "--port", str(port)]
    process = start("product", argv, env, workdir)
    try:
        with ThreadPoolExecutor() as pool:
            seeded = pool.submit(operator, "demo")
            campaigner, admin = pool.map(
                lambda role: operator("tokens", "create", "--role", role, "--name",
                                      f"browser tests {role}").strip(),
                ("campaigner", "admin"))
            seeded.result()
        wait_for(lambda: http_status(f"{base_url}/readyz") == 200 or None,
                 f"{base_url}/readyz", processes=[process])
        yield Product(base_url, env, process, Outbox(var / "outbox", process),
                      Api(base_url, campaigner), Api(base_url, admin), Api(base_url))
    finally:
        stop([process])


def _succeeds(env: dict[str, str], *args: str) -> str:
    """Run `campaign ARGS...`, fail with its output unless it succeeds; return its stdout."""
    done = campaign(*args, env=env, cwd=ROOT)
    assert done.returncode == 0, describe(done)
    return done.stdout

"""Link tokens never reach the logs: the development server's request log shows them redacted.

A real werkzeug server (what `campaign run` serves with) answers real HTTP requests for the
pages whose URLs carry tokens; its request log is read as an operator would read it.
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from campaign.bootstrap import Container
from campaign.mail.links import MailLinks
from tests.integration.api.conftest import Person


@pytest.fixture
def server(app: Flask) -> Iterator[BaseWSGIServer]:
    running = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    thread.join()


def fetch(url: str, method: str = "GET") -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method)) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_the_development_server_logs_page_requests_without_their_tokens(
    server: BaseWSGIServer, container: Container, supporter: Person, launched_action: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    base = f"http://127.0.0.1:{server.server_port}"
    links = MailLinks(base, container.links)
    urls = [links.pledge(launched_action, supporter.supporter_id),
            links.confirm(supporter.supporter_id), links.unsubscribe(supporter.supporter_id),
            f"{base}/manage/{container.links.sign('manage', supporter.supporter_id)}"]
    tokens = [urlsplit(url).query.removeprefix("token=") or urlsplit(url).path.rsplit("/")[-1]
              for url in urls]

    statuses = [fetch(url) for url in urls] + [fetch(urls[1], "POST")]

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "werkzeug")
    for token in tokens:
        assert len(token) > 20 and token not in logged
    assert logged.count("[redacted]") == len(statuses), logged
    assert f"/act/{launched_action}?token=[redacted]" in logged
    assert statuses == [200, 200, 200, 200, 200]

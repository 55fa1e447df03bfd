"""A console session opened before SECRET_KEY was replaced carries on after it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from campaign.bootstrap import Container
from campaign.infra.tables import console_sessions
from campaign.web.app import create_app
from tests.integration.console.signing_in import ConsoleClient
from tests.key_rings import FIRST, SECOND, with_key_ring


def test_a_session_and_its_csrf_token_from_before_a_rotation_still_work(
        console_as: Callable[..., ConsoleClient], container: Container, tmp_path: Path,
) -> None:
    before = console_as("campaigner")
    cookie = before.client.get_cookie("console", path="/console")
    assert cookie is not None

    rotated = create_app(with_key_ring(container, tmp_path / "var", SECOND, FIRST))
    after = ConsoleClient(rotated.test_client(), before.token_id, before.token, before.csrf)
    after.client.set_cookie("console", cookie.value, domain=cookie.domain, path="/console")

    assert after.get("/console/").status_code == 200  # still signed in
    out = after.post("/console/logout")  # a form of a page shown before the rotation
    assert out.status_code == 303, out.get_data(as_text=True)
    with container.engine.connect() as conn:
        assert conn.execute(select(console_sessions.c.ended_reason)).scalar_one() == "logout"

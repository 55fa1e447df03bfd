"""Every HTML page is locked down: a strict CSP, no framing, no sniffing, no referrer.

The pages' URLs carry signed tokens, so no page may leak its URL in a Referer header, be
framed by another site, or run anything the app did not serve itself.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from tests.integration.api.conftest import Person


def directives(response: Any) -> dict[str, str]:
    policy = response.headers.get("Content-Security-Policy", "")
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def assert_locked_down(response: Any) -> None:
    policy = directives(response)
    assert policy.get("default-src") == "'self'", response.headers
    assert policy.get("frame-ancestors") == "'none'", response.headers
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "no-referrer"


def pages(client: FlaskClient, container: Container, action_id: str, person: Person,
          ) -> dict[str, Any]:
    """Every supporter page, as a link in an e-mail opens it, and its refusals."""
    sid = person.supporter_id
    act = f"/act/{action_id}?token={container.links.sign_action(sid, action_id)}"
    confirm = f"/confirm/{container.links.sign('confirm', sid)}"
    unsubscribe = f"/unsubscribe/{container.links.sign('unsubscribe', sid)}"
    manage = f"/manage/{container.links.sign('manage', sid)}"
    return {
        "manage, ask": client.get("/manage"),
        "manage, asked": client.post("/manage", data={"email": "someone@example.org"}),
        "manage": client.get(manage),
        "manage, form refused": client.post(manage, data={"do": "preferences"}),
        "manage, erase asked": client.get(f"{manage}/erase"),
        "manage, forged link": client.get("/manage/forged"),
        "act": client.get(act),
        "act, forged link": client.get(f"/act/{action_id}?token=forged"),
        "act, form refused": client.post(act, data={"do": "pledge", "letters": "many"}),
        "confirm": client.get(confirm),
        "confirmed": client.post(confirm),
        "confirm, forged link": client.get("/confirm/forged"),
        "unsubscribe": client.get(unsubscribe),
        "unsubscribed": client.post(unsubscribe),
    }


def test_every_supporter_page_sends_a_strict_policy(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person
) -> None:
    found = pages(client, container, launched_action, supporter)
    assert [found[name].status_code for name in ("act", "act, form refused", "confirm")] == [
        200, 422, 200]
    assert [found[name].status_code for name in ("manage", "manage, form refused")] == [200, 422]
    for name, response in found.items():
        assert response.mimetype == "text/html", name
        assert_locked_down(response)


def test_pages_carry_no_inline_style_or_script_and_link_a_stylesheet_the_app_serves(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person
) -> None:
    for name, response in pages(client, container, launched_action, supporter).items():
        html = response.get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, name
        assert not re.search(r"<[^>]*\son[a-z]+=", html), name  # no inline handlers
        assert not re.search(r"<script(?![^>]* src=)", html), name  # served scripts only
        sheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
        assert sheet is not None, name
        served = client.get(sheet[1])
        assert served.status_code == 200 and served.mimetype == "text/css"
        assert_locked_down(served)
        for script in re.findall(r'<script src="([^"]+)"', html):
            served = client.get(script)
            assert served.status_code == 200 and served.mimetype == "text/javascript", script
            assert_locked_down(served)


def test_the_api_docs_page_gets_the_narrowest_policy_that_lets_swagger_ui_run(
    client: FlaskClient,
) -> None:
    response = client.get("/api/docs")

    assert response.status_code == 200
    policy = directives(response)
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    script = policy["script-src"].split()
    assert "'self'" in script
    assert "unsafe" not in response.headers["Content-Security-Policy"]  # no inline, no eval
    hashes = [s for s in script if s.startswith("'sha256-")]
    assert len(hashes) == 1, policy  # the page's one inline script, by its hash
    assert policy["img-src"] == "'self' data:"  # Swagger UI's icons
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_docs_policy_allows_exactly_the_inline_script_the_page_carries(
    client: FlaskClient,
) -> None:
    response = client.get("/api/docs")
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(inline) == 1
    digest = base64.b64encode(hashlib.sha256(inline[0].encode()).digest()).decode()

    assert f"'sha256-{digest}'" in directives(response)["script-src"].split()

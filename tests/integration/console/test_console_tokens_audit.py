"""Tokens and audit in the console (S8, admin), through the test client."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from campaign.application.access import caller_for_token
from campaign.application.commands import Meta
from campaign.application.operations import skip
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.infra.clock import utc_now
from campaign.infra.tables import api_tokens
from campaign.mail.sending import DISPATCHER
from events import SubscriptionRunner
from tests.integration.console.signing_in import ConsoleClient
from tests.stuck import stick_the_mail_dispatcher

SECRET = re.compile(r'data-testid="new-token-secret">(uat_[^<]+)<')


def test_an_admin_makes_a_token_seen_once_with_its_maker_and_address(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    admin = console_as("admin")

    made = admin.post("/console/tokens", data={"name": "Maria", "role": "viewer",
                                               "email": "maria@example.org"})

    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    found = SECRET.search(made.get_data(as_text=True))
    assert found
    secret = found[1]
    caller = caller_for_token(container.engine, secret)
    assert caller is not None and caller.role == "viewer"
    listing = admin.get("/console/tokens").get_data(as_text=True)
    assert secret not in listing and "maria@example.org" in listing
    assert f"token:{admin.token_id}" in listing  # who made it
    with container.engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.token_id == caller.id)).one()
    assert (row.created_by, row.email) == (f"token:{admin.token_id}", "maria@example.org")


def test_a_bad_form_is_shown_again_with_what_is_wrong_and_makes_nothing(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    admin = console_as("admin")
    with container.engine.connect() as conn:
        before = len(conn.execute(select(api_tokens.c.token_id)).all())

    refused = admin.post("/console/tokens", data={"name": "", "role": "owner",
                                                  "email": "nope"})

    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert all(f"<strong>{field}</strong>" in text for field in ("name", "role", "email"))
    with container.engine.connect() as conn:
        assert len(conn.execute(select(api_tokens.c.token_id)).all()) == before


def test_changing_a_role_or_revoking_ends_that_tokens_console_session(
    console_as: Callable[..., ConsoleClient]
) -> None:
    admin, viewer, other = console_as("admin"), console_as("viewer"), console_as("viewer")

    changed = admin.post(f"/console/tokens/{viewer.token_id}/role", data={"role": "campaigner"})
    revoked = admin.post(f"/console/tokens/{other.token_id}/revoke")

    assert changed.status_code == revoked.status_code == 303
    for signed_out in (viewer, other):
        page = signed_out.get("/console/cases")
        assert page.status_code == 303 and "/console/login" in page.headers["Location"]
    listing = admin.get("/console/tokens").get_data(as_text=True)
    row = re.search(rf'data-token-id="{other.token_id}" data-revoked="(\w+)"', listing)
    assert row and row[1] == "yes"
    assert admin.post(f"/console/tokens/{other.token_id}/revoke").status_code == 404


def test_tokens_and_audit_are_for_admins_only(console_as: Callable[..., ConsoleClient]) -> None:
    campaigner = console_as("campaigner")

    assert campaigner.get("/console/tokens").status_code == 403
    assert campaigner.get("/console/audit").status_code == 403
    assert campaigner.post("/console/tokens", data={"name": "x", "role": "admin"}
                           ).status_code == 403
    assert 'href="/console/tokens"' not in campaigner.get("/console/cases").get_data(
        as_text=True)


def test_the_audit_page_shows_who_did_what_and_the_sign_ins(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    admin = console_as("admin")
    campaigner = console_as("campaigner")
    campaigner_actor = f"token:{campaigner.token_id}"
    admin.post("/console/tokens", data={"name": "Audited", "role": "viewer"})
    container.commands.handle(seed.OPEN_CASE, Meta(actor=campaigner_actor, correlation_id="a"))
    SubscriptionRunner(container.store, container.subscriptions["audit"]).run()

    page = admin.get(f"/console/audit?actor={campaigner_actor}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.count('data-testid="audit-row"') == 1
    assert "CaseOpened" in text and f"case-{seed.CASE_ID}" in text
    assert text.count('data-testid="sign-in-row"') >= 2


def test_the_audit_page_shows_who_skipped_which_stuck_event_and_why(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    admin = console_as("admin")
    position = stick_the_mail_dispatcher(container)
    skip(container.commands, DISPATCHER, position, "Ana <on call>", "a withdrawn action's mail",
         Meta(actor="cli", correlation_id="ops"), utc_now())
    SubscriptionRunner(container.store, container.subscriptions["audit"]).run()

    page = admin.get("/console/audit?type=SubscriptionEventSkipped")

    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.count('data-testid="audit-row"') == 1
    assert text.count('data-testid="audit-note"') == 1
    assert (f"{DISPATCHER} skipped position {position} (MailingPlanned" in text
            and "by Ana &lt;on call&gt;: a withdrawn action&#39;s mail" in text)

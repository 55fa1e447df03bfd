"""The action editor's pages through the test client: its forms, their refusals, its roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.infra.clock import utc_now
from campaign.infra.tables import actions
from tests.integration.console.forms import filled_form
from tests.integration.console.signing_in import ConsoleClient


def draft_form(**changes: Any) -> dict[str, Any]:
    """The new-action form as a campaigner fills it in: two officials, two asks."""
    today = utc_now().date()
    return {
        "ua_number": "135/10", "index_number": "EUR 58/015/2010", "country": "KG",
        "issued_on": today.isoformat(), "title": "Human rights defender jailed for life",
        "summary": "Azimzhan Askarov was sentenced to life.", "body": "Background.",
        "ask": ["Release him at once;", "Ensure a fair appeal."],
        "additional_information": "", "deadline_on": (today + timedelta(days=30)).isoformat(),
        "deadline_time": "", "deadline_timezone": "Asia/Bishkek", "language": "en",
        "languages": "ru, ky, en", "own_language_welcome": "on",
        "t_target_id": ["", ""], "t_name": ["Kubatbek Baibolov", "Aibek Alymkulov"],
        "t_title": ["Minister of Internal Affairs", "General Prosecutor"],
        "t_organisation": ["", ""], "t_salutation": ["Dear Minister", "Dear Prosecutor"],
        "t_address": ["Frunze Street, 469\nBishkek 720040", "Kievskaya Street, 116"],
        "t_country": ["KG", "KG"], "t_fax": ["+996 312 68 20 44", ""],
        "t_email": ["pressa@mail.mvd.kg", ""], "t_role": ["primary", "primary"],
        "source_links": "", "do": "save", **changes,
    }


def action_count(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(actions)).scalar_one())


def new_draft(page: ConsoleClient, **changes: Any) -> str:
    response = page.post(f"/console/cases/{seed.CASE_ID}/actions/new", draft_form(**changes))
    assert response.status_code == 303, response.get_data(as_text=True)
    location: str = response.headers["Location"]
    return location.split("/console/actions/")[1].split("/")[0]


def test_a_draft_with_two_officials_is_saved_and_shown_as_a_draft(
    console_as: Callable[..., ConsoleClient], seed_case: str,
) -> None:
    page = console_as("campaigner")
    found = page.get("/console/actions/new", query_string={"case_id": seed_case})
    assert found.headers["Location"].endswith(f"/console/cases/{seed_case}/actions/new")
    more = page.post(f"/console/cases/{seed_case}/actions/new", draft_form(do="add_target"))
    assert more.status_code == 200
    assert 'data-testid="target-2"' in more.get_data(as_text=True)  # a third, empty one

    action_id = new_draft(page)

    shown = page.get(f"/console/actions/{action_id}/edit").get_data(as_text=True)
    assert 'data-testid="status">draft<' in shown
    assert "Kubatbek Baibolov" in shown and "Aibek Alymkulov" in shown
    assert f'href="/console/actions/{action_id}"' in shown  # its dashboard


def test_a_form_the_rules_refuse_is_shown_again_with_the_message_and_nothing_stored(
    console_as: Callable[..., ConsoleClient], container: Container, seed_case: str,
) -> None:
    page = console_as("campaigner")

    refused = page.post(f"/console/cases/{seed_case}/actions/new",
                        draft_form(ua_number="one-three-five", deadline_timezone="Mars/Base"))

    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'data-testid="form-errors"' in html
    assert "<strong>UA number</strong>" in html and "<strong>deadline timezone</strong>" in html
    assert "Kubatbek Baibolov" in html  # what was typed is kept
    assert action_count(container) == 0


def test_a_stale_form_is_a_409_explaining_the_conflict(
    console_as: Callable[..., ConsoleClient], seed_case: str,
) -> None:
    page = console_as("campaigner")
    action_id = new_draft(page)
    assert page.post(f"/console/actions/{action_id}/edit",
                     draft_form(title="Revised", version="1")).status_code == 303

    stale = page.post(f"/console/actions/{action_id}/launch", {"version": "1"})

    assert stale.status_code == 409
    assert "Someone else changed this action" in stale.get_data(as_text=True)
    assert 'data-testid="status">draft<' in page.get(
        f"/console/actions/{action_id}/edit").get_data(as_text=True)


def test_an_outdated_translation_holds_the_launch_until_it_is_redone(
    console_as: Callable[..., ConsoleClient], seed_case: str,
) -> None:
    page = console_as("campaigner")
    action_id = new_draft(page)
    russian = {"title": "ПРАВОЗАЩИТНИК", "summary": "Кратко.", "body": "Подробно.",
               "ask": ["Освободить;", "Справедливая апелляция."], "additional_information": ""}
    assert page.post(f"/console/actions/{action_id}/translations/ru",
                     {**russian, "version": "1"}).status_code == 303
    assert page.post(f"/console/actions/{action_id}/edit",
                     draft_form(body="Changed.", version="2")).status_code == 303

    held = page.get(f"/console/actions/{action_id}/edit").get_data(as_text=True)
    assert 'data-testid="version-status-ru">outdated<' in held
    assert 'data-testid="launch" disabled' in held
    assert page.post(f"/console/actions/{action_id}/launch", {"version": "3"}).status_code == 409
    assert page.post(f"/console/actions/{action_id}/translations/ru",
                     {**russian, "version": "3"}).status_code == 303

    assert page.post(f"/console/actions/{action_id}/launch", {"version": "4"}).status_code == 303
    assert 'data-testid="status">live<' in page.get(
        f"/console/actions/{action_id}/edit").get_data(as_text=True)


def test_a_viewer_reads_the_editor_without_write_buttons_and_a_forged_post_is_403(
    console_as: Callable[..., ConsoleClient], drafted_action: str,
) -> None:
    viewer = console_as("viewer")

    shown = viewer.get(f"/console/actions/{drafted_action}/edit").get_data(as_text=True)

    assert 'data-testid="status">draft<' in shown
    assert 'data-testid="launch"' not in shown and 'data-testid="save-draft"' not in shown
    assert viewer.post(f"/console/actions/{drafted_action}/launch",
                       {"version": "1"}).status_code == 403
    assert viewer.get(f"/console/cases/{seed.CASE_ID}/actions/new").status_code == 403


def test_the_preview_frame_is_served_with_a_policy_that_runs_and_loads_nothing(
    console_as: Callable[..., ConsoleClient], drafted_action: str,
) -> None:
    viewer = console_as("viewer")
    query = {"language": "ru", "timezone": "Asia/Bishkek", "kind": "action_launched"}

    page = viewer.get(f"/console/actions/{drafted_action}/preview", query_string=query)
    framed = viewer.get(f"/console/actions/{drafted_action}/preview/email.html",
                        query_string=query)

    assert page.status_code == 200 and 'sandbox=""' in page.get_data(as_text=True)
    assert framed.status_code == 200 and "URGENT ACTION 135/10" in framed.get_data(as_text=True)
    policy = framed.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    assert "script-src" not in policy
    bad = viewer.get(f"/console/actions/{drafted_action}/preview",
                     query_string={"timezone": "Nowhere/Else"})
    assert bad.status_code == 422 and "Not a timezone" in bad.get_data(as_text=True)


def test_a_test_send_without_an_address_is_refused_with_the_reason_on_the_page(
    console_as: Callable[..., ConsoleClient], drafted_action: str,
) -> None:
    page = console_as("campaigner")

    refused = page.post(f"/console/actions/{drafted_action}/test-send",
                        {"kind": "action_launched", "language": "en", "timezone": "UTC"})

    assert refused.status_code == 409
    assert "no e-mail address" in refused.get_data(as_text=True)


def test_update_one_moves_the_deadline_and_the_stop_needs_a_reason_and_a_confirmation(
    console_as: Callable[..., ConsoleClient], container: Container, launched_action: str,
    sign_up: Callable[..., str], client: FlaskClient,
) -> None:
    token = container.links.sign("confirm", sign_up(locale="ru"))  # the e-mail's link
    assert client.post("/api/v1/supporters/confirm", json={"token": token}).status_code == 200
    page = console_as("campaigner")
    later = (utc_now() + timedelta(days=60)).date().isoformat()
    editor = page.get(f"/console/actions/{launched_action}/edit").get_data(as_text=True)
    assert 'data-testid="update-form"' in editor
    assert 'data-testid="recipients-en">' in editor  # no Russian version: English
    assert 'data-testid="recipients-total">1<' in editor
    form = update_form(launched_action, page, deadline_on=later)

    assert page.post(f"/console/actions/{launched_action}/updates", form).status_code == 303
    shown = page.get(f"/console/actions/{launched_action}/edit").get_data(as_text=True)
    assert 'data-testid="update-number">Update 1<' in shown and later in shown

    stop = filled_form(page.get(f"/console/actions/{launched_action}/stop").get_data(
        as_text=True), "stop-form")
    assert page.post(f"/console/actions/{launched_action}/stop", stop).status_code == 422
    confirm = page.post(f"/console/actions/{launched_action}/stop",
                        {**stop, "reason": "released"})
    assert confirm.status_code == 200
    assert 'data-testid="cancel-pledges">0<' in confirm.get_data(as_text=True)
    assert 'data-testid="status">live<' in page.get(
        f"/console/actions/{launched_action}/edit").get_data(as_text=True)
    stopped = page.post(f"/console/actions/{launched_action}/stop", filled_form(
        confirm.get_data(as_text=True), "stop-confirm-form"))
    assert stopped.status_code == 303
    assert 'data-testid="status">closed<' in page.get(
        f"/console/actions/{launched_action}/edit").get_data(as_text=True)


def update_form(action_id: str, page: ConsoleClient, **changes: str) -> dict[str, Any]:
    """The update form as the page fills it in (the action as it is now), with `changes`."""
    html = page.get(f"/console/actions/{action_id}/edit").get_data(as_text=True)
    return {**filled_form(html, "update-form"), **changes}


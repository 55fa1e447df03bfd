"""The partner pages (S6) through the test client: health, log, and the admin's writes."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from tests.integration.api.conftest import Headers, event_count
from tests.integration.api.partners import key_headers, open_seed_case, register
from tests.integration.console.signing_in import ConsoleClient

Console = Callable[..., ConsoleClient]


def test_every_role_reads_the_partner_pages_and_only_admins_see_and_use_the_forms(
    client: FlaskClient, container: Container, admin: Headers, console_as: Console,
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    page = f"/console/partners/{partner['partner_id']}"
    viewer, as_admin = console_as("viewer"), console_as("admin")

    listed = viewer.get("/console/partners").get_data(as_text=True)
    seen = viewer.get(page).get_data(as_text=True)
    managed = as_admin.get(page).get_data(as_text=True)

    assert 'data-testid="partner-row"' in listed and partner["name"] in listed
    assert 'data-testid="health-sparkline"' in seen
    assert 'data-testid="rotate-secret"' not in seen and 'data-testid="disable"' not in seen
    assert 'data-testid="rotate-secret"' in managed and 'data-testid="save-follows"' in managed
    before = event_count(container)
    for action in ("disable", "rotate-secret", "rotate-api-key", "follows", "replay"):
        assert viewer.post(f"{page}/{action}").status_code == 403
        assert console_as("campaigner").post(f"{page}/{action}").status_code == 403
    forged = as_admin.client.post(f"{page}/disable", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert event_count(container) == before
    assert viewer.get("/console/partners/nosuch").status_code == 404


def test_a_rotated_secret_is_shown_on_the_next_page_once_and_masked_after(
    client: FlaskClient, container: Container, admin: Headers, console_as: Console,
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    page = f"/console/partners/{partner['partner_id']}"
    as_admin = console_as("admin")

    rotated = as_admin.post(f"{page}/rotate-secret", data={"overlap_hours": "1"})
    shown = as_admin.get(rotated.headers["Location"])
    again = as_admin.get(rotated.headers["Location"])

    assert rotated.status_code == 303
    secret = re.search(r'data-testid="new-secret">(whsec_[^<]+)<', shown.get_data(as_text=True))
    assert secret is not None and secret[1] != partner["signing_secret"]
    assert shown.headers["Cache-Control"] == "no-store"
    assert secret[1] not in again.get_data(as_text=True)
    assert 'data-testid="secret-masked"' in again.get_data(as_text=True)
    assert secret[1] not in rotated.headers.get("Set-Cookie", "")
    refused = as_admin.post(f"{page}/rotate-secret", data={"overlap_hours": "9999"})
    assert refused.status_code == 422


def test_a_rotated_api_key_is_shown_once_and_the_old_key_stops(
    client: FlaskClient, container: Container, admin: Headers, console_as: Console,
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    page = f"/console/partners/{partner['partner_id']}"
    as_admin = console_as("admin")

    rotated = as_admin.post(f"{page}/rotate-api-key")
    shown = as_admin.get(rotated.headers["Location"]).get_data(as_text=True)

    key = re.search(r'data-testid="new-api-key">(uap_[^<]+)<', shown)
    assert key is not None
    assert client.get("/api/v1/feed", headers=key_headers(partner)).status_code == 401
    assert client.get("/api/v1/feed", headers={"Authorization": f"Bearer {key[1]}"}
                      ).status_code == 200
    assert key[1] not in as_admin.get(page).get_data(as_text=True)


def test_an_admin_changes_what_a_partner_follows_and_a_wrong_case_is_named(
    client: FlaskClient, container: Container, admin: Headers, console_as: Console,
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    page = f"/console/partners/{partner['partner_id']}"
    as_admin = console_as("admin")
    form = {"case_ids": "", "action_ids": "", "countries": "kg, ru",
            "event_types": ["action.launched", "action.closed"],
            "version": str(partner["version"])}

    wrong = as_admin.post(f"{page}/follows", data={**form, "case_ids": "no-such-case"})
    changed = as_admin.post(f"{page}/follows", data=form)
    stale = as_admin.post(f"{page}/follows", data={**form, "countries": "AM"})

    assert wrong.status_code == 422 and "no case no-such-case" in wrong.get_data(as_text=True)
    assert changed.status_code == 303
    shown = client.get(f"/api/v1/partners/{partner['partner_id']}", headers=admin).get_json()
    assert (shown["case_ids"], shown["countries"], shown["event_types"]) == (
        [], ["KG", "RU"], ["action.launched", "action.closed"])
    assert stale.status_code == 409 and "changed this partner meanwhile" in \
        stale.get_data(as_text=True)
    assert seed.CASE_ID not in as_admin.get(page).get_data(as_text=True).split(
        'data-testid="follows-cases">')[1].split("<")[0]


def test_disable_enable_and_a_replay_range_from_the_page(
    client: FlaskClient, container: Container, admin: Headers, console_as: Console,
) -> None:
    open_seed_case(container)
    partner = register(client, admin)
    page = f"/console/partners/{partner['partner_id']}"
    as_admin = console_as("admin")

    disabled = as_admin.post(f"{page}/disable")
    refused = as_admin.post(f"{page}/replay", data={"since": "0"})
    enabled = as_admin.post(f"{page}/enable")
    replayed = as_admin.post(f"{page}/replay", data={"since": "2000-01-01T00:00",
                                                     "until": "2000-01-02T00:00"})
    bad = as_admin.post(f"{page}/replay", data={"since": "yesterday"})

    assert disabled.status_code == enabled.status_code == replayed.status_code == 303
    assert refused.status_code == 409 and "enable it first" in refused.get_data(as_text=True)
    assert "replayed+0" in replayed.headers["Location"] or "replayed%200" in \
        replayed.headers["Location"]
    assert bad.status_code == 422 and "neither a log position" in bad.get_data(as_text=True)

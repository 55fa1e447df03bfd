"""Cases (S1) and a case's timeline (S2) in the console, through the test client."""

from __future__ import annotations

import re
from collections.abc import Callable

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from tests.integration.console.signing_in import ConsoleClient

HEARING = seed.SUPREME_COURT_HEARING.development_id
CASE_URL = f"/console/cases/{seed.CASE_ID}"


def version_of(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, "no decision form on the page"
    return found[1]


def test_the_list_and_the_timeline_count_the_same_pending_development(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    load_demo(container)
    viewer = console_as("viewer")

    listed = viewer.get("/console/cases?pending=1")
    page = viewer.get(CASE_URL)

    assert listed.status_code == page.status_code == 200
    text = listed.get_data(as_text=True)
    assert text.count('data-testid="case-row"') == 1 and seed.CASE_ID in text
    assert re.search(r'data-testid="case-pending" data-value="1"', text)
    html = page.get_data(as_text=True)
    assert re.search(r'data-testid="case-pending" data-value="1"', html)
    assert "awaiting approval" in html
    assert 'data-testid="approve-development"' not in html  # a viewer decides nothing


def test_a_campaigner_approves_and_the_entry_names_who_approved(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    load_demo(container)
    campaigner = console_as("campaigner")
    version = version_of(campaigner.get(CASE_URL).get_data(as_text=True))

    approved = campaigner.post(f"{CASE_URL}/developments/{HEARING}/approve",
                               data={"version": version})

    assert approved.status_code == 303
    html = campaigner.get(CASE_URL).get_data(as_text=True)
    assert (f'approved by <span class="actor" title="token:{campaigner.token_id}" '
            f'data-actor="token:{campaigner.token_id}">console campaigner '
            f"(token:{campaigner.token_id[:8]})</span>") in html
    assert 'data-kind="development_approved"' in html
    again = campaigner.post(f"{CASE_URL}/developments/{HEARING}/approve",
                            data={"version": str(int(version) + 1)})
    assert again.status_code == 409 and "not pending" in again.get_data(as_text=True)


def test_a_rejection_needs_a_reason_and_a_stale_page_is_told_so(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    load_demo(container)
    campaigner = console_as("campaigner")
    version = version_of(campaigner.get(CASE_URL).get_data(as_text=True))
    url = f"{CASE_URL}/developments/{HEARING}/reject"

    blank = campaigner.post(url, data={"version": version, "reason": " "})
    stale = campaigner.post(url, data={"version": str(int(version) - 1), "reason": "No."})
    done = campaigner.post(url, data={"version": version, "reason": "Not confirmed."})

    assert blank.status_code == 422 and 'data-testid="form-errors"' in blank.get_data(as_text=True)
    assert stale.status_code == 409 and "changed since" in stale.get_data(as_text=True)
    assert done.status_code == 303
    html = campaigner.get(CASE_URL).get_data(as_text=True)
    assert (f'rejected by <span class="actor" title="token:{campaigner.token_id}" '
            f'data-actor="token:{campaigner.token_id}">console campaigner '
            f"(token:{campaigner.token_id[:8]})</span>") in html and "Not confirmed." in html


def test_a_viewer_cannot_approve_even_with_a_forged_form(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    load_demo(container)
    viewer = console_as("viewer")

    refused = viewer.post(f"{CASE_URL}/developments/{HEARING}/approve", data={"version": "1"})
    no_csrf = viewer.client.post(f"{CASE_URL}/developments/{HEARING}/approve")

    assert refused.status_code == 403 and no_csrf.status_code == 403
    assert "awaiting approval" in viewer.get(CASE_URL).get_data(as_text=True)


def test_a_country_that_is_not_a_code_is_named_as_the_fault_not_guessed(
    console_as: Callable[..., ConsoleClient], container: Container
) -> None:
    load_demo(container)
    viewer = console_as("viewer")

    france = viewer.get("/console/cases?country=France").get_data(as_text=True)
    kyrgyz = viewer.get("/console/cases?country=kg").get_data(as_text=True)

    assert 'data-testid="form-errors"' in france and "two-letter code" in france
    assert seed.CASE_ID in kyrgyz and 'data-testid="form-errors"' not in kyrgyz


def test_an_unknown_case_is_a_404_page(console_as: Callable[..., ConsoleClient]) -> None:
    assert console_as("viewer").get("/console/cases/no-such-case").status_code == 404

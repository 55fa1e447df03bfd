"""S5 in the browser: each mailing of an action as a funnel of unique people.

These tests run against a product of their own, started without the seed: a launch there
reaches exactly the people the test signs up, so the funnel's numbers are the test's.
SendGrid's events reach the product through its real, signed Event Webhook endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from campaign.application.supporters import find_supporter_by_email
from campaign.infra.tables import supporters
from campaign.settings import Settings
from events import create_store_engine
from events.personal_data import BlindIndex, Vault
from tests.browser.accessibility import assert_accessible
from tests.browser.console import console_token, log_in
from tests.browser.docs_screenshots import screenshot_for_docs
from tests.browser.outbox import Email
from tests.browser.product import Product, running_product, unique_email
from tests.browser.sendgrid_events import event, post_events
from tests.commands import SECRET_KEY

DELIVERY_HEADER = "X-Campaign-Delivery"
LINE_BREAK = "the name contains a line break or control character"


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Product]:
    """A product of this module's own, with nobody in it until the tests sign people up."""
    with running_product(tmp_path_factory.mktemp("mailings"), seed=False) as running:
        yield running


@pytest.fixture(scope="module")
def case_id(quiet: Product) -> str:
    """A case for the module's actions to be about."""
    opened = quiet.campaigner.post("/api/v1/cases", json={
        "subject_name": "Azimzhan Askarov", "country": "KG", "tags": [],
        "summary": "Human rights defender sentenced to life after an unfair trial."})
    assert opened.status_code == 201, opened.text
    found: str = opened.json()["case_id"]
    return found


def confirmed(product: Product, *emails: str) -> None:
    """Sign `emails` up and confirm each with the token of its confirmation e-mail's link."""
    for email in emails:
        product.sign_up(email)
    for email in emails:
        link = product.outbox.wait_for(to=email, kind="signup_confirmation").link("/confirm/")
        answer = product.public.post("/api/v1/supporters/confirm",
                                     json={"token": urlsplit(link).path.rsplit("/", 1)[-1]})
        assert answer.status_code == 200, answer.text


def delivery_of(email: Email) -> dict[str, str]:
    """The ids SendGrid would echo for this recipient (mailing, batch, delivery)."""
    header = email.header(DELIVERY_HEADER) or ""
    return dict(part.strip().split("=", 1) for part in header.split(";"))


def pledge(product: Product, email: Email, action_id: str, letter: bool) -> None:
    """Pledge one letter from the e-mail's pledge link; confirm it sent when `letter`."""
    token = parse_qs(urlsplit(email.link("/act/")).query)["token"][0]
    headers = {"Authorization": f"Supporter {token}"}
    pledged = product.public.post(f"/api/v1/actions/{action_id}/pledges",
                                  json={"letters_promised": 1}, headers=headers)
    assert pledged.status_code == 201, pledged.text
    if letter:
        sent = product.public.post(
            f"/api/v1/pledges/{pledged.json()['pledge_id']}/letters", headers=headers,
            json={"target_id": "minister-interior", "channel": "post",
                  "sent_on": date.today().isoformat()})
        assert sent.status_code == 201, sent.text


def mailings_when(product: Product, action_id: str, ready: Any, timeout: float = 15
                  ) -> list[dict[str, Any]]:
    """The action's mailings from the API once `ready(mailings)` holds: the projection
    follows the log on the clock's tick."""
    deadline = time.monotonic() + timeout
    while True:
        found = product.admin.get(f"/api/v1/actions/{action_id}/mailings")
        assert found.status_code == 200, found.text
        mailings: list[dict[str, Any]] = found.json()["mailings"]
        if ready(mailings) or time.monotonic() > deadline:
            return mailings
        time.sleep(0.2)


def stage(page: Page, name: str) -> Any:
    return page.get_by_test_id(f"stage-{name}")


def test_the_funnel_counts_people_from_sent_to_confirmed_with_opens_only_indicative(
    page: Page, quiet: Product, case_id: str,
) -> None:
    emails = [unique_email(f"reader{n}") for n in range(9)]
    confirmed(quiet, *emails)
    action_id = quiet.launch_seed_action(case_id=case_id)["action_id"]
    launch = [quiet.outbox.wait_for(to=a, kind="action_launched", action_id=action_id)
              for a in emails]
    ids = [delivery_of(e) for e in launch]
    events = [*(event("delivered", d) for d in ids[:8]), event("bounce", ids[8], type="bounce"),
              *(event("open", d, sg_machine_open=n < 2) for n, d in enumerate(ids[:6])),
              *(event("click", d, url=e.link("/act/")) for d, e in zip(ids[2:6], launch[2:6],
                                                                       strict=True))]
    posted = post_events(quiet.base_url, quiet.sendgrid_key, events)  # type: ignore[arg-type]
    assert posted.status_code == 200, posted.text
    assert posted.json()["received"] == 19
    for n, email in enumerate(launch[2:5]):
        pledge(quiet, email, action_id, letter=n < 2)

    (api,) = mailings_when(quiet, action_id, lambda found: found and found[0]["funnel"][-1][
        "people"] == 2)
    _, token = console_token(quiet, "viewer")
    log_in(page, quiet, token)
    page.goto(quiet.url(f"/console/actions/{action_id}/mailings"))

    mailing = page.get_by_test_id("mailing")
    expect(mailing.get_by_role("heading", level=2)).to_contain_text("Launch")
    expect(page.get_by_test_id("mailing-status")).to_have_text("sent")
    shown = {name: stage(page, name).get_attribute("data-value") for name in
             ("planned", "sent", "delivered", "clicked", "pledged", "confirmed", "opened")}
    assert shown == {"planned": "9", "sent": "9", "delivered": "8", "clicked": "4",
                     "pledged": "3", "confirmed": "2", "opened": "4"}
    assert shown == {**{s["name"]: str(s["people"]) for s in api["funnel"]},
                     "opened": str(api["opened"])}  # the page and the API read one model
    expect(stage(page, "opened")).to_contain_text("indicative only")
    expect(page.get_by_test_id("opened-machine")).to_have_attribute("data-value", "2")
    expect(stage(page, "sent")).to_contain_text("9 people")
    expect(stage(page, "clicked")).to_contain_text("50%")  # 4 of the 8 delivered
    bars = page.get_by_test_id("funnel-chart").locator("g.bar")
    expect(bars).to_have_count(7)
    expect(bars.nth(3)).to_have_class("bar muted")  # opens: greyed, not a step
    expect(bars.nth(3)).to_have_attribute("data-value", "4")
    bounced = page.get_by_test_id("problem-bounced_hard")
    expect(bounced).to_have_attribute("data-value", "1")
    expect(bounced).to_contain_text("11.1%")  # 1 of 9 sent
    expect(page.get_by_test_id("progress-sent")).to_have_attribute("data-value", "9")
    hours = page.get_by_test_id("hours-chart")
    per_series = {name: sum(int(v or 0) for v in hours.locator(
        f"[data-series={name}] circle").evaluate_all("cs => cs.map(c => c.dataset.value)"))
        for name in ("delivered", "clicked", "pledged", "bounced")}
    assert per_series == {"delivered": 8, "clicked": 4, "pledged": 3, "bounced": 1}
    assert_accessible(page)
    screenshot_for_docs(page, "console-mailings")


def test_recipients_left_out_of_a_mailing_are_listed_with_their_reason(
    page: Page, quiet: Product, case_id: str,
) -> None:
    broken = unique_email("broken")
    confirmed(quiet, broken)
    settings = Settings.from_env(quiet.env)
    engine = create_store_engine(settings.database_url)
    try:  # a name stored before names with line breaks were refused
        with engine.begin() as conn:
            supporter_id = find_supporter_by_email(conn, BlindIndex(SECRET_KEY), broken)
            assert supporter_id is not None
            sealed = Vault(SECRET_KEY).seal(conn, f"supporter-{supporter_id}", "name",
                                            "Mallory\nBcc: everyone@example.org")
            conn.execute(update(supporters).where(supporters.c.supporter_id == supporter_id)
                         .values(name_sealed=sealed))
    finally:
        engine.dispose()
    action_id = quiet.launch_seed_action(case_id=case_id)["action_id"]
    mailings_when(quiet, action_id, lambda found: found and found[0]["progress"][
        "completed_at"] is not None)

    _, token = console_token(quiet, "viewer")
    log_in(page, quiet, token)
    page.goto(quiet.url(f"/console/actions/{action_id}/mailings"))

    expect(page.get_by_test_id("mailing-status")).to_have_text("partly failed")
    failure = page.get_by_test_id("recipient-failure")
    expect(failure).to_have_count(1)
    expect(failure.get_by_test_id("failure-reason")).to_have_text(LINE_BREAK)
    expect(failure.get_by_test_id("failed-supporter")).to_have_count(0)  # viewers: ids only
    assert_accessible(page)
    expect(page.get_by_test_id("progress-failed")).to_have_attribute("data-value", "1")

    page.get_by_test_id("logout").click()
    _, admin = console_token(quiet, "admin")
    log_in(page, quiet, admin)
    page.goto(quiet.url(f"/console/actions/{action_id}/mailings"))
    expect(page.get_by_test_id("failed-supporter")).to_have_text(supporter_id)

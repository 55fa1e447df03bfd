"""Replacing SECRET_KEY twice while supporters sign up, pledge and erase themselves: every
supporter from before each rotation is still found, read, exported and erased, and every
link sent before it still opens.

`campaign keys rotate` runs as a real subprocess against the test's database while writer
threads, running with the new key ring as every process would after the deploy, register,
confirm, pledge and erase supporters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.commands import Meta
from campaign.application.pledges import pledge_as_supporter
from campaign.application.supporters import (
    Registration,
    erase_supporter,
    find_supporter_by_email,
    register_supporter,
)
from campaign.bootstrap import Container
from campaign.domain import supporter
from campaign.domain.values import normalise_email
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from campaign.partners.admin import PartnerForm, register_partner
from campaign.partners.registry import signing_secrets
from campaign.web.app import create_app
from events.keyring import KeyRing, key_id
from events.personal_data import BlindIndex, Vault
from events.schema import personal_data_keys
from tests.commands import campaign, command_env, describe
from tests.integration.api.conftest import supporter_headers
from tests.key_rings import FIRST, SECOND, THIRD, with_key_ring

BEFORE_FIRST = 60
META = Meta(actor="test", correlation_id="key-rotation")
TARGET = "minister-interior"
EXPORTED_PER_COHORT = 12


@dataclass
class Cohort:
    """Supporters registered in one period, by e-mail, and the links they were sent then."""

    name: str
    ids: dict[str, str] = field(default_factory=dict)
    erased: set[str] = field(default_factory=set)
    links: dict[str, dict[str, str]] = field(default_factory=dict)


def join(c: Container, cohort: Cohort, email: str, action_id: str) -> str:
    """Register, confirm and pledge, as a supporter does in their first minutes."""
    now = utc_now()
    form = Registration(email, f"Name of {email}", "en", "GB", "Europe/London")
    supporter_id = register_supporter(c.commands, c.blind_index, form, META, now)
    c.commands.handle(supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=now),
                      META)
    pledge_as_supporter(c.commands, action_id, supporter_id, (TARGET,), 1, META, now)
    cohort.ids[email] = supporter_id
    cohort.links[email] = {purpose: c.links.sign(purpose, supporter_id)
                           for purpose in ("confirm", "manage", "unsubscribe", "erase")}
    cohort.links[email]["act"] = c.links.sign_action(supporter_id, action_id)
    return supporter_id


@contextmanager
def under_load(c: Container, cohort: Cohort, action_id: str, threads: int = 2
               ) -> Iterator[Cohort]:
    """Writers registering, pledging and (every fourth) erasing until the block ends."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def write(thread: int) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            email = f"{cohort.name}.{thread}.{n}@example.org"
            try:
                supporter_id = join(c, cohort, email, action_id)
                if n % 4 == 0:
                    erase_supporter(c.commands, c.vault, supporter_id, "supporter", META,
                                    utc_now())
                    cohort.erased.add(email)
                stop.wait(0.01)
            except BaseException as exc:  # noqa: BLE001 - reported by the main thread
                failures.append(exc)
                return

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    while len(cohort.ids) < 4 and not failures:
        time.sleep(0.05)  # the rotation starts with the writers already at work
    try:
        yield cohort
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
    assert not failures, failures


def rotate(c: Container, *secrets: str) -> tuple[str, int]:
    """`campaign keys rotate` with this key ring; its output, and how many supporters the
    writers added while it ran."""
    env = command_env(DATABASE_URL=c.settings.database_url, SECRET_KEY=secrets[0],
                      SECRET_KEY_PREVIOUS=",".join(secrets[1:]))
    before = supporter_count(c)
    result = campaign("keys", "rotate", env=env)
    assert result.returncode == 0, describe(result)
    return result.stdout, supporter_count(c) - before


def supporter_count(c: Container) -> int:
    with c.engine.connect() as conn:
        return len(conn.execute(select(supporters.c.supporter_id)).all())


def key_ids(c: Container) -> set[str | None]:
    with c.engine.connect() as conn:
        return set(conn.execute(select(personal_data_keys.c.key_id)).scalars())


def test_rotating_twice_under_load_keeps_every_supporter_readable_and_every_link_valid(
    container: Container, client: FlaskClient, launched_action: str, tmp_path: Path,
) -> None:
    action = launched_action
    before_first, before_second, during_second = (Cohort("before-first"),
                                                  Cohort("before-second"), Cohort("during"))
    for n in range(BEFORE_FIRST):
        join(container, before_first, f"first.{n}@example.org", action)
    partner = register_partner(container.commands, container.vault, PartnerForm(
        "Kel-Kel", "desk@kelkel.example.org", "http://127.0.0.1:9/hooks"), META, utc_now(),
        allow_private=True)

    # Every process restarts with SECOND as SECRET_KEY and FIRST kept as previous; one
    # rotation was interrupted after a single page; the next run finishes it.
    second = with_key_ring(container, tmp_path / "var", SECOND, FIRST)
    assert second.vault.rewrap(container.engine, limit=5).rewrapped == 5
    with under_load(second, before_second, action):
        output, written = rotate(second, SECOND, FIRST)
    assert written > 0, "the writers added nobody while the rotation ran"
    assert "done: all stored data is under SECRET_KEY" in output
    assert "SECRET_KEY_PREVIOUS until" in output
    assert key_ids(container) == {key_id(SECOND)}

    third = with_key_ring(container, tmp_path / "var", THIRD, SECOND, FIRST)
    with under_load(third, during_second, action):
        output, written = rotate(third, THIRD, SECOND, FIRST)
    assert written > 0, "the writers added nobody while the rotation ran"
    assert key_ids(container) == {key_id(THIRD)}

    app = create_app(third).test_client()
    cohorts = (before_first, before_second, during_second)
    only_newest = Vault(KeyRing([THIRD])), BlindIndex(KeyRing([THIRD]))
    for cohort in cohorts:
        assert cohort.ids, cohort.name
        assert_stored_under_newest_only(third, cohort, *only_newest)
        assert_found_read_and_exported(third, app, cohort)
        assert_old_links_open_and_erase(third, app, cohort, action)
    assert supporter_count(container) == sum(len(c.ids) for c in cohorts)
    with container.engine.connect() as conn:  # the partner's webhooks are still signed
        assert signing_secrets(conn, only_newest[0], partner.partner_id, utc_now()) == [
            partner.signing_secret]
    print("supporters per cohort:", {c.name: len(c.ids) for c in cohorts},
          "erased under load:", sum(len(c.erased) for c in cohorts))


def assert_stored_under_newest_only(c: Container, cohort: Cohort, vault: Vault,
                                    index: BlindIndex) -> None:
    """The older secrets are not needed to read anything stored: THIRD alone opens it."""
    with c.engine.connect() as conn:
        for email, supporter_id in cohort.ids.items():
            row = conn.execute(select(supporters).where(
                supporters.c.supporter_id == supporter_id)).one()
            if email in cohort.erased:
                assert row.email_index is None and row.erased
                assert vault.open(conn, f"supporter-{supporter_id}", "email",
                                  row.email_sealed or "") == "[erased]"
                continue
            assert row.email_index == index.digest(normalise_email(email)), cohort.name
            assert vault.open(conn, f"supporter-{supporter_id}", "email",
                              row.email_sealed) == email


def assert_found_read_and_exported(c: Container, app: FlaskClient, cohort: Cohort) -> None:
    with c.engine.connect() as conn:
        found = {email: find_supporter_by_email(conn, c.blind_index, email.upper())
                 for email in cohort.ids}
    assert found == {email: (None if email in cohort.erased else supporter_id)
                     for email, supporter_id in cohort.ids.items()}
    for email, supporter_id in [*cohort.ids.items()][:EXPORTED_PER_COHORT]:
        if email in cohort.erased:
            continue
        fresh = supporter_headers(c.links.sign("manage", supporter_id))
        response = app.get("/api/v1/supporters/me/export", headers=fresh)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert (body["profile"]["email"], body["profile"]["name"]) == (email,
                                                                       f"Name of {email}")
        assert [e["type"] for e in body["pledges"]] == ["Pledged"]


def assert_old_links_open_and_erase(c: Container, app: FlaskClient, cohort: Cohort,
                                    action: str) -> None:
    """Links signed before the rotations open; the erasure link erases for good."""
    kept = [email for email in cohort.ids if email not in cohort.erased][:3]
    for email in kept:
        links = cohort.links[email]
        supporter_id = cohort.ids[email]
        me = app.get("/api/v1/supporters/me", headers=supporter_headers(links["manage"]))
        assert me.status_code == 200, me.get_data(as_text=True)
        confirmed = app.post("/api/v1/supporters/confirm", json={"token": links["confirm"]})
        assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
        pledge = app.post(f"/api/v1/actions/{action}/pledges", headers=supporter_headers(
            links["act"]), json={"target_ids": [TARGET], "letters_promised": 1})
        assert pledge.status_code == 200, pledge.get_data(as_text=True)  # the same pledge
        assert c.links.verify("unsubscribe", links["unsubscribe"]) == supporter_id
    erased_email = kept[0]
    response = app.post("/api/v1/supporters/erase",
                        json={"token": cohort.links[erased_email]["erase"]})
    assert response.status_code == 204, response.get_data(as_text=True)
    supporter_id = cohort.ids[erased_email]
    with c.engine.connect() as conn:
        assert find_supporter_by_email(conn, c.blind_index, erased_email) is None
        assert conn.execute(select(personal_data_keys).where(
            personal_data_keys.c.subject_id == f"supporter-{supporter_id}")).first() is None
    export = app.get(f"/api/v1/supporters/{supporter_id}/export",
                     headers=supporter_headers(cohort.links[erased_email]["manage"]))
    assert export.status_code in (401, 403)


def test_a_request_made_before_a_rotation_is_replayed_after_it_by_its_idempotency_key(
    container: Container, client: FlaskClient, tmp_path: Path,
) -> None:
    supporter_id = register_supporter(
        container.commands, container.blind_index,
        Registration("leaving@example.org", "Leaving", "en", "GB", "Europe/London"), META,
        utc_now())
    body = {"token": container.links.sign("erase", supporter_id)}
    headers = {"Idempotency-Key": "erase-once"}
    first = client.post("/api/v1/supporters/erase", json=body, headers=headers)
    assert first.status_code == 204, first.get_data(as_text=True)

    rotated = with_key_ring(container, tmp_path / "var", SECOND, FIRST)
    again = create_app(rotated).test_client().post("/api/v1/supporters/erase", json=body,
                                                   headers=headers)

    assert again.status_code == 204, again.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true"

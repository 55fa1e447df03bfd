"""What a stranger or a careless user may send, against the production processes.

Web, worker and clock run from the Procfile on PostgreSQL and Redis; e-mail goes through the
real SendGrid client to the fake SendGrid, webhooks to a partner verifying them with the
reference library. Every request is made over HTTP, and every e-mail is read as SendGrid
would render it. Each test replays one kind of attack or mistake and shows what now happens:
a clear 4xx and nothing stored, or the one bad value set aside while everything else goes on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select, text, update

from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.domain import case, supporter
from campaign.domain.codec import to_data
from campaign.domain.values import AtLocalTime, LocalDateTime
from campaign.infra.clock import utc_now
from campaign.infra.tables import supporters
from events import ANY, EventStore, NewEvent
from events.schema import personal_data_keys
from tests.commands import BIN, command_env, describe, run
from tests.databases import PostgresDatabases
from tests.e2e.production import ROOT, Production, links_in, production
from tests.integration.api.conftest import action_body, sign_up_body

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PROBLEM = "application/problem+json"
META = Meta(actor="e2e", correlation_id="hostile-input")
PHISHING = ('friend</pre><h1>Action needed</h1><a href="https://evil.example/login">'
            'Confirm here</a><pre hidden>')
SCRIPT = "<script>alert(document.cookie)</script>"
PLACEHOLDERS = "Free -name- now -unsubscribe_url- %name% {{name}} {{ slot.name }}"
CRLF_NAME = "Eve Example\r\nBcc: everyone@evil.example"
CRLF_TITLE = "HUMAN RIGHTS DEFENDER JAILED\r\nBcc: everyone@evil.example"
STALE_EMAIL = "never.clicked@example.org"
READERS = 1_000
STALE: dict[str, str] = {}


def stale_sign_up(container: Container) -> None:
    """A sign-up left unconfirmed for 31 days, there before the processes start."""
    form = Registration(STALE_EMAIL, "Someone Waiting", "en", "GB", "Europe/London")
    STALE[STALE_EMAIL] = register_supporter(container.commands, container.blind_index, form,
                                            META, utc_now() - timedelta(days=31))


@pytest.fixture(scope="module")
def stack(postgres_databases: PostgresDatabases, tmp_path_factory: pytest.TempPathFactory,
          ) -> Iterator[Production]:
    with production(postgres_databases, os.environ["TEST_REDIS_URL"],
                    tmp_path_factory.mktemp("production"), prepare=stale_sign_up) as running:
        yield running


# Helpers: what a campaigner, a supporter and an operator do


def problem(response: requests.Response, status: int, code: str | None = None) -> Any:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body.get("code") == code, body
    return body


def error_fields(response: requests.Response) -> set[str]:
    return {error["field"] for error in problem(response, 422)["errors"]}


def with_etag(stack: Production, session: requests.Session, path: str,
              headers: dict[str, str]) -> dict[str, str]:
    """`headers` plus If-Match with the resource's current ETag: a careful client's write."""
    current = session.get(stack.url(path), headers=headers)
    assert current.status_code == 200, current.text
    return {**headers, "If-Match": current.headers["ETag"]}


def open_case(stack: Production, session: requests.Session) -> str:
    response = session.post(stack.url("/api/v1/cases"), headers=stack.campaigner, json={
        "subject_name": "Azimzhan Askarov", "country": "KG",
        "summary": "Human rights defender sentenced to life after an unfair trial."})
    assert response.status_code == 201, response.text
    case_id: str = response.json()["case_id"]
    return case_id


def launch(stack: Production, session: requests.Session, case_id: str, **changes: Any) -> str:
    """Draft UA 135/10 (with `changes`) about `case_id`, then launch it with If-Match."""
    drafted = session.post(stack.url("/api/v1/actions"), headers=stack.campaigner,
                           json={**action_body(), "case_id": case_id, **changes})
    assert drafted.status_code == 201, drafted.text
    action_id: str = drafted.json()["action_id"]
    path = f"/api/v1/actions/{action_id}"
    launched = session.post(stack.url(f"{path}/launch"),
                            headers=with_etag(stack, session, path, stack.campaigner))
    assert launched.status_code == 200, launched.text
    return action_id


def join_over_http(stack: Production, session: requests.Session, email: str,
                   name: str = "Ada Byron-Lovelace") -> str:
    """Sign up, read the confirmation e-mail, follow its link: a confirmed supporter's id."""
    signed = session.post(stack.url("/api/v1/supporters"), json=sign_up_body(email, name))
    assert signed.status_code == 202, signed.text
    mail = stack.mail_to(email, "signup_confirmation")
    [confirm] = [link for link in links_in(mail) if "/confirm/" in link]
    token = urlsplit(confirm).path.rsplit("/", 1)[1]
    confirmed = session.post(stack.url("/api/v1/supporters/confirm"), json={"token": token})
    assert confirmed.status_code == 200, confirmed.text
    supporter_id: str = confirmed.json()["supporter_id"]
    return supporter_id


def supporter_header(link: str) -> dict[str, str]:
    """The credential a link from one of our e-mails carries, as the API takes it."""
    parts = urlsplit(link)
    token = parse_qs(parts.query)["token"][0] if parts.query else parts.path.rsplit("/", 1)[1]
    return {"Authorization": f"Supporter {token}"}


def log_position(stack: Production) -> int:
    with stack.container.engine.connect() as conn:
        return int(conn.execute(text("SELECT max(position) FROM events")).scalar_one())


BACKGROUND_ACTORS = ("policy:%", "worker:%", "clock:%", "provider:%")
"""Who writes on their own while a test runs: mail planning and outcomes, clocks, SendGrid."""


def event_count(stack: Production) -> int:
    """The events the API's callers wrote: the workers' own (a confirmation's outcome
    recorded after the stand-in got the e-mail) go on in the background."""
    quiet = " AND ".join(f"coalesce(metadata->>'actor', '') NOT LIKE :a{n}"
                         for n in range(len(BACKGROUND_ACTORS)))
    with stack.container.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM events WHERE {quiet}"), {
            f"a{n}": actor for n, actor in enumerate(BACKGROUND_ACTORS)}).scalar_one())


# Output encoding by context


def test_a_sign_up_name_full_of_html_arrives_escaped_and_one_with_a_line_break_is_refused(
    stack: Production,
) -> None:
    session = stack.client()
    signed = session.post(stack.url("/api/v1/supporters"),
                          json=sign_up_body("phish@example.org", PHISHING))
    assert signed.status_code == 202, signed.text

    mail = stack.mail_to("phish@example.org", "signup_confirmation")
    assert "<h1>Action needed</h1>" not in mail.html
    assert 'href="https://evil.example/login"' not in mail.html
    assert "&lt;h1&gt;Action needed&lt;/h1&gt;" in mail.html
    assert PHISHING in mail.text  # the text part shows what was typed, as typed

    before = event_count(stack)
    assert before > 0  # the sign-up above is one of them
    refused = session.post(stack.url("/api/v1/supporters"),
                           json=sign_up_body("eve@example.org", CRLF_NAME))
    assert error_fields(refused) == {"name"}
    assert event_count(stack) == before


# Validate at the boundary; rules of time and reference


def test_dates_no_timezone_can_show_and_titles_with_line_breaks_are_refused_storing_nothing(
    stack: Production,
) -> None:
    session = stack.client()
    case_id = open_case(stack, session)
    case_path = f"/api/v1/cases/{case_id}"
    before = event_count(stack)

    year_one = session.post(
        stack.url(f"{case_path}/developments"),
        headers=with_etag(stack, session, case_path, stack.campaigner),
        json={"kind": "hearing_scheduled", "summary": "A hearing.",
              "occurred": {"at": "0001-01-01T00:00:00", "timezone": "Asia/Tokyo"}})
    end_of_time = session.post(stack.url("/api/v1/actions"), headers=stack.campaigner, json={
        **action_body(), "case_id": case_id,
        "deadline": {"on": "9999-12-31", "timezone": "Pacific/Kiritimati"}})
    crlf_title = session.post(stack.url("/api/v1/actions"), headers=stack.campaigner,
                              json={**action_body(), "case_id": case_id, "title": CRLF_TITLE})

    assert error_fields(year_one) == {"occurred.at"}
    assert error_fields(end_of_time) == {"deadline.on"}
    assert error_fields(crlf_title) == {"title"}
    assert event_count(stack) == before
    for path in ("/api/v1/cases", case_path, "/api/v1/actions"):
        assert session.get(stack.url(path), headers=stack.campaigner).status_code == 200


def test_references_and_times_must_make_sense(stack: Production) -> None:
    session = stack.client()
    missing_case = session.post(stack.url("/api/v1/actions"), headers=stack.campaigner,
                                json={**action_body(), "case_id": "no-such-case"})
    assert missing_case.status_code in (404, 422), missing_case.text
    assert missing_case.headers["Content-Type"].startswith(PROBLEM)

    case_id = open_case(stack, session)
    historical = session.post(stack.url("/api/v1/actions"), headers=stack.campaigner, json={
        **action_body(), "case_id": case_id, "issued_on": "2010-09-15",
        "deadline": {"on": "2010-10-27", "timezone": "Asia/Bishkek"}})
    path = f"/api/v1/actions/{historical.json()['action_id']}"
    late = session.post(stack.url(f"{path}/launch"),
                        headers=with_etag(stack, session, path, stack.campaigner))
    problem(late, 409, "deadline_passed")

    action_id = launch(stack, session, case_id)
    supporter_id = join_over_http(stack, session, "careful@example.org")
    pledge_link = stack.container.links.sign_action(supporter_id, action_id)
    as_reader = {"Authorization": f"Supporter {pledge_link}"}
    pledges = stack.url(f"/api/v1/actions/{action_id}/pledges")
    for promised in ("5", 5.5, 0, 10_000):
        assert error_fields(session.post(pledges, headers=as_reader,
                                         json={"letters_promised": promised})) \
            == {"letters_promised"}
    pledged = session.post(pledges, headers=as_reader, json={"letters_promised": 2})
    assert pledged.status_code == 201, pledged.text
    letters = stack.url(f"/api/v1/pledges/{pledged.json()['pledge_id']}/letters")
    issued = action_body()["issued_on"]
    too_early = str(int(issued[:4]) - 5) + issued[4:]
    tomorrow = (utc_now().date() + timedelta(days=2)).isoformat()
    for sent_on in (too_early, tomorrow):
        letter = session.post(letters, headers=as_reader, json={
            "target_id": "minister-interior", "channel": "post", "sent_on": sent_on})
        assert letter.status_code == 422, letter.text


# Transport


def test_transport_limits_answer_with_problems_never_a_500(stack: Production) -> None:
    session = stack.client()
    actions = stack.url("/api/v1/actions")
    json_headers = {**stack.campaigner, "Content-Type": "application/json"}

    deep = session.post(actions, headers=json_headers, data="[" * 5_000 + "]" * 5_000)
    huge = session.post(actions, headers=json_headers,
                        data=json.dumps({"title": "x" * 20 * 1024 * 1024}))
    plain = session.post(actions, headers={**stack.campaigner, "Content-Type": "text/plain"},
                         data=json.dumps(action_body()))
    lower = session.get(actions, headers={
        "Authorization": stack.campaigner["Authorization"].replace("Bearer", "bearer")})

    problem(deep, 400)
    problem(huge, 413)
    problem(plain, 415)
    assert lower.status_code == 200, lower.text

    case_id = open_case(stack, session)
    action_id = launch(stack, session, case_id)
    path = stack.url(f"/api/v1/actions/{action_id}")
    update_body = {**action_body(), "case_id": case_id, "title": "An edit"}
    problem(session.put(path, headers=stack.campaigner, json=update_body), 428)
    problem(session.put(path, headers={**stack.campaigner, "If-Match": 'W/"\u00b2"'},
                        json=update_body), 400)
    reader = join_over_http(stack, session, "digits@example.org")
    token = stack.container.links.sign_action(reader, action_id)
    page = session.post(stack.url(f"/act/{action_id}?token={token}"),
                        data={"do": "pledge", "letters": "\u00b2"})
    assert page.status_code == 422, page.text


# Links: least authority


def test_an_action_link_pledges_for_its_action_only_and_every_link_dies_at_erasure(
    stack: Production,
) -> None:
    session = stack.client()
    email = "forwarder@example.org"
    join_over_http(stack, session, email)
    action_id = launch(stack, session, open_case(stack, session))
    mail = stack.mail_to(email, "action_launched")
    [act] = [link for link in links_in(mail) if f"/act/{action_id}?" in link]
    forwarded = supporter_header(act)
    [unsubscribe] = [link for link in links_in(mail) if "/unsubscribe/" in link]

    for path in ("/api/v1/supporters/me", "/api/v1/supporters/me/export"):
        refused = session.get(stack.url(path), headers=forwarded)
        problem(refused, 401)
        assert email not in refused.text
    assert session.post(stack.url(unsubscribe)).status_code == 200
    problem(session.get(stack.url("/api/v1/supporters/me/export"), headers=forwarded), 401)
    pledged = session.post(stack.url(f"/api/v1/actions/{action_id}/pledges"),
                           headers=forwarded, json={"letters_promised": 1})
    assert pledged.status_code == 201, pledged.text

    asked = session.post(stack.url("/api/v1/supporters/manage-link"), json={"email": email})
    assert asked.status_code == 202, asked.text
    [manage] = [link for link in links_in(stack.mail_to(email, "manage_link"))
                if "/manage/" in link]
    mine = supporter_header(manage)
    export = session.get(stack.url("/api/v1/supporters/me/export"), headers=mine)
    assert export.status_code == 200 and email in export.text
    assert session.post(stack.url("/api/v1/supporters/me/erase"), headers=mine).status_code \
        == 204

    problem(session.get(stack.url("/api/v1/supporters/me/export"), headers=mine), 401)
    problem(session.post(stack.url(f"/api/v1/actions/{action_id}/pledges"), headers=forwarded,
                         json={"letters_promised": 1}), 401)
    assert session.get(stack.url(act)).status_code == 404
    assert session.post(stack.url(unsubscribe)).status_code == 200  # idempotent, no effect
    for link in (act, unsubscribe, manage):
        token = supporter_header(link)["Authorization"].split()[1]
        assert token not in stack.logs()


def test_pages_send_their_security_headers(stack: Production) -> None:
    session = stack.client()
    for path in ("/manage", "/act/unknown?token=forged", "/confirm/forged"):
        page = session.get(stack.url(path))
        assert page.headers["Content-Type"].startswith("text/html"), path
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert page.headers["X-Content-Type-Options"] == "nosniff", path
        assert page.headers["Referrer-Policy"] == "no-referrer", path


# Abuse


def test_sign_ups_are_limited_per_client_and_known_addresses_take_the_same_path(
    stack: Production,
) -> None:
    session = stack.client()
    answers = [session.post(stack.url("/api/v1/supporters"),
                            json=sign_up_body(f"bulk.{n}@example.org", f"Bulk {n}"))
               for n in range(11)]

    assert [a.status_code for a in answers[:10]] == [202] * 10
    limited = problem(answers[10], 429)
    assert int(answers[10].headers["Retry-After"]) > 0
    assert limited["detail"].startswith("Too many requests")

    other = stack.client()
    before = log_position(stack)
    known = other.post(stack.url("/api/v1/supporters"), json=sign_up_body("bulk.0@example.org"))
    new = other.post(stack.url("/api/v1/supporters"), json=sign_up_body("bulk.new@example.org"))
    assert (known.status_code, known.json()) == (new.status_code, new.json())
    with stack.container.engine.connect() as conn:
        kinds = conn.execute(text(
            "SELECT type FROM events WHERE position > :before AND metadata->>'actor' = 'public'"
            " ORDER BY position"), {"before": before}).scalars().all()
    assert kinds == ["SignUpReceived", "SignUpReceived"]


def test_a_sign_up_never_confirmed_is_purged_by_the_clock(stack: Production) -> None:
    container, supporter_id = stack.container, STALE[STALE_EMAIL]

    def purged() -> bool | None:
        with container.engine.connect() as conn:
            erased = conn.execute(select(supporters.c.erased).where(
                supporters.c.supporter_id == supporter_id)).scalar_one()
            keys = conn.execute(select(func.count()).select_from(personal_data_keys).where(
                personal_data_keys.c.subject_id == supporter.supporter_stream(supporter_id)
            )).scalar_one()
        return True if erased and keys == 0 else None

    stack.wait(purged, f"the clock to purge {STALE_EMAIL}")


# Containment: one bad event, one bad recipient


def year_one_development(case_id: str) -> NewEvent:
    """A development dated year 1 in Asia/Tokyo, as data stored before dates were checked."""
    valid = case.DevelopmentRecorded(
        case_id=case_id, development_id="year-one", kind="hearing_scheduled",
        occurred=AtLocalTime(LocalDateTime(datetime(2020, 5, 13, 14), "Asia/Tokyo")),
        summary="A hearing.",
        source=case.DevelopmentSource(kind="campaigner"), recorded_at=utc_now(),
        pending_approval=False)
    data = to_data(valid)
    data["occurred"]["local"] = {"at": "0001-01-01T00:00:00", "timezone": "Asia/Tokyo"}
    return NewEvent("DevelopmentRecorded", data, {"actor": "legacy", "correlation_id": "legacy"})


def test_one_event_no_zone_can_convert_is_parked_and_every_reader_goes_on(
    stack: Production,
) -> None:
    session = stack.client()
    case_id = open_case(stack, session)
    registered = session.post(stack.url("/api/v1/partners"), headers=stack.admin, json={
        "name": "Human Rights Movement Bir Duino-Kyrgyzstan",
        "contact_email": "info@birduino.example.org", "webhook_url": stack.partner.url,
        "case_ids": [case_id], "event_types": ["case.development_recorded"]})
    assert registered.status_code == 201, registered.text
    stack.partner.secrets = [registered.json()["signing_secret"]]
    partner_key = {"Authorization": f"Bearer {registered.json()['api_key']}"}
    with stack.container.engine.connect() as conn:
        stored = "\n".join(str(row) for row in conn.execute(text("SELECT data FROM events")))
    assert "info@birduino.example.org" not in stored  # sealed like a supporter's address

    EventStore(stack.container.engine).append(case.case_stream(case_id),
                                              [year_one_development(case_id)], ANY)
    rebuilt = run(str(BIN / "campaign"), "projections", "rebuild", "cases", env=stack.env,
                  cwd=ROOT)
    assert rebuilt.returncode == 0, describe(rebuilt)
    case_path = f"/api/v1/cases/{case_id}"
    later = session.post(stack.url(f"{case_path}/developments"),
                         headers=with_etag(stack, session, case_path, stack.campaigner),
                         json={"kind": "released", "summary": "Released.",
                               "occurred": {"on": utc_now().date().isoformat()}})
    assert later.status_code == 201, later.text

    stack.wait(lambda: [d for d in stack.partner.deliveries() if d.verified] or None,
               "the partner to receive the later development")
    [delivered] = [d.payload["data"]["summary"] for d in stack.partner.deliveries()]
    assert delivered == "Released."
    for path in ("/api/v1/cases", case_path):
        assert session.get(stack.url(path), headers=stack.campaigner).status_code == 200
    timeline = session.get(stack.url(case_path), headers=stack.campaigner).json()["timeline"]
    assert {d["development_id"]: d["occurred"].get("instant") for d in timeline
            }.get("year-one") is None
    feed = session.get(stack.url("/api/v1/feed?after=0&limit=200"), headers=partner_key)
    assert feed.status_code == 200, feed.text
    states = {s["name"]: s for s in session.get(stack.url("/api/v1/subscriptions"),
                                                 headers=stack.admin).json()}
    assert states["webhook_outbox"]["parked"] == 1
    listed = run(str(BIN / "campaign"), "subscriptions", "parked", "webhook_outbox",
                 env=stack.env, cwd=ROOT)
    assert listed.returncode == 0 and "OverflowError" in listed.stdout, describe(listed)


def seed_readers(container: Container, count: int) -> dict[str, str]:
    """`count` confirmed supporters, as sign-ups through the application would make them;
    the first lives in Pacific/Kiritimati (UTC+14)."""
    readers = {}
    for n in range(count):
        email = f"reader.{n}@example.org"
        zone = "Pacific/Kiritimati" if n == 0 else "Europe/London"
        form = Registration(email, f"Reader {n}", "en", "GB", zone)
        supporter_id = register_supporter(container.commands, container.blind_index, form,
                                          META, utc_now())
        container.commands.handle(supporter.ConfirmConsent(supporter_id, utc_now()), META)
        readers[email] = supporter_id
    return readers


def stored_name(container: Container, supporter_id: str, name: str) -> None:
    """The name as the read model holds it: what an event stored before names were checked
    would have put there."""
    with container.engine.begin() as conn:
        sealed = container.vault.seal(conn, supporter.supporter_stream(supporter_id), "name",
                                      name)
        conn.execute(update(supporters).where(supporters.c.supporter_id == supporter_id)
                     .values(name_sealed=sealed))


def test_one_reader_whose_email_cannot_be_made_leaves_999_to_receive_theirs(
    stack: Production,
) -> None:
    readers = seed_readers(stack.container, READERS)
    eve = readers["reader.500@example.org"]
    stored_name(stack.container, eve, CRLF_NAME)
    session = stack.client()
    title = f"{PLACEHOLDERS} {SCRIPT}"

    launch(stack, session, open_case(stack, session), title=title,
           deadline={"on": "2200-12-31", "timezone": "Pacific/Kiritimati"})

    def all_but_eve() -> dict[str, Any] | None:
        got = {m.to["email"]: m for m in stack.sendgrid.mails("action_launched")
               if m.to["email"] in readers and title in m.text}
        return got if len(got) >= READERS - 1 and stack.recipient_failures() else None

    got = stack.wait(all_but_eve, f"{READERS - 1} action e-mails and one failure", 180)
    assert set(got) == set(readers) - {"reader.500@example.org"}
    assert stack.recipient_failures() == {
        eve: "the name contains a line break or control character"}
    mail = got["reader.1@example.org"]
    assert mail.text.startswith("Dear Reader 1,")
    assert title in mail.subject and title in mail.text  # placeholders arrive as typed
    assert SCRIPT not in mail.html and "&lt;script&gt;" in mail.html
    far = " ".join(got["reader.0@example.org"].text.split())  # as read, whatever the wrapping
    assert "PLEASE SEND APPEALS BY 31 December 2200 TO:" in far, far  # the day, as printed
    assert "Eve Example" not in stack.logs()


def test_weak_secrets_and_unreachable_databases_are_one_line_at_release(tmp_path: Path) -> None:
    weak = command_env(DATABASE_URL="postgresql://ua@127.0.0.1:1/ua", SECRET_KEY="a" * 32,
                       VAR_DIR=str(tmp_path))
    unreachable = {**weak, "SECRET_KEY": "f3Jx9-Qm2Lw8Zr4Tb6Nv1Kc7Yh5Pd0Sg"}
    refused = run(str(BIN / "campaign"), "db", "upgrade", env=weak, cwd=tmp_path)
    down = run(str(BIN / "campaign"), "db", "upgrade", env=unreachable, cwd=tmp_path)

    assert refused.returncode != 0 and "SECRET_KEY is too predictable" in refused.stderr
    assert down.returncode != 0 and "cannot reach the database" in down.stderr
    for result in (refused, down):
        assert len(result.stderr.strip().splitlines()) == 1, describe(result)
        assert "Traceback" not in result.stderr
    assert "a" * 32 not in refused.stderr


def test_the_processes_logged_no_traceback_and_no_token(stack: Production) -> None:
    logs = stack.logs()
    assert "Traceback" not in logs, logs[-5000:]
    assert "token=" not in logs

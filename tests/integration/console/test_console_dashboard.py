"""The live action dashboard (S4) through the test client: labelled counts whose charts,
tables and header agree, the live fragment, CSV exports, roles and the countdown."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

from campaign.application.commands import Meta
from campaign.application.pledges import SentLetter, confirm_letter, make_pledge
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import action
from campaign.domain.values import Deadline
from campaign.infra.clock import utc_now
from events import SubscriptionRunner
from tests.integration.console.signing_in import ConsoleClient

META = Meta(actor="test", correlation_id="test")
OFFICIALS = ("minister-interior", "general-prosecutor")


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def all(self, testid: str | None = None, tag: str | None = None) -> list[Node]:
        found = [n for c in self.children for n in [c, *c.all()]]
        return [n for n in found if (testid is None or n.attrs.get("data-testid") == testid)
                and (tag is None or n.tag == tag)]

    def one(self, testid: str) -> Node:
        (found,) = self.all(testid)
        return found

    def content(self) -> str:
        return (self.text + "".join(c.content() for c in self.children)).strip()


class Tree(HTMLParser):
    """Just enough of the page's structure to compare its charts with its tables."""

    VOID = {"input", "meta", "link", "br", "img"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Node("root", {})
        self.stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.stack[-1].text += data


def number(text: str) -> int:
    return int(text.replace(",", ""))


def pledges_and_letters(container: Container, action_id: str, pledgers: int,
                        letters: list[tuple[int, str, str]]) -> None:
    """`pledgers` new supporters pledge to every official; (who, official, channel) letters."""
    now = utc_now()
    people = []
    for n in range(pledgers):
        form = Registration(f"{uuid.uuid4().hex}@example.org", f"Pledger {n}", "en", "GB",
                            "Europe/London")
        people.append(register_supporter(container.commands, container.blind_index, form,
                                         META, now))
        make_pledge(container.commands, action_id, people[-1], (), 1, META, now)
    for who, official, channel in letters:
        sent = SentLetter(uuid.uuid4().hex, official, channel, now.date())  # type: ignore[arg-type]
        confirm_letter(container.commands, action_id, people[who], sent, META, now)
    SubscriptionRunner(container.store, container.subscriptions["action_dashboard"]).run()


@pytest.fixture
def viewer_console(console_as: Callable[..., ConsoleClient]) -> ConsoleClient:
    return console_as("viewer")


def test_the_header_is_the_sum_of_the_officials_and_every_bar_equals_its_table_cell(
    container: Container, launched_action: str, viewer_console: ConsoleClient,
) -> None:
    pledges_and_letters(container, launched_action, 5, [
        (0, "minister-interior", "post"), (1, "minister-interior", "email"),
        (1, "general-prosecutor", "fax")])

    page = viewer_console.get(f"/console/actions/{launched_action}")
    tree = Tree(page.get_data(as_text=True)).root

    assert page.status_code == 200
    pledged = number(tree.one("metric-letters-pledged-value").content())
    confirmed = number(tree.one("metric-letters-confirmed-value").content())
    assert (number(tree.one("metric-supporters-value").content()), pledged, confirmed) == (
        5, 15, 3)  # the seed's action names three officials
    rows = tree.one("officials-table").all("split-row")
    assert sum(number(r.one("letters-pledged").content()) for r in rows) == pledged
    assert sum(number(r.one("letters-confirmed").content()) for r in rows) == confirmed
    for chart, table in (("officials-chart", "officials-table"),
                         ("countries-chart", "countries-table"),
                         ("languages-chart", "languages-table")):
        bars = {(b.attrs["data-name"], r.attrs["data-series"]): int(r.attrs["data-value"])
                for b in tree.one(chart).all("bar-row") for r in b.all(tag="rect")}
        cells = {(r.attrs["data-name"], series): number(r.one(f"letters-{series}").content())
                 for r in tree.one(table).all("split-row")
                 for series in ("pledged", "confirmed")}
        assert bars == cells, chart
    points = [int(c.attrs["data-value"]) for c in tree.one("series-confirmed").all(tag="circle")]
    cells = [number(c.content()) for c in tree.one("days-table").all("confirmed-to-date")]
    assert points == cells == [3]
    channels = {r.attrs["data-name"]: number(r.one("letters-confirmed").content())
                for r in tree.one("channels-table").all("channel-row")}
    assert channels == {"post": 1, "email": 1, "fax": 1, "online": 0}
    assert [int(g.attrs["data-value"]) for g in tree.one("channels-chart").all(tag="g")] == [
        1, 1, 1, 0]


def test_labels_say_whether_a_number_counts_people_or_letters(
    launched_action: str, viewer_console: ConsoleClient,
) -> None:
    html = viewer_console.get(f"/console/actions/{launched_action}").get_data(as_text=True)

    for label in ("supporters who pledged (people)", "letters pledged (pledge × official)",
                  "letters confirmed", "Supporters who pledged (people)"):
        assert label in html


def test_a_viewer_sees_no_link_to_the_editor_and_a_campaigner_does(
    launched_action: str, console_as: Callable[..., ConsoleClient],
) -> None:
    path = f"/console/actions/{launched_action}"
    as_viewer = Tree(console_as("viewer").get(path).get_data(as_text=True)).root
    as_campaigner = Tree(console_as("campaigner").get(path).get_data(as_text=True)).root

    assert as_viewer.all("edit-action") == []
    assert len(as_viewer.all("mailings-link")) == 1
    assert as_campaigner.one("edit-action").attrs["href"] == f"{path}/edit"


def test_the_live_fragment_carries_the_new_counts_and_a_freshness_stamp(
    container: Container, launched_action: str, viewer_console: ConsoleClient,
) -> None:
    before = viewer_console.get(f"/console/actions/{launched_action}/live")
    pledges_and_letters(container, launched_action, 1, [(0, "president", "online")])

    after = viewer_console.get(f"/console/actions/{launched_action}/live")

    assert before.headers["Cache-Control"] == "no-store"
    tree = Tree(after.get_data(as_text=True)).root
    assert tree.one("metric-letters-confirmed-value").content() == "1"
    assert tree.one("freshness-time").attrs["datetime"] >= Tree(
        before.get_data(as_text=True)).root.one("freshness-time").attrs["datetime"]
    assert "<html" not in after.get_data(as_text=True)


def test_the_exports_hold_the_numbers_per_official_and_per_day(
    container: Container, launched_action: str, viewer_console: ConsoleClient,
) -> None:
    pledges_and_letters(container, launched_action, 2, [(0, "president", "post")])

    officials = viewer_console.get(f"/console/actions/{launched_action}/officials.csv")
    days = viewer_console.get(f"/console/actions/{launched_action}/days.csv")

    rows = list(csv.DictReader(io.StringIO(officials.get_data(as_text=True))))
    assert officials.mimetype == "text/csv"
    assert {r["target_id"]: (r["letters_pledged"], r["letters_confirmed"]) for r in rows} == {
        "president": ("2", "1"), "minister-interior": ("2", "0"),
        "general-prosecutor": ("2", "0")}
    (day,) = csv.DictReader(io.StringIO(days.get_data(as_text=True)))
    assert (day["day_utc"], day["supporters_who_pledged_people"], day["letters_pledged"],
            day["letters_confirmed"]) == (utc_now().date().isoformat(), "2", "6", "1")


def test_the_countdown_is_urgent_under_48_hours_and_calm_before(
    container: Container, launched_action: str, viewer_console: ConsoleClient,
) -> None:
    now = utc_now()
    soon = (now + timedelta(hours=30)).replace(second=0, microsecond=0)
    container.commands.handle(replace(
        seed.DRAFT, action_id="ua-soon", drafted_at=now, issued_on=now.date(),
        deadline=Deadline(on=soon.date(), timezone="UTC", time=soon.time())), META)
    container.commands.handle(action.LaunchAction("ua-soon", launched_at=now), META)

    tree = Tree(viewer_console.get("/console/actions/ua-soon").get_data(as_text=True)).root
    calm = Tree(viewer_console.get(f"/console/actions/{launched_action}")
                .get_data(as_text=True)).root

    assert "urgent" in tree.one("metric-deadline").attrs["class"].split()
    assert tree.one("countdown").content().startswith(("29 h", "30 h"))
    assert "urgent" not in calm.one("metric-deadline").attrs["class"].split()
    assert tree.one("marker-deadline").attrs["data-x"] == soon.isoformat()


def test_an_unknown_action_is_a_404_page_and_a_stranger_is_sent_to_sign_in(
    launched_action: str, viewer_console: ConsoleClient, container: Container,
) -> None:
    missing = viewer_console.get("/console/actions/no-such-action")
    stranger = viewer_console.client.application.test_client().get(
        f"/console/actions/{launched_action}")

    assert missing.status_code == 404
    assert "no action no-such-action" in missing.get_data(as_text=True)
    assert stranger.status_code == 303
    assert "/console/login" in stranger.headers["Location"]


def test_officials_an_update_dropped_come_last_greyed_and_keep_their_letters(
    container: Container, launched_action: str, viewer_console: ConsoleClient,
) -> None:
    pledges_and_letters(container, launched_action, 1, [(0, "general-prosecutor", "post")])
    minister = tuple(t for t in seed.DRAFT.targets if t.target_id == "minister-interior")
    container.commands.handle(action.PublishUpdate(
        action_id=launched_action, number=6, published_at=utc_now(), targets=minister), META)
    SubscriptionRunner(container.store, container.subscriptions["action_dashboard"]).run()

    tree = Tree(viewer_console.get(f"/console/actions/{launched_action}")
                .get_data(as_text=True)).root

    rows = [(r.attrs["data-name"], r.attrs["data-current"],
             number(r.one("letters-confirmed").content()))
            for r in tree.one("officials-table").all("split-row")]
    assert rows == [("minister-interior", "yes", 0), ("general-prosecutor", "no", 1),
                    ("president", "no", 0)]
    muted = {b.attrs["data-name"] for b in tree.one("officials-chart").all("bar-row")
             if "muted" in b.attrs["class"].split()}
    assert muted == {"general-prosecutor", "president"}
    assert tree.one("update-count").content().startswith("updated 1 time (latest: update 6)")
    assert tree.one("marker-updated").attrs["data-label"] == "Update 6"


def test_the_api_gives_integrations_the_numbers_the_page_shows(
    container: Container, launched_action: str, viewer_console: ConsoleClient,
    client: FlaskClient, viewer: dict[str, str],
) -> None:
    pledges_and_letters(container, launched_action, 2, [(1, "president", "fax")])

    api = client.get(f"/api/v1/actions/{launched_action}/dashboard", headers=viewer)
    tree = Tree(viewer_console.get(f"/console/actions/{launched_action}")
                .get_data(as_text=True)).root
    missing = client.get("/api/v1/actions/nosuch/dashboard", headers=viewer)

    assert api.status_code == 200
    body = api.get_json()
    assert body["totals"] == {"supporters": 2, "letters_pledged": 6, "letters_confirmed": 1}
    assert number(tree.one("metric-letters-pledged-value").content()) == 6
    officials = {r.attrs["data-name"]: number(r.one("letters-confirmed").content())
                 for r in tree.one("officials-table").all("split-row")}
    assert {t["name"]: t["letters_confirmed"] for t in body["targets"]} == officials
    assert {c["name"]: c["letters_confirmed"] for c in body["channels"]} == {
        "post": 0, "email": 0, "fax": 1, "online": 0}
    assert [m["kind"] for m in body["markers"]] == ["launched"]
    assert missing.status_code == 404

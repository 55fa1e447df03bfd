"""The dashboard's read model: people and letters per day, official, channel, country and
language, following the log; a rebuild gives back what was counted live."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from campaign.application.commands import Meta
from campaign.application.pledges import SentLetter, confirm_letter, make_pledge
from campaign.application.supporters import Registration, erase_supporter, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import action, preferences
from campaign.domain.pledge import Channel
from campaign.domain.values import Deadline
from campaign.read_models.dashboard_reading import Counts, Dashboard, read_dashboard
from events import SubscriptionRunner, rebuild

META = Meta(actor="test", correlation_id="test")
ACTION = "ua-dashboard"
LAUNCHED = datetime(2010, 9, 15, 7, tzinfo=UTC)
DAY_ONE, DAY_TWO = LAUNCHED + timedelta(hours=2), LAUNCHED + timedelta(days=1, hours=3)
DEADLINE = Deadline(on=date(2010, 10, 27), timezone=seed.TIMEZONE)
TWO_OFFICIALS = ("minister-interior", "general-prosecutor")


def launch(container: Container) -> None:
    targets = tuple(t for t in seed.DRAFT.targets if t.target_id in TWO_OFFICIALS)
    draft = replace(seed.DRAFT, action_id=ACTION, deadline=DEADLINE, drafted_at=LAUNCHED,
                    targets=targets)
    container.commands.handle(seed.OPEN_CASE, META)
    container.commands.handle(draft, META)
    container.commands.handle(action.LaunchAction(ACTION, launched_at=LAUNCHED), META)


def supporter(container: Container, country: str = "GB", locale: str = "en") -> str:
    form = Registration(f"{uuid.uuid4().hex}@example.org", "Test Supporter", locale, country,
                        "Europe/London")
    return register_supporter(container.commands, container.blind_index, form, META, LAUNCHED)


def pledge(container: Container, supporter_id: str, at: datetime = DAY_ONE,
           targets: tuple[str, ...] = ()) -> None:
    make_pledge(container.commands, ACTION, supporter_id, targets, 1, META, at)


def letter(container: Container, supporter_id: str, target_id: str, channel: Channel,
           at: datetime = DAY_TWO) -> None:
    sent = SentLetter(uuid.uuid4().hex, target_id, channel, at.date())
    confirm_letter(container.commands, ACTION, supporter_id, sent, META, at)


def dashboard(container: Container) -> Dashboard:
    SubscriptionRunner(container.store, container.subscriptions["action_dashboard"]).run()
    with container.engine.connect() as conn:
        found = read_dashboard(conn, ACTION)
    assert found is not None
    return found


def by_name(splits: object) -> dict[str, Counts]:
    return {s.name: s.counts for s in splits}  # type: ignore[attr-defined]


def test_five_pledges_to_two_officials_are_five_people_and_ten_letters_pledged(
    container: Container,
) -> None:
    launch(container)
    people = [supporter(container, country, locale) for country, locale in
              [("GB", "en"), ("GB", "en"), ("RU", "ru"), ("AR", "es"), ("RU", "ru")]]
    for person in people:
        pledge(container, person)
    letter(container, people[0], "minister-interior", "post")
    letter(container, people[0], "general-prosecutor", "email")
    letter(container, people[2], "minister-interior", "fax")

    seen = dashboard(container)

    assert seen.totals == Counts(supporters=5, letters_pledged=10, letters_confirmed=3)
    assert [(d.day, d.counts, d.running) for d in seen.days] == [
        (DAY_ONE.date(), Counts(5, 10, 0), Counts(5, 10, 0)),
        (DAY_TWO.date(), Counts(0, 0, 3), Counts(5, 10, 3)),
    ]
    assert [(s.name, s.counts) for s in seen.targets] == [
        ("minister-interior", Counts(5, 5, 2)), ("general-prosecutor", Counts(5, 5, 1))]
    assert sum((s.counts for s in seen.targets), Counts()).letters_pledged == 10
    assert by_name(seen.channels) == {"post": Counts(0, 0, 1), "email": Counts(0, 0, 1),
                                      "fax": Counts(0, 0, 1), "online": Counts()}
    assert by_name(seen.countries) == {"GB": Counts(2, 4, 2), "RU": Counts(2, 4, 1),
                                       "AR": Counts(1, 2, 0)}
    assert [s.name for s in seen.countries] == ["GB", "RU", "AR"]
    assert by_name(seen.languages) == {"en": Counts(2, 4, 2), "ru": Counts(2, 4, 1),
                                       "es": Counts(1, 2, 0)}
    assert seen.totals.confirmation_rate == 0.3


def test_a_pledge_to_one_official_is_one_letter_pledged_to_that_official_only(
    container: Container,
) -> None:
    launch(container)
    pledge(container, supporter(container), targets=("general-prosecutor",))

    seen = dashboard(container)

    assert seen.totals == Counts(1, 1, 0)
    assert by_name(seen.targets) == {"general-prosecutor": Counts(1, 1, 0),
                                     "minister-interior": Counts()}


def test_countries_beyond_the_ten_largest_add_up_in_one_row(container: Container) -> None:
    launch(container)
    codes = ["FR", "DE", "IT", "ES", "PT", "NL", "BE", "AT", "CH", "SE", "NO", "DK"]
    for n, code in enumerate(codes):
        for _ in range(2 if n < 10 else 1):
            pledge(container, supporter(container, code))

    seen = dashboard(container)

    assert [s.name for s in seen.countries] == [*sorted(codes[:10]), "others"]
    assert seen.countries[-1].counts == Counts(2, 4, 0)
    assert sum((s.counts for s in seen.countries), Counts()) == seen.totals


def test_a_move_or_an_erasure_after_pledging_keeps_the_counts_even_through_a_rebuild(
    container: Container,
) -> None:
    launch(container)
    mover, erased = supporter(container, "RU", "ru"), supporter(container, "AR", "es")
    pledge(container, mover)
    pledge(container, erased)
    letter(container, erased, "minister-interior", "online")
    container.commands.handle(preferences.ChangePreferences(
        supporter_id=mover, locale="en", country="GB", timezone="Europe/London",
        changed_at=DAY_TWO), META)
    erase_supporter(container.commands, container.vault, erased, "supporter", META, DAY_TWO)
    pledge(container, supporter(container, "GB", "en"), at=DAY_TWO)
    live = dashboard(container)

    rebuild(container.store, container.projections["action_dashboard"])
    with container.engine.connect() as conn:
        rebuilt = read_dashboard(conn, ACTION)

    assert by_name(live.countries) == {"RU": Counts(1, 2, 0), "AR": Counts(1, 2, 1),
                                       "GB": Counts(1, 2, 0)}
    assert rebuilt == live


def test_the_time_chart_marks_the_launch_each_update_the_extension_and_the_stop(
    container: Container,
) -> None:
    launch(container)
    later = Deadline(on=date(2010, 11, 2), timezone=seed.TIMEZONE)
    updated_at, closed_at = LAUNCHED + timedelta(days=3), LAUNCHED + timedelta(days=9)
    container.commands.handle(action.PublishUpdate(
        action_id=ACTION, number=6, published_at=updated_at, deadline=later), META)
    container.commands.handle(action.CloseAction(ACTION, "released", "", closed_at), META)

    seen = dashboard(container)

    assert [(m.kind, m.number, m.at) for m in seen.markers] == [
        ("launched", None, LAUNCHED), ("updated", 6, updated_at),
        ("extended", 6, updated_at), ("closed", None, closed_at)]
    assert seen.markers[2].deadline_at == later.ends_at() == seen.deadline_at
    assert (seen.launched_at, seen.updates, seen.status) == (LAUNCHED, 1, "closed")


def test_an_action_nobody_pledged_to_shows_zeros_and_an_unknown_one_nothing(
    container: Container,
) -> None:
    launch(container)

    seen = dashboard(container)
    with container.engine.connect() as conn:
        unknown = read_dashboard(conn, "no-such-action")

    assert (seen.totals, seen.days, seen.totals.confirmation_rate) == (Counts(), (), None)
    assert [s.counts for s in seen.targets] == [Counts(), Counts()]
    assert unknown is None

"""Letter milestones and daily counts: counted from the log, reported once, sent as numbers."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

from campaign.application.pledges import make_pledge
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import letter_reports, pledge, supporter
from campaign.partners.letter_reports import SUBSCRIPTION, report_daily_letter_counts
from events import SubscriptionRunner
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.webhooks.conftest import (
    META,
    Clock,
    Pipeline,
    launch_seed_action,
    register,
)

COUNTS = ("action.letters_milestone", "action.daily_letter_counts")
TARGETS = [t.target_id for t in seed.TARGETS]


class Letters:
    """Supporters who pledged to the seed action and confirm letters on demand."""

    def __init__(self, container: Container, clock: Clock, people: int = 4) -> None:
        self.container, self.clock = container, clock
        self.supporters: list[str] = []
        self.sent = 0
        for n in range(people):
            supporter_id = register_supporter(
                container.commands, container.blind_index,
                Registration(f"writer-{n}@example.org", f"Writer {n}", "en", "GB",
                             "Europe/London"), META, clock())
            container.commands.handle(supporter.ConfirmConsent(
                supporter_id=supporter_id, confirmed_at=clock()), META)
            make_pledge(container.commands, seed.ACTION_ID, supporter_id, (), 50, META, clock())
            self.supporters.append(supporter_id)

    def confirm(self, count: int, target: str | None = None) -> None:
        for _ in range(count):
            n = self.sent
            self.sent += 1
            self.container.commands.handle(pledge.ConfirmLetter(
                action_id=seed.ACTION_ID, supporter_id=self.supporters[n % len(self.supporters)],
                letter_id=f"letter-{n}", target_id=target or TARGETS[n % len(TARGETS)],
                channel="post", sent_on=self.clock().date(), confirmed_at=self.clock(),
                action_issued_on=seed.ISSUED_ON), META)


def count_letters(container: Container) -> None:
    SubscriptionRunner(container.store, container.subscriptions[SUBSCRIPTION]).run()


def reports(container: Container, type_name: str) -> list[dict[str, object]]:
    return [e.data for e in container.store.read_all(limit=100_000) if e.type == type_name]


def milestones(container: Container) -> list[object]:
    return [d["milestone"] for d in reports(container, "LetterMilestoneReached")]


def letters_day(container: Container) -> date:
    """The UTC day the log recorded the letters on (today, unless the test ran over midnight)."""
    (day,) = {e.recorded_at.date() for e in container.store.read_all(limit=100_000)
              if e.type == "LetterConfirmed"}
    return day


def day_after(container: Container, at: time) -> datetime:
    """A moment on the day after the letters were recorded."""
    return datetime.combine(letters_day(container) + timedelta(days=1), at, tzinfo=UTC)


def test_reaching_100_letters_is_announced_once_and_sent_to_partners(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    register(container, receiver, clock(), event_types=COUNTS)
    launch_seed_action(container)
    letters = Letters(container, clock)
    letters.confirm(99)
    count_letters(container)
    assert milestones(container) == []

    letters.confirm(30)
    count_letters(container)
    count_letters(container)
    pipeline.run()

    assert milestones(container) == [100]
    (sent,) = receiver.deliveries()
    assert sent.payload["type"] == "action.letters_milestone"
    data = sent.payload["data"]
    assert (data["milestone"], data["letters"]) == (100, 100)
    assert (data["action_id"], data["case_id"], data["country"]) == (
        seed.ACTION_ID, seed.CASE_ID, "KG")
    assert data["title"] == seed.TITLE


def test_a_batch_that_jumps_past_a_milestone_announces_it_at_the_letter_that_crossed_it(
    container: Container, clock: Clock,
) -> None:
    launch_seed_action(container)
    letters = Letters(container, clock)
    letters.confirm(150)
    count_letters(container)  # one batch of 150 events

    (reached,) = reports(container, "LetterMilestoneReached")
    assert (reached["milestone"], reached["letters"]) == (100, 100)


def test_each_day_with_letters_is_reported_once_after_it_ends(
    container: Container, pipeline: Pipeline, receiver: PartnerReceiver, clock: Clock,
) -> None:
    register(container, receiver, clock(), event_types=COUNTS)
    launch_seed_action(container)
    letters = Letters(container, clock)
    letters.confirm(3, TARGETS[0])
    letters.confirm(1, TARGETS[1])
    count_letters(container)

    def report_at(at: time) -> int:
        return report_daily_letter_counts(container.commands, day_after(container, at))

    assert report_at(time(0, 5)) == 0  # within the grace after midnight
    assert report_at(time(0, 15)) == 1
    assert report_at(time(0, 20)) == 0
    pipeline.run()

    (report,) = reports(container, "DailyLetterCountsReported")
    assert report["day"] == letters_day(container).isoformat()
    assert report["total"] == 4
    assert report["per_target"] == [{"target_id": TARGETS[0], "letters": 3},
                                    {"target_id": TARGETS[1], "letters": 1},
                                    {"target_id": TARGETS[2], "letters": 0}]
    (sent,) = receiver.deliveries()
    data = sent.payload["data"]
    assert sent.payload["type"] == "action.daily_letter_counts"
    assert (data["day"], data["total"]) == (report["day"], 4)
    assert [(t["target_id"], t["letters"]) for t in data["targets"]] == [
        (TARGETS[0], 3), (TARGETS[1], 1), (TARGETS[2], 0)]
    assert data["targets"][0]["name"] == seed.TARGETS[0].name


def test_a_day_waits_while_its_letters_are_still_being_counted(
    container: Container, clock: Clock,
) -> None:
    launch_seed_action(container)
    Letters(container, clock).confirm(2)

    assert report_daily_letter_counts(container.commands, day_after(container, time(1))) == 0
    count_letters(container)
    assert report_daily_letter_counts(container.commands, day_after(container, time(1))) == 1


def test_two_clocks_reporting_at_once_report_a_day_once(
    container: Container, clock: Clock,
) -> None:
    launch_seed_action(container)
    Letters(container, clock).confirm(5)
    count_letters(container)
    barrier = threading.Barrier(2)
    results: list[int] = []

    at = day_after(container, time(0, 30))

    def clock_process() -> None:
        barrier.wait()
        results.append(report_daily_letter_counts(container.commands, at))

    threads = [threading.Thread(target=clock_process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [0, 1]
    assert len(reports(container, "DailyLetterCountsReported")) == 1


def test_the_reports_hold_counts_and_no_one_who_wrote(
    container: Container, clock: Clock,
) -> None:
    launch_seed_action(container)
    letters = Letters(container, clock)
    letters.confirm(100)
    count_letters(container)
    report_daily_letter_counts(container.commands, day_after(container, time(1)))

    stored = [e for e in container.store.read_all(limit=100_000)
              if e.type in {t.type_name for t in letter_reports.EVENTS}]
    text = repr([e.data for e in stored])
    assert len(stored) == 2
    assert all(s not in text for s in letters.supporters)
    assert "writer-" not in text and "Writer" not in text

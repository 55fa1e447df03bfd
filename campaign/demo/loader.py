"""`campaign demo`: the seed case and action, loaded through the same handlers as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from campaign.application.commands import Meta
from campaign.application.pledges import SentLetter, confirm_letter, make_pledge
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain import case, pledge, supporter

META = Meta(actor="demo", correlation_id="demo-ua-135-10")


@dataclass(frozen=True)
class DemoSupporter:
    """A made-up supporter writing in their own language from their own timezone."""

    registration: Registration
    targets: tuple[str, ...]
    letters_sent: tuple[tuple[str, pledge.Channel, date], ...]


SUPPORTERS = (
    DemoSupporter(Registration("aigerim@example.org", "Aigerim Sadykova", "ky", "KG",
                               "Asia/Bishkek"),
                  (), (("minister-interior", "post", date(2010, 9, 18)),
                       ("general-prosecutor", "fax", date(2010, 9, 18)),
                       ("president", "email", date(2010, 9, 19)))),
    DemoSupporter(Registration("olga@example.org", "Olga Petrova", "ru", "RU", "Europe/Moscow"),
                  ("minister-interior", "general-prosecutor"),
                  (("minister-interior", "email", date(2010, 9, 20)),)),
    DemoSupporter(Registration("sam@example.org", "Sam Okafor", "en", "GB", "Europe/London"),
                  ("minister-interior",), (("minister-interior", "post", date(2010, 9, 21)),)),
    DemoSupporter(Registration("lucia@example.org", "Lucía Fernández", "es", "AR",
                               "America/Argentina/Buenos_Aires"), ("general-prosecutor",), ()),
)


def load_demo(c: Container) -> bool:
    """Load the seed unless it is there already; True when it was loaded now."""
    if c.store.stream_version(case.case_stream(seed.CASE_ID)):
        return False
    for command in (*seed.CASE_COMMANDS, *seed.ACTION_COMMANDS):
        c.commands.handle(command, META)
    for n, person in enumerate(SUPPORTERS):
        _write_letters(c, person, datetime(2010, 9, 16, 8 + n, tzinfo=UTC))
    return True


def _write_letters(c: Container, person: DemoSupporter, at: datetime) -> None:
    supporter_id = register_supporter(c.commands, c.blind_index, person.registration, META, at)
    c.commands.handle(
        supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=at), META)
    letters = len(person.targets or seed.TARGETS)
    make_pledge(c.commands, seed.ACTION_ID, supporter_id, person.targets, letters, META, at)
    for n, (target_id, channel, sent_on) in enumerate(person.letters_sent):
        letter = SentLetter(f"demo-{n}", target_id, channel, sent_on)
        confirm_letter(c.commands, seed.ACTION_ID, supporter_id, letter, META,
                       datetime.combine(sent_on, at.timetz()))

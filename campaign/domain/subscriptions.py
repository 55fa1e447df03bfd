"""Which actions a supporter receives, and what a sign-up may ask for.

A value of the Supporter aggregate (campaign.domain.supporter), kept apart to keep that
module short; the public requests (campaign.domain.requests) check sign-ups with it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from campaign.domain.base import DomainError
from campaign.domain.values import require_single_line

MAX_CASES_AT_SIGN_UP: Final = 20
"""A sign-up names the case of the page it came from; a long list is not a person's choice."""


@dataclass(frozen=True)
class Subscriptions:
    """Which actions a supporter wants: all of them, or those for some countries or cases."""

    all_actions: bool = True
    countries: tuple[str, ...] = ()
    case_ids: tuple[str, ...] = ()

    def covers(self, country: str, case_id: str) -> bool:
        """True if an action about `case_id` in `country` should be sent."""
        return self.all_actions or country in self.countries or case_id in self.case_ids

    def joined(self, other: Subscriptions) -> Subscriptions:
        """Everything either covers: signing up again adds to a choice, never narrows it."""
        return Subscriptions(
            all_actions=self.all_actions or other.all_actions,
            countries=tuple(dict.fromkeys((*self.countries, *other.countries))),
            case_ids=tuple(dict.fromkeys((*self.case_ids, *other.case_ids))),
        )


NOTHING_MORE = Subscriptions(all_actions=False)
"""No subscription to add (a confirmation request that asks for nothing new)."""


def validate_sign_up_choice(all_actions: bool, case_ids: tuple[str, ...]) -> None:
    """All actions, or the actions about a few named cases: a sign-up asks for something."""
    if not all_actions and not case_ids:
        raise DomainError("no_subscription", "choose all actions or at least one case")
    if len(case_ids) > MAX_CASES_AT_SIGN_UP:
        raise DomainError("too_many_cases", f"at most {MAX_CASES_AT_SIGN_UP} cases at sign-up")
    for case_id in case_ids:
        if not case_id or len(case_id) > 500:
            raise DomainError("invalid_case_id", "a case id is 1 to 500 characters")
        require_single_line(case_id, "a case id")

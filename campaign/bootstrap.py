"""The one wiring point: settings in, the store and its projections and subscriptions out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from campaign.auth import SupporterLinks
from campaign.read_models.daily_activity import DailyActivity
from campaign.read_models.stream_directory import StreamDirectory
from campaign.settings import Settings
from events import (
    EventStore,
    Projection,
    Subscription,
    Upcasters,
    create_store_engine,
    projection_subscription,
)
from events.personal_data import BlindIndex, Vault


def all_projections() -> list[Projection]:
    """Every read model of the product, inline and catch-up."""
    return [StreamDirectory(), DailyActivity()]


@dataclass
class Services:
    """What request handlers, the CLI and workers share; built once per process."""

    settings: Settings
    engine: Engine
    store: EventStore
    projections: Sequence[Projection]
    subscriptions: Sequence[Subscription] = field(default_factory=list)
    links: SupporterLinks = field(init=False)
    vault: Vault = field(init=False)
    blind_index: BlindIndex = field(init=False)

    def __post_init__(self) -> None:
        self.links = SupporterLinks(self.settings.secret_key)
        self.vault = Vault(self.settings.secret_key)
        self.blind_index = BlindIndex(self.settings.secret_key)

    def projection(self, name: str) -> Projection:
        """The projection called `name`; KeyError names the ones that exist."""
        for projection in self.projections:
            if projection.name == name:
                return projection
        known = ", ".join(p.name for p in self.projections)
        raise KeyError(f"no projection {name!r}; known: {known}")

    def subscription(self, name: str) -> Subscription:
        """The subscription called `name`."""
        for subscription in self.subscriptions:
            if subscription.name == name:
                return subscription
        raise KeyError(f"no subscription {name!r}")


def bootstrap(settings: Settings, engine: Engine | None = None) -> Services:
    """Build the services for `settings`; tests pass their own engine."""
    engine = engine or create_store_engine(settings.database_url)
    projections = all_projections()
    store = EventStore(engine, upcasters=Upcasters(), projections=projections)
    subscriptions = [projection_subscription(p) for p in projections if p.mode == "catch-up"]
    return Services(settings, engine, store, projections, subscriptions)

"""Read models: tables derived from the event log, each owned by one projection."""

from campaign.read_models.tables import metadata

__all__ = ["metadata"]

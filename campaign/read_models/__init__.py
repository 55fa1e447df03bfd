"""Read models: projections that derive query tables (in campaign.infra.tables) from the log."""

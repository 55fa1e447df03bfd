"""Read models: projections that derive query tables (in campaign.tables) from the log."""

"""Solidarity partners: the registry, the partner-visible view of the log, inbound and feed."""

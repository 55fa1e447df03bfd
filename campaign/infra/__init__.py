"""Plumbing the layers above share: tables, database, event mapping, queue, HTTP, clock."""

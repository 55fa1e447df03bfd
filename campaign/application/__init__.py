"""Use cases and command handling: what the product does, with no HTTP, no queue and no mail."""

"""Outbound partner webhooks (Standard Webhooks v1): the outbox, the deliveries, the attempts."""

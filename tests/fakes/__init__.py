"""Local stand-ins for external services, driven by the real client libraries."""

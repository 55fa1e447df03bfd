"""Local stand-ins for external container, driven by the real client libraries."""

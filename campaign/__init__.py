"""Urgent-action campaigns: cases, actions, supporters and partners over one event log."""

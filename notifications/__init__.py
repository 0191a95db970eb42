"""Outbox, channels, templates, digests and preferences (issue: flows and notifications)."""

"""Prefect flows and their schedules: thin shells over the packages' due-work functions (issue: flows)."""

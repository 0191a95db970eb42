"""Casebook application shell: settings, store, clock, audit log, users and the CLI."""

__version__ = "0.1.0"

"""Recognizers (see redaction.recognizers)."""

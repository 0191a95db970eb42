"""Presidio analyzer with Casebook's zh/en recognizers, operators and tier rendering (issue: redaction)."""

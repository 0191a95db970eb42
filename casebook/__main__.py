"""``python -m casebook`` runs the command line."""

from casebook.cli import main

main()

"""Web pages and the JSON API (FastAPI), served by ``casebook up``."""

"""Minimal systems under test, each run by uvicorn in its own process (see `uvicorn_server`)."""

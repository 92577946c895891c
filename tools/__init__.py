"""Developer-only measurement scripts (run from the repository root: ``python -m tools.<name>``); the app never imports them."""

"""Test helpers: the bot under test, running against the fake Bot API server."""

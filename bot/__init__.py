"""Pyeonji (편지): a Telegram bot for North Korean defector support networks."""

"""Telegram-facing handlers, one module per feature; each exports `handlers(runtime)`."""

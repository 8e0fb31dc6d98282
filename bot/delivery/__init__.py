"""Sending what the bot says on its own initiative: the outbox sender and its pacing."""

from bot.delivery.pacing import Pacer
from bot.delivery.sender import OutboxSender, SenderStats

__all__ = ["OutboxSender", "Pacer", "SenderStats"]

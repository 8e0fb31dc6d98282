"""Sending what the bot says: the one send budget, and the outbox sender that draws on it."""

from bot.delivery.budget import BudgetRateLimiter, Priority, SendBudget
from bot.delivery.sender import OutboxSender, SenderStats

__all__ = ["BudgetRateLimiter", "OutboxSender", "Priority", "SendBudget", "SenderStats"]

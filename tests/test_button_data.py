"""Button data: a typed value per button kind, within Telegram's 64 bytes, forgeries refused."""

from __future__ import annotations

import re

import pytest
from telegram.ext import CallbackQueryHandler

from bot.handlers import buttons
from bot.handlers.buttons import (
    AnnounceSend,
    ForgetAnswer,
    ReviewReason,
    SettingsZone,
    WritePreview,
)
from bot.services.broadcasts import Audience
from bot.services.letters import RejectReason
from tests.support.harness import RunningBot


def test_button_data_round_trips_within_64_bytes_and_refuses_anything_else() -> None:
    send = AnnounceSend(draft=(1 << 40) - 1, audience=Audience.KOREAN)
    assert AnnounceSend.unpack(send.pack()) == send
    zone = SettingsZone(view=123456, zone="America/Argentina/Buenos_Aires")
    assert len(zone.pack().encode()) <= 64 and SettingsZone.unpack(zone.pack()) == zone
    reason = ReviewReason(letter=7, reason=RejectReason.IDENTIFYING)
    assert ReviewReason.unpack(reason.pack()) == reason
    assert AnnounceSend.unpack(reason.pack()) is None
    for forged in (
        "ann:send:1",  # a field missing
        "ann:send:1:all:2",  # one too many
        "ann:send:-1:all",  # a sign
        "ann:send:01:all",  # a leading zero
        "ann:send:1:martians",  # not an audience
        "ann:send:1:all\n",
        "ann:sendx:1:all",
        "forget:yes",  # the old, unbound form
        "forget:1:2:3",
        "x" * 65,
        None,
    ):
        assert AnnounceSend.unpack(forged) is None, forged
        assert ForgetAnswer.unpack(forged) is None, forged
    with pytest.raises(ValueError, match="cannot be packed"):
        SettingsZone(view=1, zone="Mars:Base").pack()
    with pytest.raises(ValueError, match="longer than 64"):
        SettingsZone(view=10**17, zone="A" * 40).pack()
    assert WritePreview.pattern == "^write:do(:|$)"


async def test_every_button_kind_has_its_own_handler_matched_by_its_prefix(
    bot: RunningBot,
) -> None:
    """One CallbackQueryHandler per kind (bot/handlers/presses.py), never a router by hand."""
    kinds = [
        kind
        for kind in vars(buttons).values()
        if isinstance(kind, type)
        and issubclass(kind, buttons.ButtonData)
        and kind is not buttons.ButtonData
    ]
    handlers = [h for group in bot.application.handlers.values() for h in group]
    patterns = [
        h.pattern.pattern
        for h in handlers
        if isinstance(h, CallbackQueryHandler) and isinstance(h.pattern, re.Pattern)
    ]
    assert sorted(patterns) == sorted(kind.pattern for kind in kinds)

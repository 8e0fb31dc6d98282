"""Button data: a typed value per button kind, within Telegram's 64 bytes, forgeries refused."""

from __future__ import annotations

import pytest

from bot.handlers.buttons import (
    AnnounceSend,
    ForgetAnswer,
    ReviewReason,
    SettingsZone,
    WritePreview,
    unpack_any,
)
from bot.services.broadcasts import Audience
from bot.services.letters import RejectReason


def test_button_data_round_trips_within_64_bytes_and_refuses_anything_else() -> None:
    send = AnnounceSend(draft=(1 << 40) - 1, audience=Audience.KOREAN)
    assert AnnounceSend.unpack(send.pack()) == send
    zone = SettingsZone(view=123456, zone="America/Argentina/Buenos_Aires")
    assert len(zone.pack().encode()) <= 64 and SettingsZone.unpack(zone.pack()) == zone
    reason = ReviewReason(letter=7, reason=RejectReason.IDENTIFYING)
    assert unpack_any(reason.pack(), AnnounceSend, ReviewReason) == reason
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
        assert unpack_any(forged, AnnounceSend, ForgetAnswer) is None, forged
    with pytest.raises(ValueError, match="cannot be packed"):
        SettingsZone(view=1, zone="Mars:Base").pack()
    with pytest.raises(ValueError, match="longer than 64"):
        SettingsZone(view=10**17, zone="A" * 40).pack()
    assert WritePreview.pattern == "^write:do(:|$)"

"""Admins are told of every privileged action as it happens, and can mute a kind of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.models import Role
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.conftest import StartBot, rejected_calls
from tests.support.harness import (
    ADMIN_ID,
    COORDINATOR_ID,
    COURIER_ID,
    FrozenClock,
    RunningBot,
    settled,
)
from tests.support.people import member_who_joined, staff
from tests.test_letters import LETTER_EN, LETTER_KO, TRANSLATION_KO, needs_font, write

SECOND_ADMIN = ADMIN_ID + 1


async def alerted(bot: RunningBot, person: FakeUser, *parts: str) -> str:
    """The alert (🔔) in `person`'s chat that holds every one of `parts`.

    No waiting for the once-a-second job: once the bot has handled every update, one flush
    queues every alert they caused, and the drained outbox has sent them.
    """
    await settled(bot, person.server)
    await bot.runtime.alerts.flush()
    assert await bot.runtime.sender.drained(timeout=10)
    for message in person.messages:
        if message.text.startswith("🔔") and all(part in message.text for part in parts):
            return message.text
    shown = alerts_of(person)
    raise AssertionError(f"no alert with {parts} for {person.id}; alerts: {shown}")


async def alerted_times(bot: RunningBot, person: FakeUser, count: int) -> None:
    """Exactly `count` alerts so far, and another flush adds none."""
    await alerted(bot, person)
    await bot.runtime.alerts.flush()
    assert await bot.runtime.sender.drained(timeout=10)
    assert len(alerts_of(person)) == count, alerts_of(person)


def alerts_of(person: FakeUser) -> list[str]:
    return [m.text for m in person.messages if m.text.startswith("🔔")]


@needs_font
async def test_every_privileged_action_is_told_to_every_admin_in_their_language(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    bot = await make_bot(clock, ADMIN_IDS=f"{ADMIN_ID},{SECOND_ADMIN}", SEND_RATE="50")
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    korean_admin = await member_who_joined(sandbox, SECOND_ADMIN, "ko", subscribe=False)
    await member_who_joined(sandbox, 8601, "en")
    coordinator = await staff(bot, sandbox, COORDINATOR_ID, Role.COORDINATOR)
    second = await staff(bot, sandbox, COORDINATOR_ID + 1, Role.COORDINATOR)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)

    await alerted(bot, admin, f"{ADMIN_ID} gave {COORDINATOR_ID} the role coordinator.")
    await alerted(bot, korean_admin, str(ADMIN_ID), str(COORDINATOR_ID), "담당자")

    await coordinator.send("/announce")
    await coordinator.send("/skip")
    await coordinator.send("Vigil on Friday at 7 pm.")
    await coordinator.click(await coordinator.expect("Who should receive"), "Everyone")
    await coordinator.click(await coordinator.expect("Send this announcement"), "Send")
    await alerted(bot, admin, f"{COORDINATOR_ID} sent an announcement to 1 person.")

    await coordinator.send("/post")
    await coordinator.send("/skip")
    await coordinator.send("Photos of the vigil: photos.example/vigil")
    await coordinator.send("/skip")
    await coordinator.click(await coordinator.expect("Publish it?"), "Publish")
    await second.click(await second.expect("Approval needed"), "Approve")
    await alerted(bot, admin, f"{COORDINATOR_ID + 1} approved a broadcast by {COORDINATOR_ID}.")
    await alerted(bot, admin, f"{COORDINATOR_ID} published an update; it goes at once to 1 sub")

    await admin.send("/block 8601")
    await alerted(bot, admin, f"{ADMIN_ID} blocked member 8601.")
    await admin.send("/unblock 8601")
    await alerted(bot, admin, f"{ADMIN_ID} unblocked member 8601.")

    writer = await member_who_joined(sandbox, 8602, "ko", subscribe=False)
    await write(writer, LETTER_KO)
    await coordinator.send("/review")
    await coordinator.click(await coordinator.expect("Letter waiting for review"), "Approve")
    await courier.send("/bundle")
    await courier.expect(lambda m: m.kind == "document")
    await alerted(bot, admin, f"{COURIER_ID} made bundle 1 of 1 letter.")
    await courier.send("/bundles")
    await courier.click(await courier.expect("Bundle 1: 1 letter"), "Mark bundle 1 handed over")
    await courier.click(await courier.expect("When did you hand over bundle 1"), "Today")
    await alerted(bot, admin, f"{COURIER_ID} marked bundle 1 as handed over on 2026-11-22.")

    await admin.send(f"/revoke {COURIER_ID} courier")
    await alerted(bot, admin, f"{ADMIN_ID} took the role courier from {COURIER_ID}.")
    await alerted(bot, korean_admin, "전달자", str(COURIER_ID))
    # One alert per action and admin, never a repeat.
    for person in (admin, korean_admin):
        await alerted_times(bot, person, 11)
        assert len(set(alerts_of(person))) == 11, alerts_of(person)
    assert rejected_calls(sandbox) == []


# Pressing the state a kind already has re-renders the same screen: Telegram's "not modified".
@pytest.mark.rejects_on_purpose("message is not modified")
async def test_an_admin_mutes_one_kind_and_still_gets_the_others(
    make_bot: StartBot, sandbox: FakeBotApi, database: Path
) -> None:
    bot = await make_bot(ADMIN_IDS=f"{ADMIN_ID},{SECOND_ADMIN}")
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    other = await member_who_joined(sandbox, SECOND_ADMIN, "en", subscribe=False)
    await member_who_joined(sandbox, 8611, "en")

    await other.send("/alerts")
    screen = await other.expect("Alerts")
    mute = screen.button("🔔 Roles granted and revoked").callback_data or ""
    await other.click(screen, "🔔 Roles granted and revoked")
    redrawn = await other.expect(lambda m: m.message_id == screen.message_id and m.edited)
    assert redrawn.button("🔕 Roles granted and revoked")
    await other.press(screen, mute)  # an old button again: it sets, never toggles
    await settled(bot, sandbox)

    await admin.send("/grant 8611 translator")
    await admin.send("/block 8611")
    await alerted(bot, other, "blocked member 8611")
    await alerted(bot, admin, "gave 8611 the role translator")
    assert not any("gave 8611" in text for text in alerts_of(other))

    coordinator = await member_who_joined(sandbox, 8612, "en")
    await coordinator.send("/alerts")  # not an admin
    await coordinator.expect("Sorry")


async def test_an_alert_is_queued_once_even_when_two_flushes_overlap(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    bot = await make_bot()
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    await member_who_joined(sandbox, 8621, "en")
    await bot.runtime.roles.grant(ADMIN_ID, 8621, Role.COURIER)
    queued = await asyncio.gather(*(bot.runtime.alerts.flush() for _ in range(4)))
    assert sum(queued) <= 1
    await alerted(bot, admin, "gave 8621 the role courier")
    await alerted_times(bot, admin, 1)


async def test_staff_trying_beyond_their_role_is_alerted_once_an_hour_members_are_not(
    make_bot: StartBot, sandbox: FakeBotApi, clock: FrozenClock
) -> None:
    """A hijacked courier account probing for more power shows up within a second; a
    hundred tries are one alert (all in /audit); a curious member's /post alerts nobody."""
    bot = await make_bot(clock)
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    courier = await staff(bot, sandbox, COURIER_ID, Role.COURIER)
    member = await member_who_joined(sandbox, 8631, "en")
    await alerted_times(bot, admin, 1)  # the courier's role itself

    await member.send("/post")
    await member.expect("Sorry, only coordinators can do that.")
    await alerted_times(bot, admin, 1)  # audited, not alerted

    await courier.send("/grant 8631 coordinator")
    await courier.expect("Sorry, only admins can do that.")
    for command in ("/audit", "/block 8631", "/post"):
        await courier.send(command)
        await courier.expect("Sorry")
    refused = await alerted(bot, admin, str(COURIER_ID), "who holds a role, was refused")
    assert "granting or revoking roles" in refused
    await alerted_times(bot, admin, 2)  # one alert for the four tries

    clock.advance(hours=1, seconds=1)
    await courier.send("/stats")
    await courier.expect("Sorry")
    again = await alerted(bot, admin, "was refused: reading statistics")
    assert again != refused
    await alerted_times(bot, admin, 3)

    await admin.send("/audit")
    audit = await admin.expect("Recent privileged actions")
    assert audit.text.count(f"{COURIER_ID} was refused") == 5


async def test_every_translation_is_told_to_the_admins_and_audit_says_it_in_words(
    make_bot: StartBot, sandbox: FakeBotApi
) -> None:
    """The bundle prints the translation, so a hijacked translator's words would reach the
    soldiers: each translation is an alert, and /audit words every action the same way."""
    bot = await make_bot()
    admin = await member_who_joined(sandbox, ADMIN_ID, "en", subscribe=False)
    writer = await member_who_joined(sandbox, 8641, "en", subscribe=False)
    await write(writer, LETTER_EN)
    await bot.runtime.letters.approve(COORDINATOR_ID, 1)
    await bot.runtime.letters.translate(COORDINATOR_ID, 1, TRANSLATION_KO)
    await alerted(bot, admin, f"{COORDINATOR_ID} translated letter 1 into Korean")
    await admin.send("/audit")
    audit = await admin.expect("Recent privileged actions")
    assert f"{COORDINATOR_ID} translated letter 1 into Korean" in audit.text
    assert "letter_translated" not in audit.text  # never the stored action name

"""People in a test: members who joined and subscribed, coordinators, couriers."""

from __future__ import annotations

from bot.models import Role
from fakebotapi.server import FakeBotApi
from fakebotapi.users import FakeUser
from tests.support.harness import ADMIN_ID, RunningBot


async def member_who_joined(
    sandbox: FakeBotApi, user_id: int, language: str = "en", *, subscribe: bool = True
) -> FakeUser:
    """Someone who sent /start, agreed, chose `language` and (by default) subscribed."""
    english = language == "en"
    member = sandbox.user(user_id, first_name=f"Member {user_id}", language_code=language)
    await member.send("/start")
    welcome = await member.expect("Pyeonji" if english else "‘편지’ 봇")
    await member.click(welcome, "I agree" if english else "동의해요")
    question = await member.expect("Which language" if english else "어떤 언어")
    await member.click(question, "English" if english else "한국어")
    offer = await member.expect("Would you like" if english else "받아 보시겠어요")
    if subscribe:
        await member.click(offer, "Yes" if english else "네")
        await member.expect("You are subscribed" if english else "이제 소식을 받아요")
    else:
        await member.click(offer, "Not now" if english else "나중에요")
        await member.expect("/subscribe")
    # The answer comes first and the offer's buttons go last: wait for that too, so the next
    # step of a test starts with nothing of this one still on its way.
    await sandbox.wait_until(
        lambda: member.chat.messages[offer.message_id].reply_markup is None,
        what="the subscribe offer's buttons removed",
    )
    return member


async def staff(
    bot: RunningBot, sandbox: FakeBotApi, user_id: int, role: Role, language: str = "en"
) -> FakeUser:
    """A member to whom the admin granted `role` through /grant."""
    person = await member_who_joined(sandbox, user_id, language, subscribe=False)
    admin = sandbox.user(ADMIN_ID, language_code="en")
    await admin.send(f"/grant {user_id} {role.value}")
    await admin.expect(f"{user_id} is now a")
    return person

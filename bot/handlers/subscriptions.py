"""Joining: /start with consent and language, deep links, /language, /subscribe, /unsubscribe."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler

from bot.handlers.access import NEVER_ASKS, consented
from bot.handlers.buttons import ConsentAnswer, LanguageChoice, SubscribeOffer
from bot.handlers.context import Context, Handler
from bot.handlers.flows import DeepLinks, FlowDraft, FlowRouter
from bot.handlers.menus import set_personal_menu
from bot.handlers.presses import on_member_press, on_press
from bot.handlers.replies import answer, close_buttons, keyboard, reply, show
from bot.i18n import N_, Html, Texts
from bot.models import Flow, Member
from bot.runtime import Runtime
from bot.services.flows import EXPIRED

# Language names are always shown in their own language, so anyone can find theirs.
LANGUAGE_NAMES = {"ko": "한국어", "en": "English"}  # on buttons, each in its own language
LANGUAGE_QUESTION = N_("Which language would you like?")
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram allows in a start parameter
ONBOARDING = "onboarding"


class OnboardingStep(StrEnum):
    CONSENT = "consent"  # the privacy notice, then the language


@dataclass(frozen=True)
class OnboardingDraft(FlowDraft):
    next: str | None = None  # a deep link's payload, followed once the language is chosen


_SEND_START = N_("This button has expired. Please send /start.")


class Subscriptions:
    """The first steps of every member, and turning updates on and off."""

    def __init__(self, runtime: Runtime, deep_links: DeepLinks, router: FlowRouter) -> None:
        self.runtime = runtime
        self.deep_links = deep_links
        router.register(ONBOARDING, self.on_typed_during_onboarding)

    def handlers(self) -> list[Handler]:
        return [
            CommandHandler("start", self.start),
            CommandHandler("language", self.choose_language),
            CommandHandler("subscribe", self.subscribe),
            CommandHandler("unsubscribe", self.unsubscribe),
            on_press(ConsentAnswer, self.on_consent, expired=_SEND_START),
            on_member_press(LanguageChoice, self.on_language),
            on_member_press(SubscribeOffer, self.on_subscribe_offer),
        ]

    async def start(self, update: Update, context: Context) -> None:
        """/start [payload]: welcome and consent for newcomers, a deep link for members."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        payload = _payload(context.args)
        language = self.runtime.translator.pick_language(user.language_code)
        member = await self.runtime.members.join(user.id, chat.id, language)
        context.remember(member)  # a deep link's entry reads the member who just joined
        texts = context.texts
        await self._refresh_menu(context.bot, member)
        if not member.has_consented:
            await self.runtime.flows.enter(
                user.id, ONBOARDING, OnboardingStep.CONSENT, OnboardingDraft(payload).as_draft()
            )
            await reply(update, self._welcome(texts), self._consent_keyboard(texts))
            return
        entry = self.deep_links.entry_for(payload) if payload else None
        if entry is not None:
            await entry(update, context)
            return
        await reply(update, texts("Welcome back! Send /help to see what you can do."))

    async def on_consent(
        self, update: Update, context: Context, query: CallbackQuery, button: ConsentAnswer
    ) -> None:
        """The 'I agree' / 'No, I don't agree' buttons under the privacy notice."""
        texts, member = context.texts, context.member
        if member is None:
            await answer(query, texts.plain(_SEND_START))
            return
        if member.has_consented:
            # A second tap, or the welcome of long ago: the answer was given. "No" now must not
            # erase a member (that is /forget, which asks first) nor "I agree" ask again.
            await answer(query)
            await close_buttons(query)
            return
        # The press is answered first: a reply may wait behind others a slow Telegram holds,
        # and Telegram refuses an answer 15 seconds after the press.
        await answer(query)
        if not button.agree:
            await self.runtime.members.decline(member.user_id)
            await reply(
                update,
                texts(
                    "All right: nothing about you is kept. Send /start if you change your mind."
                ),
            )
        else:
            await self._consent(update, member, texts)
        await close_buttons(query)

    async def _consent(self, update: Update, member: Member, texts: Texts) -> None:
        """Record the consent first; then ask for the language."""
        await self.runtime.members.consent(member.user_id)
        await reply(
            update,
            self._language_question(),
            self._language_keyboard(member.language, onboarding=True),
        )

    async def on_typed_during_onboarding(
        self, update: Update, context: Context, flow: Flow
    ) -> None:
        """Typing instead of pressing a button at the consent or language step: point to them."""
        user = update.effective_user
        if user is None:
            return
        texts = context.texts
        member = context.member
        if member is not None and member.has_consented:
            await reply(update, texts("Please choose a language with the buttons above."))
            return
        await reply(
            update,
            texts(
                "To go on, please press one of the buttons under the privacy notice above: "
                "“{agree}” or “{decline}”.",
                agree=texts.plain("I agree"),
                decline=texts.plain("No, I don't agree"),
            ),
        )

    @consented
    async def choose_language(self, update: Update, context: Context, member: Member) -> None:
        """/language: offer the two languages."""
        await reply(
            update,
            self._language_question(),
            self._language_keyboard(member.language, onboarding=False),
        )

    async def on_language(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: LanguageChoice,
        member: Member,
    ) -> None:
        """A language button: store it, answer in the new language."""
        texts = context.texts
        result = await self.runtime.members.set_language(member.user_id, button.language)
        if result.member is None:
            await answer(query, texts.plain("This button has expired. Please try again."))
            return
        await answer(query)  # first: what follows may wait behind replies Telegram holds
        member = result.member
        context.remember(member)  # the new language, for what follows (a deep link's entry)
        texts = context.texts
        await self._refresh_menu(context.bot, member)
        await show(
            query,
            texts(
                "From now on we will write to you in {language}.",
                language=texts.language_name(member.language),
            ),
        )
        if button.onboarding:
            await self._after_language(update, context, member, texts)

    async def _after_language(
        self, update: Update, context: Context, member: Member, texts: Texts
    ) -> None:
        """End of onboarding: follow a pending deep link, or offer to subscribe."""
        flow = await self.runtime.flows.current(member.user_id)
        if flow is None or flow.name not in (ONBOARDING, EXPIRED):
            # A second tap, or an old question: onboarding is over, and whatever the member
            # does now (a letter being written) is not ours to end or offer over. (A newcomer
            # who took longer than a draft lives finds it expired: the offer still comes.)
            return
        await self.runtime.flows.leave(member.user_id)
        draft = OnboardingDraft.of(flow) if flow.name == ONBOARDING else None
        payload = draft.next if draft is not None else None
        entry = self.deep_links.entry_for(payload) if payload is not None else None
        if entry is not None:
            await entry(update, context)
            return
        if member.subscribed:
            await reply(update, texts("You are all set. Send /help to see what you can do."))
            return
        await reply(
            update,
            texts("Would you like to get updates on the case of the two soldiers?"),
            keyboard(
                [
                    [(texts.plain("Yes, send me updates"), SubscribeOffer(1).pack())],
                    [(texts.plain("Not now"), SubscribeOffer(0).pack())],
                ]
            ),
        )

    async def on_subscribe_offer(
        self,
        update: Update,
        context: Context,
        query: CallbackQuery,
        button: SubscribeOffer,
        member: Member,
    ) -> None:
        """The answer to the subscription offer at the end of onboarding."""
        texts = context.texts
        await answer(query)  # first: a reply may wait behind others a slow Telegram holds
        if button.accept:
            await self.subscribe(update, context)
        elif member.subscribed:
            # An old offer pressed after subscribing: "Not now" does not unsubscribe, and
            # "you can subscribe any time" would be wrong. Say how to stop, once asked.
            await reply(
                update,
                texts("You already get updates. /unsubscribe stops them, /settings changes when."),
            )
        else:
            await reply(
                update,
                texts(
                    "All right. You can subscribe any time with /subscribe. "
                    "To write a letter to the soldiers, send /write."
                ),
            )
        await close_buttons(query)

    @consented
    async def subscribe(self, update: Update, context: Context, member: Member) -> None:
        """/subscribe: turn updates on."""
        texts = context.texts
        if not await self.runtime.members.subscribe(member.user_id):
            await reply(
                update,
                texts(
                    "You are already subscribed. /settings changes how and when you get updates."
                ),
            )
            return
        await reply(
            update,
            texts(
                "You are subscribed. You will get each update as soon as it "
                "is published; /settings can change that to a daily or weekly "
                "summary."
            ),
        )

    @consented
    async def unsubscribe(self, update: Update, context: Context, member: Member) -> None:
        """/unsubscribe: turn updates off."""
        texts = context.texts
        if not await self.runtime.members.unsubscribe(member.user_id):
            await reply(update, texts("You are not subscribed. Send /subscribe to get updates."))
            return
        await reply(
            update,
            texts(
                "You will not get updates any more. Your letters are not "
                "affected. Send /subscribe to come back."
            ),
        )

    def _welcome(self, texts: Texts) -> Html:
        days = self.runtime.config.letter_retention_days
        return Html(
            texts("<b>Welcome to Pyeonji (편지).</b>")
            + "\n\n"
            + texts(
                "Two North Korean soldiers held in Ukraine have said they want to go to South "
                "Korea. Here you can follow news of them and write them letters of "
                "encouragement."
            )
            + "\n\n"
            + texts(NEVER_ASKS)
            + "\n\n"
            + texts("<b>Your privacy</b>")
            + "\n"
            + texts(
                "We keep only your Telegram ID (a number every Telegram account has, not your "
                "phone number), your language, your settings (including your time zone, which "
                "hints where you live) and the letters you write: never your name, username or "
                "phone number. The server keeps which letters are yours, so it can tell you when "
                "they are handed over; coordinators read letters without ever seeing who wrote "
                "them. Letters handed over or not approved are deleted after {days} days. "
                "/mydata sends you a copy of your data and "
                "/forget erases it.",
                days=days,
            )
            + "\n\n"
            + texts("Do you agree?")
        )

    @staticmethod
    def _consent_keyboard(texts: Texts) -> InlineKeyboardMarkup:
        return keyboard(
            [
                [
                    (texts.plain("I agree"), ConsentAnswer(1).pack()),
                    (texts.plain("No, I don't agree"), ConsentAnswer(0).pack()),
                ]
            ]
        )

    def _language_question(self) -> Html:
        """Asked in both languages: the member may not read the one Telegram guessed."""
        questions = [
            self.runtime.translator.texts(code)(LANGUAGE_QUESTION) for code in LANGUAGE_NAMES
        ]
        return Html("\n".join(questions))

    @staticmethod
    def _language_keyboard(current: str, *, onboarding: bool) -> InlineKeyboardMarkup:
        return keyboard(
            [
                [
                    (
                        ("✓ " if code == current else "") + name,
                        LanguageChoice(code, int(onboarding)).pack(),
                    )
                    for code, name in LANGUAGE_NAMES.items()
                ]
            ]
        )

    async def _refresh_menu(self, bot: Bot, member: Member) -> None:
        """Privileged users see their commands in their own language."""
        standing = await self.runtime.roles.standing(member.user_id)
        if standing.is_privileged:
            await set_personal_menu(
                bot, self.runtime.translator, member.chat_id, member.language, standing
            )


def _payload(args: list[str] | None) -> str | None:
    if not args or not _PAYLOAD.match(args[0]):
        return None
    return args[0]

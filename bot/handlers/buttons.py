"""Typed button data: one frozen dataclass per button kind, packed within Telegram's 64 bytes.

A button that confirms or changes something carries what it was shown for (a draft, a letter, a
bundle, a settings view, a person), so a press on an old message can be told from a current one.
Callback data is attacker-controlled: `unpack` refuses anything a button of ours never sends.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from typing import Any, ClassVar, Self

from bot.models import DeliveryMode
from bot.services.alerts import AlertKind
from bot.services.broadcasts import Audience
from bot.services.letters import RejectReason

MAX_BYTES = 64  # Telegram's limit on callback_data
_SEPARATOR = ":"
_TEXT = re.compile(r"[A-Za-z0-9_/+.-]{1,40}")  # e.g. a time zone name; never the separator
_PREFIX = re.compile(r"[a-z]+(:[a-z]+(-[a-z]+)?)?")  # e.g. news:notify-on
_PREFIXES: set[str] = set()
_NUMBER = re.compile(r"0|[1-9][0-9]{0,17}")  # non-negative, no sign, no leading zeros


@dataclasses.dataclass(frozen=True)
class ButtonData:
    """Base of every button kind; subclasses set `prefix` and declare int/str/StrEnum fields.

    `Kind(...).pack()` is the callback_data; `Kind.unpack(data)` is the value or None;
    `Kind.pattern` is a regular expression for a CallbackQueryHandler that matches the kind's
    prefix (the handler then unpacks, so a forged value reaches its guard and is refused there).
    """

    prefix: ClassVar[str]
    pattern: ClassVar[str]
    _fields: ClassVar[tuple[tuple[str, Any], ...]]

    def __init_subclass__(cls, *, prefix: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _PREFIX.fullmatch(prefix) or prefix in _PREFIXES:
            raise ValueError(f"bad or repeated button prefix {prefix!r}")
        _PREFIXES.add(prefix)
        cls.prefix = prefix
        cls.pattern = "^" + re.escape(prefix) + "(:|$)"

    @classmethod
    def _field_types(cls) -> tuple[tuple[str, Any], ...]:
        cached = cls.__dict__.get("_fields")
        if cached is None:
            hints = typing.get_type_hints(cls)
            cached = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
            cls._fields = cached
        return cached

    def pack(self) -> str:
        """The callback_data; raises ValueError if a value cannot round-trip or is too long."""
        parts = [self.prefix]
        for name, kind in self._field_types():
            value = getattr(self, name)
            text = value.value if isinstance(value, enum.Enum) else str(value)
            if _parse(kind, text) != value:
                raise ValueError(f"{type(self).__name__}.{name}={value!r} cannot be packed")
            parts.append(text)
        data = _SEPARATOR.join(parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"{type(self).__name__} data is longer than {MAX_BYTES} bytes")
        return data

    @classmethod
    def unpack(cls, data: object) -> Self | None:
        """The button value behind `data`, or None for anything malformed or of another kind."""
        if not isinstance(data, str) or len(data.encode()) > MAX_BYTES:
            return None
        head = cls.prefix + _SEPARATOR
        fields = cls._field_types()
        if not fields:
            return cls() if data == cls.prefix else None
        if not data.startswith(head):
            return None
        parts = data[len(head) :].split(_SEPARATOR)
        if len(parts) != len(fields):
            return None
        values: dict[str, Any] = {}
        for (name, kind), text in zip(fields, parts, strict=True):
            value = _parse(kind, text)
            if value is None:
                return None
            values[name] = value
        return cls(**values)


def _parse(kind: Any, text: str) -> Any:
    if kind is int:
        return int(text) if _NUMBER.fullmatch(text) else None
    if kind is str:
        return text if _TEXT.fullmatch(text) else None
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(text)
        except ValueError:
            return None
    raise TypeError(f"button fields are int, str or an Enum, not {kind!r}")


# -- the button kinds -----------------------------------------------------------------------
# `draft` is the token of the flow row the button was shown for (see
# FlowService.enter): any later step, a new draft or leaving the flow makes it stale.


@dataclasses.dataclass(frozen=True)
class AnnounceAudience(ButtonData, prefix="ann:to"):
    draft: int
    audience: Audience


@dataclasses.dataclass(frozen=True)
class AnnounceSend(ButtonData, prefix="ann:send"):
    draft: int
    audience: Audience


@dataclasses.dataclass(frozen=True)
class AnnounceCancel(ButtonData, prefix="ann:cancel"):
    draft: int


@dataclasses.dataclass(frozen=True)
class StopBroadcast(ButtonData, prefix="ann:stop"):
    broadcast: int


@dataclasses.dataclass(frozen=True)
class PostPublish(ButtonData, prefix="post:publish"):
    draft: int


@dataclasses.dataclass(frozen=True)
class PostCancel(ButtonData, prefix="post:cancel"):
    draft: int


class PreviewAction(enum.StrEnum):
    SEND = "send"
    EDIT = "edit"  # shows the edit choices
    EDIT_TEXT = "text"
    EDIT_PEN = "pen"
    BACK = "back"
    CANCEL = "cancel"


@dataclasses.dataclass(frozen=True)
class WritePenName(ButtonData, prefix="write:pen"):
    draft: int
    suggestion: int


@dataclasses.dataclass(frozen=True)
class WritePreview(ButtonData, prefix="write:do"):
    draft: int
    action: PreviewAction


@dataclasses.dataclass(frozen=True)
class ForgetAnswer(ButtonData, prefix="forget"):
    """Erase (or keep) the data of `user`: the person the question was shown to."""

    user: int
    erase: int  # 1 erases, 0 keeps


class SettingsScreen(enum.StrEnum):
    HOURS = "hours"
    DAYS = "days"
    ZONES = "zones"
    TYPE_ZONE = "typezone"
    BACK = "back"
    DONE = "done"


@dataclasses.dataclass(frozen=True)
class SettingsOpen(ButtonData, prefix="set:open"):
    """A settings navigation button; `view` is the token of the /settings message it is on."""

    view: int
    screen: SettingsScreen


@dataclasses.dataclass(frozen=True)
class SettingsMode(ButtonData, prefix="set:mode"):
    view: int
    mode: DeliveryMode


@dataclasses.dataclass(frozen=True)
class SettingsHour(ButtonData, prefix="set:hour"):
    view: int
    hour: int


@dataclasses.dataclass(frozen=True)
class SettingsDay(ButtonData, prefix="set:day"):
    view: int
    weekday: int


@dataclasses.dataclass(frozen=True)
class SettingsZone(ButtonData, prefix="set:zone"):
    view: int
    zone: str


@dataclasses.dataclass(frozen=True)
class LetterWithdraw(ButtonData, prefix="letters:withdraw"):
    """Asks before withdrawing `letter`, which must be the presser's own and still pending."""

    letter: int


@dataclasses.dataclass(frozen=True)
class LetterConfirm(ButtonData, prefix="letters:confirm"):
    letter: int


@dataclasses.dataclass(frozen=True)
class LetterKeep(ButtonData, prefix="letters:keep"):
    pass


@dataclasses.dataclass(frozen=True)
class ReviewApprove(ButtonData, prefix="rev:ok"):
    """Decides `letter`; a letter already decided is never decided (or followed up) twice."""

    letter: int


@dataclasses.dataclass(frozen=True)
class ReviewReject(ButtonData, prefix="rev:no"):
    letter: int  # shows the reasons


@dataclasses.dataclass(frozen=True)
class ReviewReason(ButtonData, prefix="rev:why"):
    letter: int
    reason: RejectReason


@dataclasses.dataclass(frozen=True)
class ReviewOther(ButtonData, prefix="rev:other"):
    letter: int


@dataclasses.dataclass(frozen=True)
class ReviewBack(ButtonData, prefix="rev:back"):
    letter: int


@dataclasses.dataclass(frozen=True)
class ReviewSkip(ButtonData, prefix="rev:skip"):
    letter: int


@dataclasses.dataclass(frozen=True)
class TranslateSave(ButtonData, prefix="tr:save"):
    """Saves the translation previewed above it: `draft` (the preview step's token) tells it
    from a later preview's text, `letter` from another letter's."""

    draft: int
    letter: int


@dataclasses.dataclass(frozen=True)
class TranslateSkip(ButtonData, prefix="tr:skip"):
    letter: int  # the next letter after this one


@dataclasses.dataclass(frozen=True)
class TranslateCancel(ButtonData, prefix="tr:cancel"):
    pass


@dataclasses.dataclass(frozen=True)
class BundlePick(ButtonData, prefix="bun:pick"):
    bundle: int


@dataclasses.dataclass(frozen=True)
class BundleAgain(ButtonData, prefix="bun:again"):
    bundle: int


@dataclasses.dataclass(frozen=True)
class BundleTypeDay(ButtonData, prefix="bun:type"):
    bundle: int


@dataclasses.dataclass(frozen=True)
class BundleDelivered(ButtonData, prefix="bun:on"):
    """`bundle` was handed over on `day` (YYYY-MM-DD); a bundle is marked only once."""

    bundle: int
    day: str


@dataclasses.dataclass(frozen=True)
class BundleCancel(ButtonData, prefix="bun:cancel"):
    pass


@dataclasses.dataclass(frozen=True)
class ApprovalApprove(ButtonData, prefix="appr:yes"):
    request: int


@dataclasses.dataclass(frozen=True)
class ApprovalReject(ButtonData, prefix="appr:no"):
    request: int


def approval_buttons(request: int, approve: str, reject: str) -> list[list[tuple[str, str]]]:
    """The approval request's buttons, given to ApprovalService (which queues the request in
    the outbox and may not import handlers) by the composition root."""
    return [[(approve, ApprovalApprove(request).pack()), (reject, ApprovalReject(request).pack())]]


@dataclasses.dataclass(frozen=True)
class ConsentAnswer(ButtonData, prefix="start"):
    """The answer to the privacy notice; it is always about the presser's own record."""

    agree: int  # 1 agrees, 0 declines


@dataclasses.dataclass(frozen=True)
class LanguageChoice(ButtonData, prefix="lang"):
    language: str
    onboarding: int  # 1 during /start: the subscription offer follows


@dataclasses.dataclass(frozen=True)
class SubscribeOffer(ButtonData, prefix="sub"):
    accept: int


@dataclasses.dataclass(frozen=True)
class AlertMute(ButtonData, prefix="alerts:set"):
    """Sets (never toggles) whether the presser gets alerts of `kind`: a repeat does nothing."""

    kind: AlertKind
    mute: int  # 1 mutes, 0 alerts again


@dataclasses.dataclass(frozen=True)
class AnnounceSchedule(ButtonData, prefix="ann:when"):
    """Asks for the time to send the draft at."""

    draft: int
    audience: Audience


@dataclasses.dataclass(frozen=True)
class AnnounceScheduleConfirm(ButtonData, prefix="ann:at"):
    """Schedules the draft for `minute` (minutes since the epoch, UTC), as shown."""

    draft: int
    audience: Audience
    minute: int


# A late announcement's question is queued by bot/services/schedules.py (it may not import
# handlers), and /scheduled shows the same buttons; these decode exactly what it writes.
@dataclasses.dataclass(frozen=True)
class ScheduledSend(ButtonData, prefix="sched:send"):
    schedule: int


@dataclasses.dataclass(frozen=True)
class ScheduledCancel(ButtonData, prefix="sched:cancel"):
    schedule: int


@dataclasses.dataclass(frozen=True)
class AnswerPublish(ButtonData, prefix="answer:publish"):
    draft: int


@dataclasses.dataclass(frozen=True)
class AnswerCancel(ButtonData, prefix="answer:cancel"):
    draft: int


@dataclasses.dataclass(frozen=True)
class AnnounceWritersOf(ButtonData, prefix="ann:bundle"):
    """The audience: the writers of one handed-over bundle."""

    draft: int
    bundle: int


# The news watch's buttons (bot/handlers/news.py writes and reads them with NewsButton, which
# also refuses an id of 0); a kind each, so each has its own handler.
@dataclasses.dataclass(frozen=True)
class NewsAdd(ButtonData, prefix="news:add"):
    """Asks for the address of a feed to follow."""


@dataclasses.dataclass(frozen=True)
class NewsNotifyOn(ButtonData, prefix="news:notify-on"):
    pass


@dataclasses.dataclass(frozen=True)
class NewsNotifyOff(ButtonData, prefix="news:notify-off"):
    pass


@dataclasses.dataclass(frozen=True)
class NewsPause(ButtonData, prefix="news:pause"):
    feed: int


@dataclasses.dataclass(frozen=True)
class NewsResume(ButtonData, prefix="news:resume"):
    feed: int


@dataclasses.dataclass(frozen=True)
class NewsKeywords(ButtonData, prefix="news:keywords"):
    feed: int


@dataclasses.dataclass(frozen=True)
class NewsRemove(ButtonData, prefix="news:remove"):
    feed: int


@dataclasses.dataclass(frozen=True)
class NewsDraft(ButtonData, prefix="news:draft"):
    item: int


@dataclasses.dataclass(frozen=True)
class NewsDismiss(ButtonData, prefix="news:dismiss"):
    item: int


@dataclasses.dataclass(frozen=True)
class NewsLater(ButtonData, prefix="news:later"):
    item: int

"""Everything the handlers need, built once by the composition root and passed to each feature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.clock import Clock
from bot.config import Config
from bot.delivery import OutboxSender, SendBudget
from bot.delivery.budget import Timer
from bot.delivery.sender import MAX_IN_FLIGHT, SEND_READ_TIMEOUT
from bot.handlers.buttons import approval_buttons
from bot.i18n import Translator
from bot.services.alerts import AlertService
from bot.services.answers import AnswerService
from bot.services.approvals import ApprovalService
from bot.services.broadcasts import BroadcastService
from bot.services.charts import StatsChart
from bot.services.digests import DigestService
from bot.services.flows import FlowService
from bot.services.letters import LetterService
from bot.services.links import LinkChecker
from bot.services.members import MemberService
from bot.services.news import NewsService, NewsSettings
from bot.services.privacy import PrivacyService
from bot.services.retention import RetentionService
from bot.services.roles import RoleService
from bot.services.schedules import ScheduleService
from bot.storage.alerts import AlertRepository
from bot.storage.answers import AnswerRepository
from bot.storage.approvals import ApprovalRepository
from bot.storage.broadcasts import BroadcastRepository
from bot.storage.database import Database
from bot.storage.digests import DigestRepository
from bot.storage.feeds import FeedRepository
from bot.storage.flows import FlowRepository
from bot.storage.letters import LetterRepository
from bot.storage.members import MemberRepository
from bot.storage.outbox import OutboxRepository
from bot.storage.privacy import PrivacyRepository
from bot.storage.retention import RetentionRepository
from bot.storage.roles import AuditRepository, RoleRepository
from bot.storage.schedules import ScheduleRepository
from bot.storage.stats import StatsRepository
from bot.supervision import Backoff, Supervisor, default_backoff


@dataclass(frozen=True)
class Runtime:
    """The configuration, clock, database, catalogs and services of one running bot."""

    config: Config
    clock: Clock
    db: Database
    translator: Translator
    members: MemberService
    roles: RoleService
    flows: FlowService
    broadcasts: BroadcastService
    sender: OutboxSender
    privacy: PrivacyService
    retention: RetentionService
    approvals: ApprovalService
    letters: LetterService
    digests: DigestService
    supervisor: Supervisor
    news: NewsService
    alerts: AlertService
    schedules: ScheduleService
    answers: AnswerService
    charts: StatsChart
    budget: SendBudget  # every message sent or edited, by the Application's bot or the outbox


def build_runtime(
    config: Config,
    clock: Clock,
    translator: Translator,
    *,
    backoff: Backoff = default_backoff,
    busy_timeout_ms: int | None = None,
    send_read_timeout: float = SEND_READ_TIMEOUT,
    send_timer: Timer | None = None,
) -> Runtime:
    """Wire repositories into services; the database is opened later, in post_init.

    `backoff` (seconds before the n-th retry of a failing background task), the database's
    busy timeout, the outbox's read timeout and the send budget's timer are injected by
    tests, which must not wait.
    """
    if busy_timeout_ms is None:
        db = Database(config.database_path)
    else:
        db = Database(config.database_path, busy_timeout_ms=busy_timeout_ms)
    supervisor = Supervisor(config.database_path, backoff=backoff)
    budget = SendBudget(
        1000.0 if config.paid_broadcast else config.send_rate,
        hard_cap=not config.paid_broadcast,
        timer=send_timer,
    )
    sender = OutboxSender(
        OutboxRepository(db),
        _sender_bot(config, send_read_timeout),
        supervisor,
        budget,
        paid_broadcast=config.paid_broadcast,
    )
    broadcasts = BroadcastService(
        BroadcastRepository(db), translator, clock, config.default_timezone, sender.wake
    )
    schedules = ScheduleRepository(db)
    roles = RoleService(RoleRepository(db), AuditRepository(db), config.admin_ids, clock)
    answers = AnswerRepository(db)
    approvals = ApprovalService(
        ApprovalRepository(db),
        broadcasts,
        translator,
        clock,
        config.admin_ids,
        config.broadcast_approvals,
        sender.wake,
        LinkChecker(config.link_domains),
        schedules,
        answers,
        approval_buttons,
    )
    digests = DigestService(DigestRepository(db), translator, clock, sender.wake)
    return Runtime(
        config=config,
        clock=clock,
        db=db,
        translator=translator,
        members=MemberService(
            MemberRepository(db), clock, config.default_timezone, digests.reschedule
        ),
        roles=roles,
        flows=FlowService(FlowRepository(db), clock, timedelta(hours=config.draft_expiry_hours)),
        broadcasts=broadcasts,
        sender=sender,
        privacy=PrivacyService(PrivacyRepository(db), clock),
        retention=RetentionService(
            RetentionRepository(db),
            PrivacyRepository(db),
            clock,
            config.letter_retention_days,
            config.inactive_member_days,
        ),
        approvals=approvals,
        answers=AnswerService(answers, broadcasts, approvals, translator, clock, sender.wake),
        charts=StatsChart(StatsRepository(db), BroadcastRepository(db), translator),
        schedules=ScheduleService(
            schedules,
            broadcasts,
            approvals,
            translator,
            clock,
            sender.wake,
            may_announce=roles.may_announce,
        ),
        letters=LetterService(
            LetterRepository(db),
            translator,
            clock,
            per_day=config.letters_per_day,
            default_timezone=config.default_timezone,
            bundle_font=config.bundle_font,
            wake_sender=sender.wake,
        ),
        digests=digests,
        supervisor=supervisor,
        news=NewsService(
            FeedRepository(db),
            clock,
            NewsSettings(
                allow_hosts=config.news_allow_hosts,
                interval_seconds=config.news_interval_minutes * 60,
                timeout=config.news_timeout,
                max_bytes=config.news_max_bytes,
                concurrency=config.news_concurrency,
            ),
            translator,
            config.admin_ids,
            sender.wake,
        ),
        alerts=AlertService(AlertRepository(db), translator, clock, config.admin_ids, sender.wake),
        budget=budget,
    )


def _sender_bot(config: Config, read_timeout: float) -> Bot:
    """A Bot of the outbox's own: its connection pool is sized for broadcasts, and replies
    never queue behind a broadcast's requests for a connection.

    It has no rate limiter: the sender takes its slots from the shared budget itself (after
    replies) and handles RetryAfter for all rows.
    """
    pool = MAX_IN_FLIGHT + 8 if config.paid_broadcast else 32
    return Bot(
        config.bot_token,
        base_url=config.bot_api_url,
        base_file_url=config.bot_api_file_url,
        request=HTTPXRequest(
            connection_pool_size=pool, pool_timeout=30.0, read_timeout=read_timeout
        ),
    )

"""Everything the handlers need, built once by the composition root and passed to each feature."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.config import Config
from bot.i18n import Translator
from bot.services.conversations import ConversationService
from bot.services.members import MemberService
from bot.services.roles import RoleService
from bot.storage.conversations import ConversationRepository
from bot.storage.database import Database
from bot.storage.members import MemberRepository
from bot.storage.roles import AuditRepository, RoleRepository


@dataclass(frozen=True)
class Runtime:
    """The configuration, clock, database, catalogs and services of one running bot."""

    config: Config
    clock: Clock
    db: Database
    translator: Translator
    members: MemberService
    roles: RoleService
    conversations: ConversationService


def build_runtime(config: Config, clock: Clock, translator: Translator) -> Runtime:
    """Wire repositories into services; the database is opened later, in post_init."""
    db = Database(config.database_path)
    return Runtime(
        config=config,
        clock=clock,
        db=db,
        translator=translator,
        members=MemberService(MemberRepository(db), clock, config.default_timezone),
        roles=RoleService(RoleRepository(db), AuditRepository(db), config.admin_ids, clock),
        conversations=ConversationService(ConversationRepository(db), clock),
    )
